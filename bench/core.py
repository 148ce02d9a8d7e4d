"""What every benchmark shares: run sizes per mode, the result record, percentiles and timers."""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    SMOKE = "smoke"  # seconds: proves every benchmark still runs; its figures mean nothing
    QUICK = "quick"  # `make bench`: under three minutes in all
    FULL = "full"  # `make bench-full`: the sizes of issue 7 (1M-event rebuild, 100k leads / 10M events)


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does in a mode."""

    append_single: int  # single-event appends, per database
    append_batches: int  # appends of 10 events, per database
    rebuild_events: int
    commands: int  # HTTP commands, and as many bare updates
    read_leads: int
    read_events: int
    read_requests: int  # per endpoint, spread over the concurrent clients …
    read_seconds: float  # … but no new request after this long
    replay_events: int  # events of the lead whose state is replayed
    replay_requests: int
    open_cases: int  # open leads, each with a pending partner-request timer
    active_leads: int = 2000  # leads with an open history at once in a synthetic log
    warmup: int = 20
    # Requests from the 20 clients before each endpoint under load is measured, so that its statements are
    # prepared on the pool's connections and the caches it reads are filled. (It does not stop the pool
    # from growing now and then during a run: docs/benchmarks.md, ninth round.)
    read_warmup: int = 200


SIZES = {
    Mode.SMOKE: Sizes(
        append_single=20,
        append_batches=5,
        rebuild_events=1_000,
        commands=5,
        read_leads=40,
        read_events=1_000,
        read_requests=40,
        read_seconds=1.0,
        replay_events=200,
        replay_requests=5,
        open_cases=3,
        warmup=2,
        read_warmup=20,
    ),
    Mode.QUICK: Sizes(
        append_single=600,
        append_batches=100,
        rebuild_events=50_000,
        commands=60,
        read_leads=1_000,
        read_events=50_000,
        read_requests=600,
        read_seconds=2.0,
        replay_events=1_000,
        replay_requests=50,
        open_cases=20,
    ),
    Mode.FULL: Sizes(
        append_single=10_000,
        append_batches=2_000,
        rebuild_events=1_000_000,
        commands=1_000,
        read_leads=100_000,
        read_events=10_000_000,
        read_requests=5_000,
        read_seconds=30.0,
        replay_events=1_000,
        replay_requests=500,
        open_cases=10_000,
        warmup=50,
        read_warmup=1_000,
    ),
}


@dataclass
class Result:
    """One figure against its baseline; `met` is None for a figure without a goal of its own."""

    name: str
    value: float | None
    unit: str
    baseline: float | None
    goal: str
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        return {
            "value": _rounded(self.value),
            "unit": self.unit,
            "baseline": _rounded(self.baseline),
            "ratio": _rounded(self.ratio),
            "goal": self.goal,
            "met": self.met,
            "details": {key: _rounded(value) for key, value in self.details.items()},
        }

    def line(self) -> str:
        """One printable line: figure, baseline, ratio and whether the goal is met."""
        verdict = {True: "met", False: "MISSED", None: "reported"}[self.met]
        if self.value is None:
            verdict = "not measurable yet"
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        return (
            f"{self.name:<34} {_shown(self.value):>12} {self.unit:<10} baseline {_shown(self.baseline):>12}"
            f"  ratio {ratio:>6}  goal {self.goal}: {verdict}"
        )


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # e.g. a timer that never fired: JSON has no infinity
        return round(value, 4) if abs(value) < 100 else round(value, 1)
    return value


def _shown(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.5 for p50, 0.99 for p99)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def milliseconds(seconds: float) -> float:
    return seconds * 1000.0


class Stopwatch:
    """Wall-clock seconds between entering and leaving a `with` block."""

    def __enter__(self) -> "Stopwatch":
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started
