"""Pure derivations of read-model rows from a lead's state (no I/O)."""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any
from uuid import UUID

from events.state import LeadState, PartnerRequest


@cache
def state_schema() -> str:
    """A fingerprint of the shape of a state's JSON document: its fields, their types and defaults, as the
    state model's serialisation schema gives them. Stored beside each state (`lead_summaries.state_schema`):
    a document with this running code's fingerprint is exactly what `LeadState.model_dump_json` would
    write for it now, so a reader may answer from it without validating it; any other is validated (a
    newer model may, say, have a field an older document lacks). A change to how a field is written that
    leaves the schema alone (a custom serializer) must change STATE_DOCUMENT_REVISION."""
    schema = LeadState.model_json_schema(mode="serialization")
    text = json.dumps([STATE_DOCUMENT_REVISION, schema], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


STATE_DOCUMENT_REVISION = 1


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def summary_row(state: LeadState, investment_confirmed_at: datetime | None, position: int) -> dict[str, Any]:
    """The lead_summaries row of a lead: denormalised columns plus the full state as JSON text."""
    details, outcome = state.details, state.outcome
    return {
        "lead_id": str(state.lead_id),
        "code_name": state.code_name,
        "stage": state.stage.value,
        "owner_org": details.owner_org,
        "home_region": details.home_region.value,
        "province": _value(details.province),
        "municipality": details.municipality,
        "company_name": details.company.name,
        "company_stage": details.company_stage.value,
        "domains": [domain.value for domain in details.domains],
        "needed_by": details.needed_by,
        "signalled_at": state.signalled_at,
        "articulation_completed_at": state.articulation_completed_at,
        "decided_at": outcome.recorded_at if outcome else None,
        "closed_at": state.closed_at,
        "outcome_code": outcome.code.value if outcome else None,
        "outcome_region": _value(outcome.region) if outcome else None,
        "outcome_investment_eur": outcome.investment_eur if outcome else None,
        "outcome_jobs": outcome.jobs if outcome else None,
        "confirmed_investment_eur": state.confirmed_investment_eur,
        "investment_confirmed_at": investment_confirmed_at,
        "became_scale_up_at": state.became_scale_up_at,
        "demand_count": len(state.demands),
        "open_partner_requests": sum(1 for request in state.partner_requests if request.status == "open"),
        "last_event_at": state.last_activity_at,
        "version": state.version,
        "position": position,
        "state": state.model_dump_json(),
        "state_schema": state_schema(),
    }


def partner_request_rows(state: LeadState) -> list[dict[str, Any]]:
    """The partner_requests rows of a lead, one per request it has sent."""
    kinds = {demand.demand_id: demand.spec.kind for demand in state.demands}
    return [_request_row(state, request, kinds) for request in state.partner_requests]


def _request_row(state: LeadState, request: PartnerRequest, kinds: Mapping[UUID, str]) -> dict[str, Any]:
    return {
        "request_id": str(request.request_id),
        "lead_id": str(state.lead_id),
        "partner_id": request.partner_id,
        "status": request.status,
        "question": request.question,
        "due_date": request.due_date,
        "sent_at": request.sent_at,
        "answered_at": request.answered_at,
        "answer": request.answer,
        "demand_kinds": sorted({kinds[d] for d in request.demand_ids if d in kinds}),
        "code_name": state.code_name,
        "home_region": state.details.home_region.value,
        "company_name": state.details.company.name if request.partner_id in state.disclosed_to else None,
        "reminders_sent": request.reminders_sent,
        "escalated": request.escalated,
    }


def demand_rows(state: LeadState) -> list[dict[str, Any]]:
    """The demand_summaries rows of a lead: each demand's kind and status, by the lead's home region."""
    return [
        {
            "demand_id": str(demand.demand_id),
            "lead_id": str(state.lead_id),
            "kind": demand.spec.kind,
            "status": demand.status.value,
            "home_region": state.details.home_region.value,
            "articulated_at": demand.articulated_at,
        }
        for demand in state.demands
    ]
