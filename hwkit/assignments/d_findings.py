"""Assignment D's findings: every result the D report states, as a verdict with the numbers behind it.

Pure functions (numpy and ``hwkit.findings`` only, no TensorFlow: D5 is a numpy-only task). The
tasks call them where the numbers are in memory and store them in ``metrics["findings"]``; the
template picks its wording by ``verdict`` only.

D1-D4 are exact computations (no data, no randomness): their findings carry no interval — the
numbers are the answer, and ``criterion`` says which rule decided. D5 and D6 are measured: a
trained model is first checked to have fitted (its training loss left the chance plateau ln 10 of
a 10-class softmax), and a comparison of two models scored on the same images is a paired bootstrap
over those images (one seed: the interval covers the test/validation sample, not seed-to-seed
variation, and the report says so).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from hwkit import findings as F

EXACT = "exact computation (no data, no randomness)"
CHANCE_LOSS = math.log(10)      # cross-entropy of a uniform 10-class prediction, label smoothing or not
FIT_FRACTION = 0.9              # a fitted 10-class model's final training loss is below 90% of ln 10
FIT_THRESHOLD = FIT_FRACTION * CHANCE_LOSS
FIT_CRITERION = (f"final training loss below {FIT_THRESHOLD:.2f} = {FIT_FRACTION:g} × ln 10, i.e. out of the "
                 "plateau of a uniform guess over the 10 classes")
GRADIENT_TOLERANCE = 1e-6       # D3: relative error under which a hand gradient agrees with FD/autodiff
SUM_Y_MISMATCH = 1e-3           # D3: o − y is "off" for Σy ≠ 1 when its relative error exceeds this


def _exact(verdict: str, criterion: str, **numbers) -> F.Finding:
    return F.Finding(verdict, {k: (float(v) if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)
                                   else v) for k, v in numbers.items()}, criterion=f"{criterion}; {EXACT}")


# ----------------------------------------------------------------------------- D1

def closer_to_minimum(distance_a: float, distance_b: float) -> F.Finding:
    """(a) vs (b): is step size B closer to the minimiser after three steps than step size A?"""
    verdict = F.BETTER if distance_b < distance_a else F.WORSE if distance_b > distance_a else F.SAME
    return _exact(verdict, "B is better when |x3 − x*| is smaller with B's step size",
                  distance_a=distance_a, distance_b=distance_b,
                  factor=distance_a / distance_b if distance_b > 0 else math.inf)


def overshoot(xs: Sequence[float], x_min: float) -> F.Finding:
    """Does a descent from the right of x* (or the left) cross it? Verdict "overshoots" or "does not overshoot"."""
    start = xs[0]
    crossed = any(x < x_min for x in xs) if start > x_min else any(x > x_min for x in xs)
    return _exact("overshoots" if crossed else "does not overshoot", "some x_t lies beyond x* from the start",
                  x_min=x_min, farthest=min(xs) if start > x_min else max(xs))


def steps_shrink(xs: Sequence[float], gradients: Sequence[float]) -> F.Finding:
    """Do both the gradient magnitudes and the step lengths shrink at every step (GD's self-damping near x*)?"""
    steps = np.abs(np.diff(xs))
    g = np.abs(np.asarray(gradients, float))
    ok = bool(np.all(np.diff(steps) < 0) and np.all(np.diff(g) < 0))
    return _exact("shrink" if ok else "do not shrink", "|f′(x_t)| and |x_t+1 − x_t| decrease at every step",
                  steps=[float(s) for s in steps], gradients=[float(v) for v in g])


def momentum_vs_gd(gd_value: float, momentum_value: float) -> F.Finding:
    """Which method reached the lower GELU value? "better" = momentum lower (ahead) than GD."""
    verdict = F.BETTER if momentum_value < gd_value else F.WORSE if momentum_value > gd_value else F.SAME
    return _exact(verdict, "momentum is better (ahead) when its GELU(x_t) is lower than GD's",
                  gd=gd_value, momentum=momentum_value, difference=momentum_value - gd_value)


def velocity_lags(velocities: Sequence[float], gradients: Sequence[float]) -> F.Finding:
    """The tested reason for momentum trailing GD on a steepening slope: is |v_t+1| < |f′(x_t)| at every step?

    ``velocities[t]`` is the average used for step t, ``gradients[t]`` the gradient at x_t."""
    v, g = np.abs(np.asarray(velocities, float)), np.abs(np.asarray(gradients, float))
    lags = bool(np.all(v[1:] < g[1:])) if len(v) > 1 else False   # step 0 uses v0 = f′(x0): equal by definition
    return _exact("lags" if lags else "does not lag", "|v_t+1| < |f′(x_t)| at every step after the first",
                  velocities=[float(x) for x in v], gradients=[float(x) for x in g])


def same_winner(winners_new: Sequence[str], winners_old: Sequence[str]) -> F.Finding:
    """Do the two readings of Eq. 5 give the same winner (GD or momentum) for every step size?"""
    same = list(winners_new) == list(winners_old)
    return _exact(F.SAME if same else "different", "the method ahead is the same under both readings",
                  new=list(winners_new), old=list(winners_old))


# ----------------------------------------------------------------------------- D2, D3, D4

def separability(single_neuron: Mapping[str, bool]) -> F.Finding:
    """The grid scan agrees with the proof when it finds one separating neuron for AND and OR and none for XOR, XNOR."""
    expected = {"AND": True, "OR": True, "XOR": False, "XNOR": False}
    agrees = all(bool(single_neuron.get(g)) == want for g, want in expected.items())
    return _exact("agrees" if agrees else "contradicts",
                  "the scan finds a separating single neuron exactly for AND and OR",
                  **{g: bool(single_neuron.get(g)) for g in expected})


def classification(correct: bool, what: str) -> F.Finding:
    """A computed yes/no check of a network on its truth table: "correct" or "wrong"."""
    return _exact("correct" if correct else "wrong", f"{what} classifies every row as its truth table says")


def reload_check(error_before: float, error_after: float) -> F.Finding:
    """A saved model reloaded gives exactly the same test error: "identical", else "different"."""
    return _exact("identical" if error_before == error_after else "different",
                  "the reloaded model's test error equals the trained model's", before=error_before, after=error_after)


def gradient_agreement(worst_relative_error: float, tolerance: float = GRADIENT_TOLERANCE) -> F.Finding:
    """D3: the hand-derived gradients agree with finite differences and autodiff when the worst error < tolerance."""
    ok = bool(np.isfinite(worst_relative_error) and worst_relative_error < tolerance)
    return F.Finding("agrees" if ok else "disagrees", {"worst": float(worst_relative_error), "tolerance": tolerance},
                     criterion=f"worst relative error below {tolerance:g} (finite differences, float64)")


def sum_y_matters(o_minus_y_error: float, general_error: float, mismatch: float = SUM_Y_MISMATCH,
                  tolerance: float = GRADIENT_TOLERANCE) -> F.Finding:
    """D3: with Σy = 2, is o − y wrong (error > ``mismatch``) while o·Σy − y stays right (error < ``tolerance``)?"""
    shown = bool(o_minus_y_error > mismatch and general_error < tolerance)
    return F.Finding("matters" if shown else "not shown",
                     {"o_minus_y": float(o_minus_y_error), "general": float(general_error)},
                     criterion=f"o − y off by more than {mismatch:g} and o·Σy − y within {tolerance:g}")


def stride_keeps_size(strides_keeping_size: Sequence[int]) -> F.Finding:
    """D4 (b): "possible" when some stride gives the input size back, else "impossible"."""
    return _exact("possible" if strides_keeping_size else "impossible", "some stride s ≥ 1 gives n_out = n",
                  strides=list(strides_keeping_size))


# ----------------------------------------------------------------------------- D5, D6: measured

def fit(final_training_loss: float) -> F.Finding:
    """A 10-class training fitted when its final training loss left the chance plateau (``FIT_CRITERION``)."""
    return F.fit_check(final_training_loss, FIT_THRESHOLD, criterion=FIT_CRITERION)


def fit_by_accuracy(accuracy: float | None, chance: float = 0.1) -> F.Finding:
    """A training whose loss was not kept (a search trial) fitted when its validation accuracy is above twice
    chance (``chance`` = 1/classes): out of the plateau of a uniform guess. A missing score failed."""
    ok = accuracy is not None and np.isfinite(accuracy) and accuracy > 2 * chance
    return F.Finding(F.FITS if ok else F.FAILED, {"accuracy": accuracy, "threshold": 2 * chance},
                     criterion=f"validation accuracy above {2 * chance:.0%}, twice chance (no training loss kept)")


def which_failed(fit_a: F.Finding | Mapping, fit_b: F.Finding | Mapping) -> F.Finding:
    """Two trainings that differ in one setting: which failed its fit check? "both fit", "only A failed",
    "only B failed" or "both failed" (a controlled one-seed test of that setting's effect on fitting)."""
    a, b = F.fitted(fit_a), F.fitted(fit_b)
    verdict = {(True, True): "both fit", (False, True): "only A failed", (True, False): "only B failed",
               (False, False): "both failed"}[(a, b)]
    loss = {k: (f.numbers if isinstance(f, F.Finding) else f["numbers"]).get("final_training_loss")
            for k, f in (("a", fit_a), ("b", fit_b))}
    return F.Finding(verdict, {"a_loss": loss["a"], "b_loss": loss["b"], "threshold": FIT_THRESHOLD},
                     criterion=FIT_CRITERION)


def paired_if_fitted(correct_a: Sequence[float], correct_b: Sequence[float], fits: Sequence[F.Finding | Mapping],
                     ) -> F.Finding:
    """A vs B (1/0 correct per image, the same images): better/worse/no measurable difference by a paired
    bootstrap; "not comparable" when a model failed to fit."""
    if not F.fitted(*fits):
        return F.Finding(F.NOT_COMPARABLE, {"a": float(np.mean(correct_a)), "b": float(np.mean(correct_b))},
                         criterion="a model failed its fit check: not compared")
    return F.compare_paired(correct_a, correct_b, higher_is_better=True)


def accuracy(correct: Sequence[float]) -> F.Finding:
    """A model's accuracy (or error rate, from 1/0 wrong per image) with its 95% bootstrap interval over the
    scored images (verdict "measured": a number to print, not a comparison)."""
    interval = F.bootstrap_interval(correct)
    return F.Finding("measured", {"value": interval.center, "low": interval.low, "high": interval.high},
                     interval, criterion=interval.method)


def cutoff(value: float, threshold: float, low: float, high: float, *, higher_is_better: bool = True) -> F.Finding:
    """A grading cut-off, graded on the point estimate as the assignment does (``value >= threshold``, or
    ``value < threshold`` for an error): "reached" / "not reached", or "borderline reached" / "borderline not
    reached" when the 95% interval [low, high] straddles the threshold (another test sample could fall the
    other way)."""
    reached = value >= threshold if higher_is_better else value < threshold
    straddles = low < threshold <= high
    verdict = ("borderline " if straddles else "") + ("reached" if reached else "not reached")
    return F.Finding(verdict, {"value": float(value), "threshold": float(threshold), "low": float(low),
                               "high": float(high)},
                     criterion="the point estimate is graded; borderline: the 95% interval contains the cut-off")


def search_choice(scores: Sequence[float], examples: int, per_example: Sequence[Sequence[float]] | None = None,
                  fits: Sequence[F.Finding | Mapping] | None = None) -> F.Finding:
    """The search chose its highest-scoring (accuracy) candidate: is it measurably better than the runner-up?

    ``per_example[i]``: candidate i's 1/0 per validation example (paired bootstrap); without it the two
    accuracies are compared as independent rates. Candidates that failed their fit check are left out.
    "not comparable" with fewer than two candidates that fitted."""
    idx = [i for i in range(len(scores)) if fits is None or F.fitted(fits[i])]
    ranked = sorted(idx, key=lambda i: -scores[i])
    if len(ranked) < 2:
        return F.Finding(F.NOT_COMPARABLE, {"candidates": len(ranked)},
                         criterion="fewer than two candidates that fitted: nothing to compare the choice with")
    best, second = ranked[:2]
    if per_example is not None:
        f = F.compare_paired(per_example[best], per_example[second], higher_is_better=True)
    else:
        f = F.compare_proportions(scores[best], scores[second], examples, examples, higher_is_better=True)
    return F.Finding(f.verdict, {**f.numbers, "best": best, "runner_up": second}, f.interval, criterion=f.criterion)


def trick_effects(rows: Mapping[str, Mapping], baseline: str, examples: int) -> dict[str, F.Finding]:
    """What each ablation costs: the baseline recipe vs each variant on the same validation images.

    ``rows[name]``: ``val_accuracy``, optional ``final_train_loss`` (fit check) and ``val_correct`` (1/0 per
    image, paired bootstrap; without it an independent-rates interval). Finding ``effect_<name>``: "better"
    = the recipe is better, i.e. the trick taken away helps; and ``fit_<name>`` for every row."""
    out: dict[str, F.Finding] = {}
    for name, r in rows.items():
        loss = r.get("final_train_loss")
        out[f"fit_{name}"] = fit(loss) if loss is not None else F.Finding(
            F.FITS if r["val_accuracy"] > 0.2 else F.FAILED, {"val_accuracy": r["val_accuracy"]},
            criterion="no training loss recorded: validation accuracy above 20% (twice chance)")
    base = rows[baseline]
    for name, r in rows.items():
        if name == baseline:
            continue
        if not F.fitted(out[f"fit_{baseline}"], out[f"fit_{name}"]):
            out[f"effect_{name}"] = F.Finding(F.NOT_COMPARABLE, {"a": base["val_accuracy"], "b": r["val_accuracy"]},
                                              criterion="a training failed its fit check: not compared")
        elif base.get("val_correct") is not None and r.get("val_correct") is not None:
            out[f"effect_{name}"] = F.compare_paired(base["val_correct"], r["val_correct"], higher_is_better=True)
        else:
            out[f"effect_{name}"] = F.compare_proportions(base["val_accuracy"], r["val_accuracy"], examples, examples,
                                                          higher_is_better=True)
    return out
