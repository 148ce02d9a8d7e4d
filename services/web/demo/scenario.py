"""The demo's storylines: for each invented company, the API calls that take its lead where it ends up.

Steps are back-dated (`occurred_at`) over the programme so far, so the dashboard and the finished
half-years have history. Requests that get answered are given a due date after today: the workflow's
reminder timers run on real time and would otherwise remind and escalate at once.
"""

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from services.web.demo.catalogue import GRID_OPERATORS, Company, demand_specs, invent

# storyline -> (how many, earliest and latest signalling as a share of the programme so far)
STORYLINES: dict[str, tuple[int, float, float]] = {
    "realised_other": (8, 0.02, 0.55), "realised_own": (3, 0.05, 0.6), "left_abroad": (2, 0.1, 0.6),
    "no_proposition": (2, 0.1, 0.6), "withdrawn": (1, 0.2, 0.7), "on_hold": (2, 0.3, 0.8),
    "brokering": (9, 0.35, 0.88), "articulating": (5, 0.72, 0.93), "signalled": (4, 0.9, 0.98),
}  # fmt: skip
OTHER_REGION = {"noord": "oost", "oost": "noord", "midden": "oost", "west": "zuid", "zuid": "oost"}
REGION_PROVINCE = {"noord": "groningen", "oost": "gelderland", "midden": "flevoland", "west": "zuid-holland",
                   "zuid": "limburg"}  # fmt: skip
REGION_SITE = {"noord": "Zernike Campus", "oost": "Novio Tech Campus",
               "midden": "Lelystad Airport Businesspark", "west": "Dutch Optics Centre",
               "zuid": "Brightlands Chemelot Campus"}  # fmt: skip


@dataclass(frozen=True)
class Step:
    at: datetime
    actor: str  # "owner" or "partner:<org>"
    method: str
    path: str  # "{lead}", "{demand0}", "{option0}", "{request0}" … are filled in by the runner
    body: dict[str, Any]
    capture: str | None = None


@dataclass
class LeadPlan:
    company: Company
    storyline: str
    steps: list[Step] = field(default_factory=list)


class _Clock:
    """Moments of one lead, moving forward, never later than yesterday."""

    def __init__(self, rng: random.Random, start: datetime, now: datetime) -> None:
        self.rng, self.moment, self.latest = rng, start, now - timedelta(days=1)

    def after(self, low: int, high: int) -> datetime:
        step = timedelta(days=self.rng.randint(low, high), hours=self.rng.randint(0, 6))
        self.moment = min(self.moment + step, self.latest)
        return self.moment


class _Builder:
    def __init__(self, plan: LeadPlan, clock: _Clock, today: date) -> None:
        self.plan, self.clock, self.today, self.rng = plan, clock, today, clock.rng
        self.demands = 0
        self.requests = 0

    def add(self, at: datetime, method: str, path: str, body: dict[str, Any], capture: str | None = None,
            actor: str = "owner") -> None:  # fmt: skip
        stamped = {**body, "occurred_at": at.isoformat().replace("+00:00", "Z")}
        self.plan.steps.append(Step(at, actor, method, path, stamped, capture))

    def demand(self, spec: dict[str, Any]) -> None:
        self.add(self.clock.after(5, 40), "POST", "/v1/leads/{lead}/demands", spec, f"demand{self.demands}")
        self.demands += 1

    def status(self, index: int, *statuses: str) -> None:
        for status in statuses:
            self.add(
                self.clock.after(3, 20),
                "PUT",
                f"/v1/leads/{{lead}}/demands/{{demand{index}}}",
                {"status": status},
            )

    def request(self, partner: str, question: str, answer: str | None, overdue: bool = False) -> None:
        """A request; answered (offer/decline) by the partner itself, or left open (overdue or not)."""
        # An overdue request must have been sent before its due date; a lead that moved on too late gets
        # a request that is still running instead.
        overdue = overdue and self.clock.moment.date() < self.today - timedelta(days=14)
        sent = self.clock.after(3, 15)
        if overdue:
            sent = self.clock.moment = min(
                sent, datetime.combine(self.today - timedelta(days=10), time(9), UTC)
            )
        due = (
            self.today - timedelta(days=3)
            if overdue
            else self.today + timedelta(days=self.rng.randint(7, 20))
        )
        body = {
            "partner_id": partner,
            "question": question,
            "due_date": due.isoformat(),
            "demand_ids": ["{demand0}"],
        }
        capture = f"request{self.requests}"
        self.add(sent, "POST", "/v1/leads/{lead}/partner-requests", body, capture)
        self.requests += 1
        if answer is not None:
            reply = {"answer": answer, "details": {"toelichting": "Kavel beschikbaar, bestemmingsplan past"}}
            if answer == "decline":
                reply = {"answer": "decline", "reason": "Geen netcapaciteit beschikbaar voor 2029"}
            self.add(self.clock.after(2, 25), "POST", f"/v1/partner-requests/{{{capture}}}/response", reply,
                     actor=f"partner:{partner}")  # fmt: skip


def plans(seed: int, programme_start: date, now: datetime) -> list[LeadPlan]:
    """Every lead of the demo, in a fixed order for a given seed."""
    rng = random.Random(seed)
    found, index = [], 0
    for storyline, (count, first, last) in STORYLINES.items():
        for _ in range(count):
            found.append(
                _plan(rng, invent(rng, index), storyline, _start(rng, programme_start, now, first, last), now)
            )
            index += 1
    return found


def _start(rng: random.Random, programme_start: date, now: datetime, first: float, last: float) -> datetime:
    begin = datetime.combine(programme_start, time(9), tzinfo=UTC)
    return begin + (now - begin) * rng.uniform(first, last)


def _plan(
    rng: random.Random, company: Company, storyline: str, signalled: datetime, now: datetime
) -> LeadPlan:
    plan = LeadPlan(company, storyline)
    clock = _Clock(rng, signalled, now)
    builder = _Builder(plan, clock, now.date())
    share = (signalled - (now - timedelta(days=700))).days / 700
    needed = signalled.date() + timedelta(days=rng.randint(250 + int(400 * max(share, 0)), 1300))
    builder.add(signalled, "POST", "/v1/leads", _signal_body(company, needed), "lead")
    builder.add(signalled + timedelta(hours=1), "POST", "/v1/leads/{lead}/contacts", contact_for(company))
    if storyline != "signalled":
        for spec in demand_specs(rng, company, needed):
            builder.demand(spec)
    if storyline in STORIES:
        STORIES[storyline](builder)
    return plan


CONTACT_NAMES = ("Sanne de Wit", "Pieter Bakker", "Fatima El Amrani", "Joost van Dijk", "Anouk Visser",
                 "Mehmet Yilmaz", "Lotte Jansen", "Ruben Smit", "Eva de Boer", "Daan Mulder")  # fmt: skip
CONTACT_TITLES = ("CEO", "CTO", "COO", "Directeur", "Hoofd operations")


def contact_for(company: Company) -> dict[str, Any]:
    """An invented contact person of the company (chosen from its name, so the rest of the demo's
    random choices stay as they were)."""
    pick = zlib.crc32(company.name.encode())
    name = CONTACT_NAMES[pick % len(CONTACT_NAMES)]
    domain = "".join(ch for ch in company.name.lower().removesuffix(" b.v.") if ch.isalnum())
    email = f"{name.split()[0].lower()}@{domain}.example"
    return {"name": name, "email": email, "job_title": CONTACT_TITLES[pick % len(CONTACT_TITLES)]}


def _signal_body(company: Company, needed: date) -> dict[str, Any]:
    return {
        "company": {"name": company.name, "kvk_number": company.kvk_number},
        "owner_org": company.owner_org, "home_region": company.region, "province": company.province,
        "municipality": company.municipality, "domains": list(company.domains),
        "company_stage": company.company_stage, "life_phase": company.life_phase, "summary": company.summary,
        "needed_by": needed.isoformat(), "investment_at_stake_eur": company.investment_eur,
        "jobs_at_stake": company.jobs, "foreign_alternative": company.foreign_alternative,
    }  # fmt: skip


def _broker(b: _Builder, *, answers: tuple[str | None, ...] = ("offer",), overdue: bool = False) -> str:
    """Start the case-based approach, propose a location in another region and ask its partners."""
    target = OTHER_REGION[b.plan.company.region]
    b.add(b.clock.after(10, 60), "POST", "/v1/leads/{lead}/articulation/complete", {})
    option = {"region": target, "province": REGION_PROVINCE[target], "site": REGION_SITE[target],
              "demand_ids": ["{demand0}"]}  # fmt: skip
    b.add(b.clock.after(5, 30), "POST", "/v1/leads/{lead}/options", option, "option0")
    question = "Is er binnen twee jaar ruimte voor deze productielocatie, inclusief netaansluiting?"
    b.request(f"provincie-{REGION_PROVINCE[target]}", question, answers[0])
    for answer in answers[1:]:
        b.request(GRID_OPERATORS[target], "Kan de gevraagde netcapaciteit op tijd geleverd worden?", answer)
    if overdue:
        b.request(GRID_OPERATORS[target], "Graag uw inschatting van de aansluittermijn.", None, overdue=True)
    if b.demands > 1 and b.rng.random() < 0.5:  # a second demand nobody could meet: a bottleneck signal
        b.status(b.demands - 1, "unresolved")
    return target


def _realised(b: _Builder, own: bool) -> None:
    target = _broker(b, answers=("offer", "offer"))
    b.status(0, "matched", "resolved")
    if b.plan.company.company_stage == "startup" and b.rng.random() < 0.7:
        b.add(b.clock.after(10, 60), "POST", "/v1/leads/{lead}/company-stage", {"company_stage": "scale_up"})
    b.add(b.clock.after(10, 50), "POST", "/v1/leads/{lead}/decision", {"option_id": "{option0}"})
    region = b.plan.company.region if own else target
    code = "realised_own_region" if own else "realised_other_region"
    invested = b.plan.company.investment_eur * b.rng.choice([0.6, 0.8, 1.0])
    outcome = {"code": code, "region": region, "investment_eur": invested, "jobs": b.plan.company.jobs}
    b.add(b.clock.after(10, 40), "POST", "/v1/leads/{lead}/outcome", outcome)
    if b.rng.random() < 0.5:
        confirmed = {"amount_eur": invested * b.rng.choice([0.7, 0.9, 1.0]), "jobs": b.plan.company.jobs // 2}
        b.add(b.clock.after(120, 200), "POST", "/v1/leads/{lead}/investment-confirmation", confirmed)
        b.add(b.clock.after(5, 30), "POST", "/v1/leads/{lead}/close", {"reason": "Nazorg afgerond"})


def _lost(b: _Builder, code: str) -> None:
    _broker(b, answers=("decline", "decline"))
    b.status(0, "unresolved")
    outcome: dict[str, Any] = {"code": code, "explanation": "Geen passende locatie met netcapaciteit op tijd"}
    if code == "left_abroad":
        outcome["country"] = b.plan.company.foreign_alternative or "DE"
    b.add(b.clock.after(10, 40), "POST", "/v1/leads/{lead}/outcome", outcome)


def _hold(b: _Builder, reason: str) -> None:
    _broker(b)
    _step(b, "/v1/leads/{lead}/hold", {"reason": reason})


def _step(b: _Builder, path: str, body: dict[str, Any]) -> None:
    b.add(b.clock.after(10, 60), "POST", path, body)


STORIES: dict[str, Callable[[_Builder], object]] = {
    "realised_other": lambda b: _realised(b, own=False),
    "realised_own": lambda b: _realised(b, own=True),
    "left_abroad": lambda b: _lost(b, "left_abroad"),
    "no_proposition": lambda b: _lost(b, "no_proposition"),
    "withdrawn": lambda b: _step(b, "/v1/leads/{lead}/outcome", {"code": "withdrawn"}),
    "on_hold": lambda b: _hold(b, "Bedrijf wacht op de uitkomst van een financieringsronde"),
    "brokering": lambda b: _broker(b, answers=(b.rng.choice(["offer", None]),), overdue=b.rng.random() < 0.6),
}  # fmt: skip
