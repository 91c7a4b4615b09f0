"""Speed goals beside what was measured: goal, median over repeats, spread, ratio (measured / goal).

This machine is noisy (2 shared cores): one run is not a figure. Every benchmark takes
``--repeat K``, runs its measurement K times and prints one row per goal. A target that a repeat
never reached counts as infinitely slow, so the median says "not reached" when most repeats missed.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Goal:
    name: str            # e.g. "99.0% test accuracy"
    seconds: float       # the goal: at most this many seconds


def summarise(goal: Goal, measured: Sequence[float | None]) -> dict:
    """Median, min and max of the repeats (None = not reached) and the ratio median / goal."""
    values = [math.inf if v is None else float(v) for v in measured]
    median = statistics.median(values)
    return {"goal": goal.name, "goal_s": goal.seconds, "repeats": len(values), "median_s": median,
            "min_s": min(values), "max_s": max(values), "ratio": median / goal.seconds,
            "met": median <= goal.seconds}


def _seconds(v: float) -> str:
    return "not reached" if math.isinf(v) else f"{v:.1f}"


def print_goals(rows: Sequence[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"{'goal':<28} {'goal s':>7} {'median s':>12} {'min..max s':>22} {'ratio':>6}  met")
    for r in rows:
        spread = f"{_seconds(r['min_s'])}..{_seconds(r['max_s'])}"
        ratio = "inf" if math.isinf(r["ratio"]) else f"{r['ratio']:.2f}"
        print(f"{r['goal']:<28} {r['goal_s']:>7.0f} {_seconds(r['median_s']):>12} {spread:>22} {ratio:>6}  "
              f"{'yes' if r['met'] else 'NO'}   (n={r['repeats']})")
