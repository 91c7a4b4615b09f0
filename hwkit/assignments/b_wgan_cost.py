"""B8: the cost of B6 ([-1,1]^5) and B7 ([-1,1]^20) to reach ε < 0.05, read from their runs — costs, ratios and
the findings that decide what the report may say of them.

Apart from ``hwkit.assignments.b_wgan`` (which trains the B6/B7 generators) because B8 only reads finished runs:
changing how B8 reads them does not change the code that made them. The findings: is a crossing step set by
the learning-rate schedule (``schedule_check``: the rate at the crossing; ``budget_check``: does it move when the
same seeds train under a shorter budget), are the two dimensions' steps comparable (``steps_comparison``,
``same_schedule_comparison``) and is each dimension as good as its own sampling floor (``floor_check``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from hwkit import findings as F
from hwkit.assignments.b_wgan import TARGET, median_or_none, reached_at, sampling_floor
from hwkit.runs import NULL, NUMBER


def cost_comparison(low: dict, high: dict) -> dict:
    """Cost ratios (high / low dimension) to reach the target and the sentence that explains them.

    ``low`` and ``high`` are ``summarise_noise_dims`` rows (noise dim = data dim) extended with
    ``data_dim``, ``parameters`` and ``sampling_floor``. A dimension whose median seed did not reach
    the target makes the ratio a bound, stated as such (never a number pretending to be a cost).
    """
    ratios = {"per_step_flops_ratio": high["flops_per_step"] / low["flops_per_step"],
              "per_step_seconds_ratio": ((high["median_train_s"] / high["steps"])
                                         / (low["median_train_s"] / low["steps"]))}
    for key in ("steps", "seconds", "flops"):
        a, b = low[f"median_{key}_to_target"], high[f"median_{key}_to_target"]
        ratios[f"{key}_ratio"] = b / a if a and b else None
    dl, dh = low["data_dim"], high["data_dim"]
    per_step = (f"One generator step of the {dh}-dimensional WGAN costs {ratios['per_step_flops_ratio']:.2f}\u00d7 the "
                f"FLOP proxy of the {dl}-dimensional one ({high['parameters']:,} vs {low['parameters']:,} parameters: "
                f"only the input and output layers grow with d, the 128-wide hidden layers dominate) and "
                f"{ratios['per_step_seconds_ratio']:.2f}\u00d7 the seconds.")
    if ratios["steps_ratio"] is None:
        if low["median_steps_to_target"] is None:
            why = f"The {dl}-dimensional target was not reached by the median seed, so no cost ratio can be given."
        else:
            why = (f"The {dh}-dimensional target was not reached by the median seed within {high['steps']} steps, "
                   f"so its cost is more than {high['steps'] / low['median_steps_to_target']:.1f}\u00d7 the "
                   f"{dl}-dimensional one in steps: a lower bound.")
    elif ratios["steps_ratio"] <= 1.0:
        why = (f"Reaching ε < {TARGET} took {ratios['steps_ratio']:.2f}\u00d7 the generator steps — no more in {dh} "
               f"dimensions than in {dl} — so the {ratios['flops_ratio']:.2f}\u00d7 FLOP ratio is the cost of one step "
               f"times fewer or as many steps. A likely reason, not tested here: ε asks every 1-D projection to be "
               f"within {TARGET:.0%} of its own spread, and in {dh} dimensions every projection but the axes is close "
               f"to Gaussian and may be matched early (sampling floor {low['sampling_floor']:.3f} vs "
               f"{high['sampling_floor']:.3f}).")
    else:
        share = "mostly" if ratios["steps_ratio"] > ratios["per_step_flops_ratio"] else "less"
        why = (f"Reaching ε < {TARGET} took {ratios['steps_ratio']:.2f}\u00d7 the generator steps, so the total "
               f"{ratios['flops_ratio']:.2f}\u00d7 FLOP ratio comes {share} from the number of steps than from the "
               f"cost of one step. A likely reason, not tested here: the critic has to find, and the generator to "
               f"correct, discrepancies along {dh} "
               f"instead of {dl} axes and in a space whose oblique projections are nearly Gaussian, and the sampling "
               f"floor of ε rises from {low['sampling_floor']:.3f} to {high['sampling_floor']:.3f}, leaving less room "
               f"below the threshold {TARGET}.")
    return {**ratios, "per_step_sentence": per_step, "steps_sentence": why, "sentence": f"{per_step} {why}"}


LOOSER_TARGETS = (0.05, 0.1)   # B8 also reports the cost to a 10% level, read from the same curves

# B8's findings: is a crossing step a property of the problem or of the learning-rate schedule?
ANNEAL_FRACTION = 0.25         # a crossing where the generator's rate is below 25% of its peak is "set by the schedule"
SCHEDULE_BOUND, BEFORE_ANNEALING = "set by the schedule", "before the annealing"
FLOOR_DRAWS = 3                # independent true samples scored for each dimension's sampling floor


def rate_fraction(step: float, total_steps: int, decay_to: float) -> float:
    """The generator's learning rate at ``step`` as a fraction of its peak (cosine decay to ``decay_to``; 1.0 if
    ``decay_to`` ≥ 1, a constant rate) — the schedule ``build_wgan`` compiles."""
    if decay_to >= 1.0:
        return 1.0
    t = min(max(step, 0.0), total_steps) / total_steps
    return float(decay_to + (1.0 - decay_to) * 0.5 * (1.0 + np.cos(np.pi * t)))


def schedule_check(steps_to_target: Sequence[float | None], total_steps: int, decay_to: float) -> F.Finding:
    """Is the median seed's crossing step set by the schedule? "set by the schedule" when the generator's rate
    there is below ``ANNEAL_FRACTION`` of its peak: the crossing then marks the end of the annealing and
    would move with the budget; "before the annealing" otherwise; "not comparable" if the median did not reach."""
    median = median_or_none(steps_to_target)
    numbers = {"median_steps": median, "total_steps": total_steps, "decay_to": decay_to,
               "crossings": [None if s is None else float(s) for s in steps_to_target]}
    criterion = (f"the generator's learning rate at the median crossing below {ANNEAL_FRACTION:.0%} of its peak "
                 "(cosine schedule over the run's budget)")
    if median is None:
        return F.Finding(F.NOT_COMPARABLE, {**numbers, "rate_fraction": None, "budget_fraction": None},
                         criterion="the median seed did not reach the target")
    frac = rate_fraction(median, total_steps, decay_to)
    verdict = SCHEDULE_BOUND if frac < ANNEAL_FRACTION else BEFORE_ANNEALING
    return F.Finding(verdict, {**numbers, "rate_fraction": frac, "budget_fraction": median / total_steps},
                     criterion=criterion)


MOVES, STAYS, SHORT_MISSED = ("moves with the budget", "does not move with the budget",
                              "not reached by every seed within the shorter budget")


def budget_check(long_steps: Sequence[float | None], long_budget: int, short_steps: Sequence[float | None],
                 short_budget: int) -> F.Finding:
    """Does the crossing step move when the whole schedule is compressed into a shorter budget (same seeds)?

    "moves with the budget": every seed reached the target under both budgets and the crossing steps under the two
    do not overlap (range over seeds) — the step measures the schedule, and the cost to the target is at most the
    shorter budget's crossing (an upper bound); "does not move with the budget": every seed reached it under both
    and the ranges overlap — a property of the problem at this learning rate; "not reached by every seed within the
    shorter budget": then whether it moves is not decided (a seed that misses under the shorter schedule need not
    cross later; it may not settle at all); "not comparable": no shorter budget was trained, or a seed did not reach
    the target under the longer budget."""
    def spread(steps):
        hit = [float(s) for s in steps if s is not None]
        return (median_or_none(steps) if steps else None, min(hit) if hit else None, max(hit) if hit else None,
                len(hit))
    (lm, llo, lhi, ln), (sm, slo, shi, sn) = spread(long_steps), spread(short_steps)
    numbers = {"long_budget": long_budget, "short_budget": short_budget, "long_median": lm, "long_low": llo,
               "long_high": lhi, "long_reached": ln, "long_seeds": len(long_steps), "short_median": sm,
               "short_low": slo, "short_high": shi, "short_reached": sn, "short_seeds": len(short_steps)}
    if not short_steps or ln < len(long_steps):
        return F.Finding(F.NOT_COMPARABLE, numbers, criterion="no shorter budget was trained" if not short_steps
                         else "a seed did not reach the target under the longer budget")
    if sn < len(short_steps):
        return F.Finding(SHORT_MISSED, numbers, criterion="a seed did not reach the target within the shorter budget")
    verdict = MOVES if shi < llo or slo > lhi else STAYS
    return F.Finding(verdict, numbers, criterion="every seed reached the target under both budgets; the crossing "
                     "steps under the two (range over seeds) do not overlap")


def steps_comparison(low_steps: Sequence[float | None], high_steps: Sequence[float | None],
                     low_budget, high_budget) -> F.Finding:
    """Does the high-dimensional problem need fewer ("better"), more ("worse") or as many steps as the low one?
    Across seeds (ranges must not overlap); "not comparable" when a seed did not reach the target or a crossing
    moves with the budget (``budget_check``: then the steps measure the schedule, not the problem)."""
    verdicts = [(f["verdict"] if isinstance(f, dict) else f.verdict) for f in (low_budget, high_budget)]
    if any(s is None for s in (*low_steps, *high_steps)):
        return F.Finding(F.NOT_COMPARABLE, {}, criterion="a seed did not reach the target")
    if any(v != STAYS for v in verdicts):
        return F.Finding(F.NOT_COMPARABLE, {},
                         criterion="a crossing moves with the training budget, or its budget test did not decide")
    return F.compare_seeds(high_steps, low_steps, higher_is_better=False)


def same_schedule_comparison(low_steps: Sequence[float | None], high_steps: Sequence[float | None],
                             budget: int, min_seeds: int = F.MIN_SEEDS) -> F.Finding:
    """The high- against the low-dimensional problem's crossing steps under one and the same budget and schedule
    (the shorter budget of ``budget_check``), across seeds: a like-for-like comparison even where the crossings are
    set by the schedule. A seed that did not reach the target within the budget needed more than every crossing
    step, so it counts as infinite: "worse" = every d-high seed needed more steps than every d-low seed (ranges do
    not overlap). "not comparable": fewer than ``min_seeds`` a side, or no seed of either reached the target."""
    numbers = {"budget": budget, "seeds_a": len(high_steps), "seeds_b": len(low_steps),
               "reached_a": sum(s is not None for s in high_steps), "reached_b": sum(s is not None for s in low_steps)}
    if min(len(low_steps), len(high_steps)) < min_seeds or not (numbers["reached_a"] or numbers["reached_b"]):
        return F.Finding(F.NOT_COMPARABLE, numbers, criterion=f"fewer than {min_seeds} seeds a side, or no seed "
                         "reached the target within this budget")
    a, b = (np.array([np.inf if s is None else float(s) for s in steps]) for steps in (high_steps, low_steps))

    def finite(v):
        return float(v) if np.isfinite(v) else None
    for key, v in (("a", a), ("b", b)):
        numbers.update({key: finite(np.median(v)), f"{key}_low": finite(v.min()), f"{key}_high": finite(v.max())})
    verdict = F.BETTER if a.max() < b.min() else F.WORSE if b.max() < a.min() else F.SAME
    return F.Finding(verdict, numbers, criterion="A is better (worse) than B only when A's whole range over seeds is "
                     "better (worse) than B's; a seed that did not reach the target counts as needing more steps "
                     "than the budget")


def floor_check(fresh_errors: Sequence[float], floors: Sequence[float]) -> F.Finding:
    """A dimension's generators (fresh re-scores, one per seed) against its own sampling floor (independent true
    samples of the same size): "worse" = measurably above the floor, "no measurable difference" = as good as a
    true sample at this sample size (seed ranges, ≥ 3 each)."""
    f = F.compare_seeds(fresh_errors, floors, higher_is_better=False)
    return F.Finding(f.verdict, {**f.numbers, "over_floor": f.numbers["a"] / f.numbers["b"]}, f.interval,
                     criterion=f.criterion)


def sampling_floors(dim: int, draws: int = FLOOR_DRAWS) -> list[float]:
    """ε of ``draws`` independent true samples (each against its own reference sample): the floor's spread."""
    return [sampling_floor(dim, seed) for seed in range(draws)]


# What B8 reads of a B6/B7 run (``REQUIRES = {"b6": COST_FILES, ...}``): the numbers it computes the costs with,
# checked by hwkit.runs before B8 starts.
MAYBE_NUMBER = (*NUMBER, NULL)    # a median over seeds that may not have been reached
COST_FILES = {
    "metrics.json": {"data_dim": int, "sampling_floor": NUMBER, "steps": int, "recipe": {"decay_to": NUMBER}},
    "tables/runs.json": [{"noise_dim": int, "seed": int, "parameters": int, "fresh_error": NUMBER,
                          "flops_per_step": NUMBER, "steps_to_target": MAYBE_NUMBER}],
    "tables/noise_dims.json": [{"noise_dim": int, "seeds": int, "reached_seeds": int, "median_final_error": NUMBER,
                                **{f"median_{k}_to_target": MAYBE_NUMBER for k in ("steps", "seconds", "flops")}}],
    "tables/curves.json": [{"noise_dim": int, "seed": int, "steps": NUMBER, "train_s": NUMBER,
                            "error": NUMBER, "setting?": str}],
    "tables/reference_laws.json": [dict],
    "tables/short_budget.json": [{"noise_dim": int, "seed": int, "budget": int, "steps_to_target": MAYBE_NUMBER}],
}


def cost_to_threshold(runs: Sequence[dict], curves: Sequence[dict], data_dim: int, threshold: float) -> dict:
    """Median over seeds (noise dim = data dim) of the cost to reach ``threshold`` by the same "reached" rule.

    Read from a B6/B7 run's tables: ``runs`` (one row per seed, with ``fresh_error`` and
    ``flops_per_step``) and ``curves`` (ε every evaluation). A seed reaches the threshold at the first
    evaluation from which ε stays below it to the end, if its saved generator's fresh ε is below it too.
    """
    seeds = [r for r in runs if r["noise_dim"] == data_dim]
    steps, seconds, flops = [], [], []
    for r in seeds:
        pts = [c for c in curves if c.get("setting", "recipe") == "recipe" and c["noise_dim"] == data_dim
               and c["seed"] == r["seed"]]
        hit = reached_at(pts, threshold)
        ok = hit is not None and r["fresh_error"] < threshold
        steps.append(hit["steps"] if ok else None)
        seconds.append(hit["train_s"] if ok else None)
        flops.append(hit["steps"] * r["flops_per_step"] if ok else None)
    return {"data_dim": data_dim, "threshold": threshold, "seeds": len(seeds),
            "reached_seeds": sum(s is not None for s in steps), "median_steps": median_or_none(steps),
            "median_seconds": median_or_none(seconds), "median_flops": median_or_none(flops)}


def threshold_comparison(rows: Sequence[dict]) -> list[dict]:
    """Per threshold: the high/low-dimension ratios of the median costs (None where a median was not reached)."""
    out = []
    for t in sorted({r["threshold"] for r in rows}):
        at = sorted((r for r in rows if r["threshold"] == t), key=lambda r: r["data_dim"])
        if len(at) != 2:
            continue
        low, high = at
        ratios = {k: (high[f"median_{k}"] / low[f"median_{k}"] if low[f"median_{k}"] and high[f"median_{k}"] else None)
                  for k in ("steps", "seconds", "flops")}
        if ratios["steps"]:
            text = (f"At ε < {t:g} the {high['data_dim']}-dimensional problem needed {ratios['steps']:.2f}× the steps, "
                    f"{ratios['seconds']:.2f}× the seconds and {ratios['flops']:.2f}× the FLOP proxy of the "
                    f"{low['data_dim']}-dimensional one (medians over seeds).")
        else:
            missing = [str(r["data_dim"]) for r in (low, high) if r["median_steps"] is None]
            text = (f"At ε < {t:g} the median seed did not reach the level in d = {' and '.join(missing)} "
                    f"({low['reached_seeds']}/{low['seeds']} and {high['reached_seeds']}/{high['seeds']} "
                    f"seeds reached it in d = {low['data_dim']} and {high['data_dim']}), so no ratio can be given.")
        out.append({"threshold": t, **{f"{k}_ratio": v for k, v in ratios.items()}, "text": text})
    return out
