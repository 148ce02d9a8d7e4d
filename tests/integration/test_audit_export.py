"""Case-file export: CloudEvents JSON lines that verify offline with only the file, and fail when altered."""

import asyncio
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import services.audit.verify_export as verify_export_module
from events import commands as cmd
from events.hashing import envelope_hash
from services.audit.verify_export import verify_case_file
from services.auth import Role
from services.cli_audit import audit_app
from tests.integration.audit_support import AuditApi, LeadWriter


@pytest.fixture
async def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AuditApi]:
    monkeypatch.setenv("GROEIRUIMTE_DATABASE_URL", database_url)
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def _exported(api: AuditApi) -> tuple[LeadWriter, str]:
    """Lead A (Fotonica) interleaved with lead B (Geheim BV) in the log; A's case file as exported."""
    a = await LeadWriter(api.store).signal("2026-02-01T09:00:00Z", investment_at_stake_eur=12_500_000.5)
    b = await LeadWriter(api.store).signal("2026-02-02T09:00:00Z", company={"name": "Geheim BV"})
    await a.start_case("2026-02-10T09:00:00Z")
    await b.do(cmd.AddNote(note_id=uuid.uuid4(), text="only for B"), "2026-02-11T09:00:00Z")
    await a.do(cmd.AddNote(note_id=uuid.uuid4(), text="Büro in Köln — €"), "2026-02-12T09:00:00Z")
    await b.do(cmd.AddNote(note_id=uuid.uuid4(), text="after A"), "2026-02-13T09:00:00Z")
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        response = await auditor.get(f"/v1/leads/{a.lead_id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert f'filename="lead-{a.lead_id}.casefile.jsonl"' in response.headers["content-disposition"]
    return a, response.text


def _verify_offline(path: Path) -> subprocess.CompletedProcess[str]:
    """The verifier copied on its own and run isolated: no site-packages, no project on the path."""
    script = path.parent / "verify_export.py"
    shutil.copy(verify_export_module.__file__, script)
    return subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(path)], capture_output=True, text=True, cwd=path.parent
    )


async def test_exported_case_file_verifies_offline_with_only_the_file(api: AuditApi, tmp_path: Path) -> None:
    _, content = await _exported(api)
    records = [json.loads(line) for line in content.splitlines()]
    manifest, lines = records[0], records[1:]
    assert all(r["specversion"] == "1.0" and r["id"] and r["source"] and r["type"] for r in records)
    assert manifest["data"]["head"] == {"position": 7, "hash": (await api.store.read_all())[-1].hash}
    assert [r["position"] for r in lines] == [1, 2, 3, 4, 5, 6, 7]
    shown = [(r["position"], r["type"]) for r in lines if r["type"] != "nl.groeiruimte.chain.link"]
    assert shown == [
        (1, "nl.groeiruimte.lead.LeadSignalled"),
        (3, "nl.groeiruimte.lead.DemandArticulated"),
        (4, "nl.groeiruimte.lead.ArticulationCompleted"),
        (6, "nl.groeiruimte.lead.NoteAdded"),
    ]
    assert "Geheim BV" not in content and "only for B" not in content
    case_file = tmp_path / "case.jsonl"
    case_file.write_text(content, encoding="utf-8")

    result = await asyncio.to_thread(_verify_offline, case_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 4 events verified, 3 other positions linked")
    module = await asyncio.to_thread(_verify_as_module, case_file)
    assert module.returncode == 0, module.stderr


def _verify_as_module(path: Path) -> subprocess.CompletedProcess[str]:
    """The README's usage line, from the repository."""
    command = [sys.executable, "-m", "services.audit.verify_export", str(path)]
    return subprocess.run(command, capture_output=True, text=True)


def _lines(content: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.splitlines()]


def _edit_data(records: list[dict[str, Any]]) -> None:
    records[3]["data"]["spec"]["floor_area_m2"] = 40  # position 3: A's demand


def _drop_event(records: list[dict[str, Any]]) -> None:
    del records[4]  # position 4: A's ArticulationCompleted


def _hide_event_as_link(records: list[dict[str, Any]]) -> None:
    keep = {"specversion", "id", "source", "position", "prevhash", "hash"}
    records[4] = {**{k: v for k, v in records[4].items() if k in keep}, "type": "nl.groeiruimte.chain.link"}


def _forge_link(records: list[dict[str, Any]]) -> None:
    records[5]["hash"] = "f" * 64  # position 5: B's note, shown only as a link


def _edit_metadata(records: list[dict[str, Any]]) -> None:
    metadata = json.loads(records[1]["eventmetadata"])
    records[1]["eventmetadata"] = json.dumps({**metadata, "reason": "added afterwards"})


ALTERATIONS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], int, str]] = {
    "a value in an event changed": (_edit_data, 3, "hash does not match"),
    "an event removed": (_drop_event, 4, "missing"),
    "an event disguised as another lead's": (_hide_event_as_link, 6, "events are missing"),
    "a link forged": (_forge_link, 6, "prevhash"),
    "the reason added afterwards": (_edit_metadata, 1, "hash does not match"),
}


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
async def test_altered_case_file_fails_at_the_altered_position(
    api: AuditApi, tmp_path: Path, alteration: str
) -> None:
    _, content = await _exported(api)
    alter, position, problem = ALTERATIONS[alteration]
    records = _lines(content)
    alter(records)
    verdict = verify_case_file(json.dumps(record) for record in records)
    assert (verdict.ok, verdict.first_broken_position) == (False, position)
    assert problem in (verdict.problem or "")
    if alteration == "a value in an event changed":
        case_file = tmp_path / "altered.jsonl"
        case_file.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        result = await asyncio.to_thread(_verify_offline, case_file)
        assert result.returncode == 1
        assert result.stdout.startswith("BROKEN at position 3: hash does not match")


async def test_offline_hash_is_the_event_logs_hash(api: AuditApi) -> None:
    a, content = await _exported(api)
    stored = (await api.store.load_stream(a.stream_id))[-1]
    record = next(r for r in _lines(content) if r.get("id") == str(stored.event_id))
    expected = envelope_hash(
        position=stored.position,
        event_id=str(stored.event_id),
        stream_id=stored.stream_id,
        stream_version=stored.stream_version,
        event_type=stored.type,
        schema_version=stored.schema_version,
        occurred_at=stored.occurred_at,
        recorded_at=stored.recorded_at,
        data=stored.data,
        metadata=stored.metadata.model_dump(mode="json"),
        prev_hash=stored.prev_hash,
    )
    assert verify_export_module.envelope_hash(record) == expected == stored.hash


async def test_cli_export_writes_a_verifiable_file_and_logs_the_read(api: AuditApi, tmp_path: Path) -> None:
    a, _ = await _exported(api)
    out = tmp_path / "cli.jsonl"
    arguments = ["export", str(a.lead_id), "--out", str(out)]
    result = await asyncio.to_thread(CliRunner().invoke, audit_app, arguments)
    assert result.exit_code == 0, result.output
    assert (await asyncio.to_thread(_verify_offline, out)).returncode == 0
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        log = (await auditor.get("/v1/audit/access-log", params={"lead_id": str(a.lead_id)})).json()
    last = log["results"][-1]
    assert (last["role"], last["endpoint"], last["processing_activity"]) == (
        "operator",
        "groeiruimte audit export",
        "verantwoording",
    )
    missing = await asyncio.to_thread(CliRunner().invoke, audit_app, ["export", str(uuid.uuid4())])
    assert missing.exit_code == 2


async def test_only_readers_of_the_full_lead_export_it(api: AuditApi) -> None:
    a, _ = await _exported(api)
    async with api.as_(Role.TASKFORCE, "liof") as stranger, api.as_(Role.TASKFORCE, "bom") as owner:
        assert (await stranger.get(f"/v1/leads/{a.lead_id}/export")).status_code == 403
        assert (await owner.get(f"/v1/leads/{a.lead_id}/export")).status_code == 200
