"""Synthetic but valid lead histories: what the taskforce's log looks like after years of use.

Every lead starts with LeadSignalled and its contact persons, and follows the lead's rules to a fate (still
signalled, articulating, brokering, on hold, decided or closed); notes, demand revisions and amendments
fill its history up to the number of events asked for. A contact person's data is sealed under a key of
their own, as the API seals it; the key travels with the event for the bulk loader to put in the vault
(`person_keys`), and a few persons are erased again. Leads overlap in time: `active` of them have an open
history at once, and their events interleave in the log as they would in real use. Deterministic for a
given seed.
"""

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from events import model as ev
from events.codenames import code_name_for
from events.demands import CapitalSpec, EnergySpec, FinancingSpec, SpaceSpec, TalentSpec
from events.details import Company, LeadDetails, LeadDetailsChanges
from events.reference import PROVINCE_REGION, CompanyStage, Domain, OutcomeCode, Province, Region
from services.persons import KEY_BYTES, NONCE_BYTES, PersonalData, sealed_with

LOG_START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
LOG_END = datetime(2026, 10, 30, 17, 0, tzinfo=UTC)

ROMS_BY_REGION = {
    Region.NOORD: ["nom"],
    Region.OOST: ["oost-nl"],
    Region.MIDDEN: ["rom-utrecht-region", "horizon-flevoland"],
    Region.WEST: ["rom-inwest", "innovationquarter", "impuls-zeeland"],
    Region.ZUID: ["bom", "liof"],
}
PARTNERS = ["provincie-gelderland", "provincie-noord-brabant", "tennet", "enexis", "liander", "invest-nl"]
MUNICIPALITIES = ["Eindhoven", "Enschede", "Groningen", "Delft", "Nijmegen", "Utrecht", "Almere", "Venlo"]
NOTES = [
    "Call with the CFO: the cleanroom timeline slips by a quarter.",
    "Site visit planned with the province next month.",
    "Grid operator confirms congestion until 2029 on the current location.",
    "Company shares the updated business case; capex estimate unchanged.",
    "Investor round closed; expansion plans accelerate.",
]
JOB_TITLES = ["CEO", "CFO", "CTO", "COO", "Head of Operations"]
ERASED_SHARE = 0.05  # of leads with contacts: one person asked to be forgotten
FATES = ["signalled", "articulating", "brokering", "on_hold", "decided", "closed"]
FATE_WEIGHTS = [8, 12, 40, 5, 15, 20]
OUTCOMES = [
    OutcomeCode.REALISED_OTHER_REGION,
    OutcomeCode.REALISED_OWN_REGION,
    OutcomeCode.LEFT_ABROAD,
    OutcomeCode.NO_PROPOSITION,
    OutcomeCode.WITHDRAWN,
]
OUTCOME_WEIGHTS = [30, 30, 15, 10, 15]


@dataclass(frozen=True, slots=True)
class SyntheticEvent:
    """An event ready for the bulk loader, which adds the position and the hashes."""

    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    person_key: bytes | None = None  # a ContactPersonAdded's key, for the vault


def synthetic_log(
    *, leads: int, events: int, active: int = 2000, seed: int = 7, end: datetime = LOG_END
) -> Iterator[SyntheticEvent]:
    """`events` events of `leads` leads, interleaved in log order, recorded between LOG_START and `end`."""
    rng = random.Random(seed)
    counts = event_counts(rng, leads, events)
    step = (end - LOG_START) / max(events, 1)
    pending = iter(counts)
    window: list[Iterator[SyntheticEvent]] = []
    clock = _Clock(LOG_START, step)
    for count in pending:
        window.append(_lead(rng, count, clock))
        if len(window) >= active:
            break
    while window:
        index = rng.randrange(len(window))
        event = next(window[index], None)
        if event is not None:
            yield event
            continue
        window[index] = window[-1]
        window.pop()
        following = next(pending, None)
        if following is not None:
            window.append(_lead(rng, following, clock))


def one_lead(events: int, *, seed: int = 11, end: datetime = LOG_END) -> list[SyntheticEvent]:
    """A single lead in brokering with exactly `events` events, recorded before `end`."""
    rng = random.Random(seed)
    clock = _Clock(end - timedelta(days=200), timedelta(days=200) / max(events, 1))
    return list(_lead(rng, events, clock, fate="brokering"))


def event_counts(rng: random.Random, leads: int, events: int) -> list[int]:
    """How many events each lead gets: spread around the mean, at least one each, summing to `events`."""
    if events < leads:
        raise ValueError("every lead needs at least its LeadSignalled")
    mean = events / leads
    counts = [max(1, round(rng.uniform(0.3, 1.7) * mean)) for _ in range(leads)]
    difference = events - sum(counts)
    index = 0
    while difference:
        change = 1 if difference > 0 else -1
        if counts[index % leads] + change >= 1:
            counts[index % leads] += change
            difference -= change
        index += 1
    return counts


class _Clock:
    """Record time that advances one step per event taken from it."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.now = start
        self.step = step

    def tick(self) -> datetime:
        self.now += self.step
        return self.now


def _lead(rng: random.Random, count: int, clock: _Clock, fate: str | None = None) -> Iterator[SyntheticEvent]:
    lead_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    stream_id = f"lead-{lead_id}"
    history = _History(rng, lead_id, fate or rng.choices(FATES, FATE_WEIGHTS)[0])
    actor = {"sub": f"accountmanager@{history.owner_org}", "org": history.owner_org, "role": "taskforce"}
    for version, (event_type, data) in enumerate(history.events(count), start=1):
        person_key = history.keys.get(data["person_id"]) if event_type == "ContactPersonAdded" else None
        recorded_at = clock.tick()
        # Most steps are recorded as they happen; some are back-dated to a meeting days before.
        backdated = version > 1 and rng.random() < 0.2
        occurred_at = recorded_at - timedelta(hours=rng.randint(1, 72)) if backdated else recorded_at
        command_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        metadata = {
            "actor": actor,
            "command_id": command_id,
            "correlation_id": command_id,
            "causation_id": command_id,
            "reason": None,
        }
        event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        yield SyntheticEvent(
            stream_id, version, event_id, event_type, data, metadata, occurred_at, recorded_at, person_key
        )


class _History:
    """One lead's events: a skeleton that follows the rules to its fate, filled up with everyday work."""

    def __init__(self, rng: random.Random, lead_id: uuid.UUID, fate: str) -> None:
        self.rng = rng
        self.lead_id = lead_id
        self.fate = fate
        self.province = rng.choice(list(Province))
        self.region = PROVINCE_REGION[self.province]
        self.owner_org = rng.choice(ROMS_BY_REGION[self.region])
        self.demands: list[tuple[str, dict[str, Any]]] = []
        self.keys: dict[str, bytes] = {}  # person id → key

    def events(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        head, tail = self._skeleton()
        if count <= len(head):
            return head[:count]
        fillers = [self._filler() for _ in range(max(count - len(head) - len(tail), 0))]
        return [*head, *fillers, *tail][:count]

    def _skeleton(self) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
        head = [_event(self._signalled())]
        contacts = self.rng.randint(0, 1) if self.fate == "signalled" else self.rng.randint(1, 3)
        head += [_event(self._contact(number)) for number in range(contacts)]
        erasure: list[tuple[str, dict[str, Any]]] = []
        if self.keys and self.rng.random() < ERASED_SHARE:
            erased = uuid.UUID(next(iter(self.keys)))
            erasure.append(_event(ev.PersonalDataErased(person_id=erased, reason="asked to be forgotten")))
        if self.fate == "signalled":
            return head, erasure
        head += [_event(self._demand()) for _ in range(self.rng.randint(1, 4))]
        if self.fate == "articulating":
            return head, erasure
        head.append(_event(ev.ArticulationCompleted(demand_count=len(self.demands))))
        head += self._brokering()
        tail: list[tuple[str, dict[str, Any]]] = []
        if self.fate == "on_hold":
            tail.append(_event(ev.LeadPutOnHold(reason="company reorganises", from_stage="brokering")))
        if self.fate in ("decided", "closed"):
            tail += self._decided()
        if self.fate == "closed":
            tail.append(_event(ev.LeadClosed(reason="aftercare done")))
        return head, [*erasure, *tail]

    def _signalled(self) -> ev.LeadSignalled:
        rng = self.rng
        details = LeadDetails(
            company=Company(
                name=f"Deeptech {self.lead_id.hex[:8]} B.V.", kvk_number=f"{rng.randrange(10**8):08d}"
            ),
            owner_org=self.owner_org,
            home_region=self.region,
            province=self.province,
            municipality=rng.choice(MUNICIPALITIES),
            domains=rng.sample(list(Domain), rng.randint(1, 3)),
            company_stage=rng.choice([CompanyStage.STARTUP, CompanyStage.SCALE_UP]),
            life_phase=rng.randint(1, 4),
            summary="Needs a pilot production line and a cleanroom within three years.",
            needed_by=date(2027 + rng.randint(0, 2), rng.randint(1, 12), 1),
            investment_at_stake_eur=float(rng.randrange(1, 200) * 1_000_000),
            jobs_at_stake=rng.randrange(10, 500),
            foreign_alternative=rng.choice(["DE", "BE", "US", None]),
        )
        return ev.LeadSignalled(lead_id=self.lead_id, code_name=code_name_for(self.lead_id), details=details)

    def _contact(self, number: int) -> ev.ContactPersonAdded:
        """A contact person at the company, sealed under a new key of their own."""
        rng = self.rng
        person_id = self._id()
        key = rng.randbytes(KEY_BYTES)
        self.keys[str(person_id)] = key
        data = PersonalData(
            name=f"Contact {number + 1} of {self.lead_id.hex[:8]}",
            email=f"contact{number + 1}@deeptech-{self.lead_id.hex[:8]}.nl",
            phone=f"+31 6 {rng.randrange(10**8):08d}",
            job_title=rng.choice(JOB_TITLES),
        )
        sealed = sealed_with(key, person_id, data, nonce=rng.randbytes(NONCE_BYTES))
        return ev.ContactPersonAdded(person_id=person_id, sealed=sealed)

    def _demand(self) -> ev.DemandArticulated:
        rng = self.rng
        spec = rng.choice(
            [
                SpaceSpec(floor_area_m2=rng.randrange(500, 20_000), cleanroom_iso_class=rng.randint(4, 8)),
                CapitalSpec(capex_eur=float(rng.randrange(1, 80) * 1_000_000)),
                TalentSpec(fte_mbo=rng.randrange(5, 80), fte_hbo=rng.randrange(5, 80)),
                EnergySpec(grid_capacity_mva=rng.randrange(1, 40), current_grid_operator="enexis"),
                FinancingSpec(amount_eur=float(rng.randrange(1, 50) * 1_000_000)),
            ]
        )
        demand = ev.DemandArticulated(demand_id=self._id(), spec=spec, description="articulated with the CFO")
        self.demands.append((str(demand.demand_id), demand.to_data()["spec"]))
        return demand

    def _brokering(self) -> list[tuple[str, dict[str, Any]]]:
        rng = self.rng
        demand_ids = [uuid.UUID(demand_id) for demand_id, _ in self.demands]
        self.options = [
            ev.LocationOptionProposed(
                option_id=self._id(),
                region=rng.choice(list(Region)),
                municipality=rng.choice(MUNICIPALITIES),
                site="Science park, plot 4",
                demand_ids=demand_ids[:1],
            )
            for _ in range(rng.randint(1, 2))
        ]
        steps: list[ev.DomainEvent] = list(self.options)
        for _ in range(rng.randint(1, 3)):
            request = ev.PartnerRequestSent(
                request_id=self._id(),
                partner_id=rng.choice(PARTNERS),
                demand_ids=demand_ids[:1],
                question="Is there room for this demand on a site you manage?",
                due_date=date(2026, rng.randint(1, 12), 15),
            )
            steps.append(request)
            if rng.random() < 0.6:
                steps.append(
                    ev.PartnerResponded(
                        request_id=request.request_id,
                        partner_id=request.partner_id,
                        answer=rng.choice(["offer", "decline"]),
                        details={"site": "Business park Noord"},
                    )
                )
        first = demand_ids[0]
        steps.append(ev.DemandStatusChanged(demand_id=first, from_status="open", to_status="matched"))
        return [_event(step) for step in steps]

    def _decided(self) -> list[tuple[str, dict[str, Any]]]:
        rng = self.rng
        steps: list[ev.DomainEvent] = []
        if rng.random() < 0.3:
            steps.append(
                ev.CompanyStageChanged(from_stage=CompanyStage.STARTUP, to_stage=CompanyStage.SCALE_UP)
            )
        steps.append(ev.CompanyDecisionRecorded(option_id=self.options[0].option_id))
        code = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
        realised = code in (OutcomeCode.REALISED_OTHER_REGION, OutcomeCode.REALISED_OWN_REGION)
        region = self.region
        if code is OutcomeCode.REALISED_OTHER_REGION:
            region = rng.choice([other for other in Region if other is not self.region])
        steps.append(
            ev.OutcomeRecorded(
                code=code,
                region=region if realised else None,
                country="DE" if code is OutcomeCode.LEFT_ABROAD else None,
                investment_eur=float(rng.randrange(1, 100) * 1_000_000) if realised else None,
                jobs=rng.randrange(10, 300) if realised else None,
            )
        )
        if realised and rng.random() < 0.5:
            steps.append(ev.InvestmentConfirmed(amount_eur=float(rng.randrange(1, 100) * 1_000_000)))
        return [_event(step) for step in steps]

    def _filler(self) -> tuple[str, dict[str, Any]]:
        """Everyday work: mostly notes, some demand revisions and amendments (copied templates: fast)."""
        draw = self.rng.random()
        if draw < 0.25 and self.demands:
            demand_id, spec = self.rng.choice(self.demands)
            return "DemandRevised", {**_REVISED, "demand_id": demand_id, "spec": spec}
        if draw < 0.35:
            return "LeadDetailsAmended", {
                "changes": {**_AMENDED, "jobs_at_stake": self.rng.randrange(10, 500)}
            }
        return "NoteAdded", {"note_id": str(self._id()), "text": self.rng.choice(NOTES)}

    def _id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def _event(event: ev.DomainEvent) -> tuple[str, dict[str, Any]]:
    return event.type, event.to_data()


# Templates with every field the domain model writes, so copies look exactly like real events.
_REVISED = ev.DemandRevised(
    demand_id=uuid.UUID(int=0), spec=SpaceSpec(), description="revised after the site visit"
).to_data()
_AMENDED = LeadDetailsChanges(summary="Scope widened to a second production line.").model_dump(mode="json")
