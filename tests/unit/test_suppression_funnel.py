"""The ministry's funnel: no small number of leads shows, neither as a step nor as a difference."""

import itertools
import random

from services.reports.suppression import FUNNEL_CHAINS, MINIMUM_CELL, suppress_funnel


def test_a_step_one_or_two_below_the_step_before_is_hidden() -> None:
    funnel = {"signalled": 40, "articulating": 38, "brokering": 30, "decided": 12, "closed": 10}
    assert suppress_funnel(funnel) == {
        "signalled": 40,
        "articulating": None,
        "brokering": 30,
        "decided": 12,
        "closed": None,
    }


def test_no_difference_of_shown_steps_in_a_chain_is_one_or_two() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        signalled = rng.randint(0, 30)
        articulating = rng.randint(0, signalled)
        brokering = rng.randint(0, articulating)
        decided = rng.randint(0, signalled)
        closed = rng.randint(0, decided)
        funnel = dict(zip(["signalled", "articulating", "brokering", "decided", "closed"],
                          [signalled, articulating, brokering, decided, closed], strict=True))  # fmt: skip
        shown = suppress_funnel(funnel)
        for chain in FUNNEL_CHAINS:
            visible = [shown[step] for step in chain if shown[step] is not None]
            for a, b in itertools.combinations(visible, 2):
                assert not 0 < a - b < MINIMUM_CELL, (funnel, shown)
            assert all(not 0 < v < MINIMUM_CELL for v in visible)
