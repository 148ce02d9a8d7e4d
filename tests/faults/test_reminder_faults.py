"""Reminders under faults: a worker killed while reminders fall due, and the API down meanwhile.

The partner request is recorded after the fact (back-dated), so its three reminders fall due at once;
the worker is killed as they start going out.
"""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.faults.conftest import FaultStack, eventually

pytestmark = pytest.mark.e2e
PARTNER_ADDRESS = "contact@provincie-gelderland.example"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def subjects(self, code_name: str) -> list[str]:
        """Subjects of the mails the partner received about this lead, in order."""
        mails = [m for m in self.messages if m["To"] == PARTNER_ADDRESS and code_name in m["Subject"]]
        return sorted(str(m["Subject"]) for m in mails)

    def reminders(self, code_name: str) -> list[str]:
        return [subject for subject in self.subjects(code_name) if subject.startswith("Herinnering")]


@pytest.fixture(scope="module")
def inbox(stack: FaultStack) -> Iterator[Inbox]:
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=stack.smtp_port)
    controller.start()
    yield received
    controller.stop()


async def _lead_in_brokering(api: httpx.AsyncClient) -> tuple[str, str]:
    lead = {"company": {"name": "Herinnering Test B.V."}, "owner_org": "bom", "home_region": "zuid"}
    answer = (await api.post("/v1/leads", json=lead)).json()
    lead_id = answer["lead_id"]
    await api.post(f"/v1/leads/{lead_id}/demands", json={"kind": "space", "floor_area_m2": 1000})
    assert (await api.post(f"/v1/leads/{lead_id}/articulation/complete")).status_code == 200
    return lead_id, answer["code_name"]


async def _overdue_request(api: httpx.AsyncClient, lead_id: str) -> None:
    """Sent (back-dated) five weeks ago with a due date four weeks ago: three reminders are due now."""
    now = datetime.now(UTC)
    body = {
        "partner_id": "provincie-gelderland",
        "question": "Room for a pilot line?",
        "occurred_at": (now - timedelta(days=35)).isoformat(),
        "due_date": (now - timedelta(days=28)).date().isoformat(),
    }
    assert (await api.post(f"/v1/leads/{lead_id}/partner-requests", json=body)).status_code == 201


async def _reminder_numbers(stack: FaultStack, lead_id: str) -> list[int]:
    async with stack.connection() as db:
        rows = await db.fetch(
            "SELECT data::jsonb ->> 'reminder_number' AS number FROM events"
            " WHERE stream_id = $1 AND type = 'PartnerReminderSent' ORDER BY position",
            f"lead-{lead_id}",
        )
    return [int(row["number"]) for row in rows]


async def _three_reminders_once_each(stack: FaultStack, inbox: Inbox, lead_id: str, code_name: str) -> None:
    async def all_three() -> bool:
        return len(await _reminder_numbers(stack, lead_id)) >= 3 and len(inbox.reminders(code_name)) >= 3

    # A delivery cut off by the kill is retried once its 30 s start-to-close timeout has passed.
    await eventually(all_three, 100, "three reminders are recorded and mailed")
    await asyncio.sleep(2)  # anything sent twice would arrive now
    assert await _reminder_numbers(stack, lead_id) == [1, 2, 3]
    assert [s.split(":")[0] for s in inbox.reminders(code_name)] == [
        "Herinnering 1",
        "Herinnering 2",
        "Herinnering 3",
    ]
    assert [s for s in inbox.subjects(code_name) if s.startswith("Nieuw verzoek")] == [
        f"Nieuw verzoek van de taskforce: {code_name}"
    ]


async def test_worker_killed_while_reminders_fall_due_sends_each_exactly_once(
    stack: FaultStack, inbox: Inbox, restore: None
) -> None:
    async with stack.client() as api:
        lead_id, code_name = await _lead_in_brokering(api)
        await _overdue_request(api, lead_id)
        stack.kill("worker")  # `kill -9` as the reminders start going out
    stack.start("worker")
    await _three_reminders_once_each(stack, inbox, lead_id, code_name)


async def test_reminders_go_out_while_the_api_is_down(stack: FaultStack, inbox: Inbox, restore: None) -> None:
    async with stack.client() as api:
        lead_id, code_name = await _lead_in_brokering(api)
        await _overdue_request(api, lead_id)
        stack.kill("worker")
    stack.stop("api")
    stack.start("worker")  # reminders now fall due with no API process running
    await _three_reminders_once_each(stack, inbox, lead_id, code_name)
    assert not stack.running("api")
