"""Speed goals beside what was measured: goal, median over repeats, spread, ratio (measured / goal).

This machine is noisy (2 shared cores): one run is not a figure. Every benchmark takes
``--repeat K``, runs its measurement K times and prints one row per goal. A target that a repeat
never reached counts as infinitely slow, so the median says "not reached" when most repeats missed.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable, Sequence


def schedules(targets: Sequence[float], schedule_epochs: dict[float, int], epochs: int | None = None
              ) -> dict[int, tuple[float, ...]]:
    """Schedule length in epochs -> the targets its runs watch for (each run stops once all are reached).

    Each goal's target is timed on its own schedule (``schedule_epochs[goal]``), whose runs also
    watch every lower target: a one-cycle schedule that has annealed by the time it reaches the
    target is the fastest way there. ``epochs`` times every target on that one schedule instead.
    """
    if epochs:
        return {epochs: tuple(targets)}
    out: dict[int, set[float]] = {}
    for goal, length in schedule_epochs.items():
        out.setdefault(length, set()).update(t for t in targets if t <= goal)
    return {length: tuple(sorted(watched)) for length, watched in out.items()}


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


def time_goals(goals: dict[float, Goal], targets: Sequence[float], schedule_epochs: dict[float, int],
               measure: Callable[[tuple[float, ...], int, int], dict], repeat: int = 1,
               epochs: int | None = None) -> list[dict]:
    """Run ``measure(targets, schedule_epochs, seed)`` -> {target: seconds or None} for seeds 0..repeat-1
    on every schedule of ``schedules``; one ``summarise`` row per goal, timed on the goal's own schedule."""
    watched = schedules(targets, schedule_epochs, epochs)
    reached = {(e, t): [] for e, ts in watched.items() for t in ts}
    for seed in range(repeat):
        for length, ts in watched.items():
            for t, seconds in measure(ts, length, seed).items():
                reached[length, t].append(seconds)
    return [summarise(Goal(f"{goal.name}, {epochs or schedule_epochs[t]}-epoch sched.", goal.seconds),
                      reached[epochs or schedule_epochs[t], t]) for t, goal in goals.items()]
