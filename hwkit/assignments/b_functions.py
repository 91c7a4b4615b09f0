"""1-D function fitting (assignment B2–B4): target functions, their data sets, errors, dead ReLUs.

* ``runge`` — 1 / (1 + 25 x²) on [-1, 1], the classic example where equispaced polynomial
  interpolation diverges;
* ``oscillatory`` — Homework 5's piecewise f: 5 + Σ_{k=1..4} sin(kx) on [-π, 0), cos(10x) on [0, π];
* ``relative_l2_error`` — ||pred − true||₂ / ||true||₂ on a set of points (the assignment's "L² relative error");
* ``fit_function`` — ``Model.fit`` for these tiny problems: a fixed number of optimizer steps, run
  ``steps_per_epoch`` at a time inside one graph call (per-step Python overhead would otherwise
  dominate networks this small);
* B2's experiment: ``train_relu_net`` (dead units before/after, error, collapse) and ``summarise_seeds``;
* the findings the report states: ``compare_widths`` and ``dying_relu_cause`` (B2); ``grid_optimum``,
  ``function_fit``, ``compare_errors`` and ``target_reached`` (B3); ``rank_initializers`` (B4).
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

from typing import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from hwkit import findings as F
from hwkit import models


def runge(x: np.ndarray) -> np.ndarray:
    """The Runge function 1 / (1 + 25 x²)."""
    return 1.0 / (1.0 + 25.0 * np.asarray(x) ** 2)


def oscillatory(x: np.ndarray) -> np.ndarray:
    """f(x) = 5 + Σ_{k=1..4} sin(kx) for x < 0, cos(10x) for x ≥ 0 (Homework 5, eq. 1)."""
    x = np.asarray(x)
    left = 5.0 + sum(np.sin(k * x) for k in range(1, 5))
    return np.where(x < 0, left, np.cos(10.0 * x))


def uniform_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """n equispaced points including both ends, as a float32 column (n, 1) ready for Keras."""
    return np.linspace(lo, hi, n, dtype=np.float32).reshape(-1, 1)


def noisy_samples(f, x: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """f(x) plus independent N(0, sigma²) noise, float32, same shape as x."""
    rng = np.random.default_rng(seed)
    return (f(x) + rng.normal(0.0, sigma, size=np.shape(x))).astype(np.float32)


def relative_l2_error(pred: np.ndarray, true: np.ndarray) -> float:
    """||pred − true||₂ / ||true||₂ over all points (0 = exact)."""
    pred, true = np.ravel(pred), np.ravel(true)
    return float(np.linalg.norm(pred - true) / np.linalg.norm(true))


def spread_first_layer_kinks(model: keras.Model, lo: float, hi: float, seed: int) -> None:
    """Set the first hidden layer's biases so that unit i's ReLU kink (where w_i x + b_i = 0) lies at a
    uniform random point of [lo, hi] (in the layer's input units).

    With the usual zero biases every first-layer kink sits at x = 0; a ReLU network then needs
    many steps to move them to where an oscillating target bends. Spreading them over the domain
    at initialisation fits oscillatory functions in far fewer steps.
    """
    layer = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    w = layer.kernel.numpy()[0]
    kinks = np.random.default_rng(seed).uniform(lo, hi, size=w.shape)
    layer.bias.assign((-w * kinks).astype(np.float32))


STEPS_PER_EPOCH = 100    # fit_function's Keras "epoch": the loss (and any monitoring) every this many steps

# What B's PDF states about B2-B4's training besides the runs (``facts`` in templates/B.html).
REPORT_FACTS = {"steps_per_epoch": STEPS_PER_EPOCH}


def fit_function(model: keras.Model, x: np.ndarray, y: np.ndarray, steps: int, learning_rate: float,
                 batch_size: int | None = None, steps_per_epoch: int = STEPS_PER_EPOCH, seed: int = 0,
                 validation_data=None, callbacks=()) -> keras.callbacks.History:
    """Compile (Adam, cosine decay over ``steps``, MSE) and train for ``steps`` optimizer steps.

    ``batch_size=None`` is full-batch. One Keras "epoch" is ``steps_per_epoch`` steps, so the
    history and any callback see the loss every ``steps_per_epoch`` steps.
    """
    if steps % steps_per_epoch:
        raise ValueError(f"steps ({steps}) must be a multiple of steps_per_epoch ({steps_per_epoch})")
    batch = batch_size or len(x)
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
          .batch(batch, drop_remainder=True).prefetch(2))
    models.compile_regressor(model, learning_rate, total_steps=steps, steps_per_execution=steps_per_epoch)
    return model.fit(ds, steps_per_epoch=steps_per_epoch, epochs=steps // steps_per_epoch,
                     validation_data=validation_data, callbacks=list(callbacks), verbose=0)


# Homework 5, task 3: 80 noisy equispaced training points and 1000 equispaced test points on [-pi, pi].
OSCILLATORY_TRAIN_POINTS = 80
OSCILLATORY_TEST_POINTS = 1000
OSCILLATORY_NOISE = 0.1


def oscillatory_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, noisy y_train, x_test, exact f(x_test)) for B3/B4, all float32 columns."""
    x_train = uniform_grid(-np.pi, np.pi, OSCILLATORY_TRAIN_POINTS)
    y_train = noisy_samples(oscillatory, x_train, OSCILLATORY_NOISE, seed)
    x_test = uniform_grid(-np.pi, np.pi, OSCILLATORY_TEST_POINTS)
    return x_train, y_train, x_test, oscillatory(x_test).astype(np.float32)


def jump_zone(x: np.ndarray, train_points: int = OSCILLATORY_TRAIN_POINTS) -> np.ndarray:
    """Bool mask of the points of ``x`` within one training-grid spacing (2π/(train_points − 1)) of the jump at 0.

    There f drops from 5 to 1 between two neighbouring training points: no network can resolve it
    from samples that far apart, so B3 reports the error there and away from it separately.
    """
    return np.abs(np.ravel(x)) < jump_zone_halfwidth(train_points)


def jump_zone_halfwidth(train_points: int = OSCILLATORY_TRAIN_POINTS) -> float:
    """One spacing of the equispaced training grid on [-π, π]."""
    return float(2 * np.pi / (train_points - 1))


# ----------------------------------------------------------------------------- verdicts
# (computed here, laid out by the template)

def choose_strength(candidates: Sequence[float], val_errors: Sequence[float]) -> dict:
    """B3: the candidate strength with the lowest validation error, and whether it is the weakest one offered."""
    if not candidates or len(candidates) != len(val_errors):
        raise ValueError(f"need one validation error per candidate, got {len(val_errors)} for {len(candidates)}")
    best = int(np.argmin(val_errors))
    return {"strength": candidates[best], "val_rel_l2_error": float(val_errors[best]),
            "weakest": candidates[best] == min(candidates)}


INSIDE, WEAK_EDGE, STRONG_EDGE = "inside the grid", "at the weakest strength tried", "at the strongest strength tried"


def next_strength(candidates: Sequence[float], val_errors: Sequence[float], factor: float,
                  strongest: float | None = None) -> float | None:
    """B3's grid extension: while the validation optimum is at an edge of the grid, the next strength to try
    beyond that edge (÷ ``factor`` below the weakest, × ``factor`` above the strongest, never above
    ``strongest``); None when the optimum is inside."""
    edge = grid_optimum(candidates, val_errors).verdict
    if edge == WEAK_EDGE:
        return min(candidates) / factor
    if edge == STRONG_EDGE:
        nxt = max(candidates) * factor
        return nxt if strongest is None or nxt <= strongest else None
    return None


def grid_optimum(candidates: Sequence[float], val_errors: Sequence[float]) -> F.Finding:
    """B3: is the validation optimum inside the grid of strengths, or at its weak or strong edge?

    An optimum at an edge says the best strength may lie beyond the grid: the report must say so."""
    choice = choose_strength(candidates, val_errors)
    order = sorted(candidates)
    best = choice["strength"]
    verdict = (INSIDE if len(order) >= 3 and order[0] < best < order[-1]
               else WEAK_EDGE if best == order[0] else STRONG_EDGE)
    return F.Finding(verdict, {"strength": best, "val_rel_l2_error": choice["val_rel_l2_error"],
                               "weakest": order[0], "strongest": order[-1], "candidates": len(order)},
                     criterion="the lowest validation error has a weaker and a stronger candidate beside it")


FIT_MSE = 0.05   # B3/B4 fit check: training MSE on the (noisy, σ = 0.1) points below 5× the noise variance


def function_fit(train_mse: float, threshold: float = FIT_MSE) -> F.Finding:
    """Did a 1-D fit train? Its final MSE on the training points (penalties excluded) below ``threshold``."""
    return F.fit_check(train_mse, threshold, criterion=f"training MSE (penalty excluded) below {threshold:g}")


def compare_errors(errors_a: Sequence[float], errors_b: Sequence[float],
                   fits: Sequence[F.Finding | Mapping]) -> F.Finding:
    """Seed-wise comparison of two settings' test errors (lower is better); "not comparable" if any fit failed."""
    if not F.fitted(*fits):
        a, b = F.seed_interval(errors_a), F.seed_interval(errors_b)
        return F.Finding(F.NOT_COMPARABLE, {"a": a.center, "a_low": a.low, "a_high": a.high, "b": b.center,
                                            "b_low": b.low, "b_high": b.high, "seeds_a": a.n, "seeds_b": b.n},
                         a, criterion="a training failed its fit check")
    return F.compare_seeds(errors_a, errors_b, higher_is_better=False)


REACHED, MISSED, MIXED = "reached", "missed", "reached by some seeds"


def target_reached(errors: Sequence[float], target: float, fits: Sequence[F.Finding | Mapping] = ()) -> F.Finding:
    """Below ``target`` on every seed ("reached"), on none ("missed"), or on some; a failed fit never reaches it."""
    i = F.seed_interval(errors)
    checks = list(fits) or [None] * len(errors)
    ok = [e < target and (fit is None or F.fitted(fit)) for e, fit in zip(errors, checks)]
    verdict = REACHED if all(ok) else MISSED if not any(ok) else MIXED
    return F.Finding(verdict, {"median": i.center, "low": i.low, "high": i.high, "seeds": i.n,
                               "seeds_below": int(sum(ok)), "target": target}, i,
                     criterion=f"test error below {target:g} on every seed (a failed fit counts as a miss)")


COLLAPSE_STD = 0.01      # "collapsed to a constant": prediction std < 1% of the target's std on the grid


def train_relu_net(depth: int, width: int, seed: int, x_train: np.ndarray, y_train: np.ndarray, grid: np.ndarray,
                   f_grid: np.ndarray, steps: int, learning_rate: float, batch_size: int,
                   initializer: str = "he_normal") -> tuple[dict, np.ndarray]:
    """B2: train one ``depth`` x ``width`` ReLU net from ``seed``; return its row of measurements and its
    grid prediction.

    Dead units (ReLU output 0 on every ``grid`` point) are counted before and after training; the
    error is the relative L2 error of the prediction against ``f_grid``; "collapsed" means the
    prediction is (almost) constant (``COLLAPSE_STD``).
    """
    keras.utils.set_random_seed(seed)
    model = models.dense_net(1, [width] * depth, kernel_initializer=initializer, name=f"relu_{depth}x{width}")
    dead_init = np.concatenate(models.dead_relu_units(model, grid))
    history = fit_function(model, x_train, y_train, steps, learning_rate, batch_size, seed=seed)
    dead_layers = models.dead_relu_units(model, grid)
    dead = np.concatenate(dead_layers)
    pred = model.predict(grid, batch_size=len(grid), verbose=0).ravel()
    row = {"width": width, "seed": seed,
           "dead_at_init": float(dead_init.mean()), "dead_after": float(dead.mean()),
           "dead_units": int(dead.sum()), "units": int(dead.size),
           "all_dead_layers": int(sum(bool(layer.all()) for layer in dead_layers)),
           "train_mse": float(history.history["loss"][-1]),
           "rel_l2_error": relative_l2_error(pred, f_grid),
           "collapsed": bool(pred.std() < COLLAPSE_STD * f_grid.std())}
    print(f"width {width} seed {seed}: dead {row['dead_after']:.0%} (init {row['dead_at_init']:.0%}), "
          f"rel. L2 error {row['rel_l2_error']:.3f}{' COLLAPSED' if row['collapsed'] else ''}")
    return row, pred


def summarise_seeds(rows: Sequence[Mapping]) -> dict:
    """B2: one width's ``train_relu_net`` rows -> mean dead fractions, collapsed seeds, median / best / worst error."""
    errors = [r["rel_l2_error"] for r in rows]
    return {"width": rows[0]["width"], "seeds": len(rows),
            "mean_dead_at_init": float(np.mean([r["dead_at_init"] for r in rows])),
            "mean_dead_after": float(np.mean([r["dead_after"] for r in rows])),
            "seeds_with_dead_units": sum(r["dead_units"] > 0 for r in rows),
            "collapsed": sum(r["collapsed"] for r in rows),
            "median_error": float(np.median(errors)), "best_error": float(np.min(errors)),
            "worst_error": float(np.max(errors))}


def compare_widths(narrow_errors: Sequence[float], wide_errors: Sequence[float]) -> F.Finding:
    """B2: is the narrow net a worse approximator than the wide one? Relative errors across seeds (ranges must not
    overlap). A seed that fails to fit is counted, not excluded: whether the narrow net can fit is the question."""
    f = F.compare_seeds(narrow_errors, wide_errors, higher_is_better=False)
    return F.Finding(f.verdict, {**f.numbers, "narrow_over_wide": f.numbers["a"] / f.numbers["b"]}, f.interval,
                     criterion=f.criterion)


DEAD_LAYER, DEAD_UNITS_ONLY, NO_DEAD_UNITS, COLLAPSE_UNEXPLAINED = (
    "collapse through an entirely dead layer", "dead units, no collapse", "no dead units",
    "collapse without a dead layer")


def dying_relu_cause(rows: Sequence[Mapping]) -> F.Finding:
    """B2: what the measurements say about dying ReLU in one width's seeds (``train_relu_net`` rows).

    "collapse through an entirely dead layer": every collapsed seed has a layer whose units are all dead — the
    measured mechanism (a dead layer passes nothing, so the output is constant); "dead units, no collapse": dead
    units but no collapse, so their effect on the error is not measured here (a hypothesis); "no dead units";
    "collapse without a dead layer": a collapse the dead units do not explain."""
    collapsed = [r for r in rows if r["collapsed"]]
    dead = [r for r in rows if r["dead_units"] > 0]
    numbers = {"seeds": len(rows), "collapsed": len(collapsed), "seeds_with_dead_units": len(dead),
               "collapsed_with_dead_layer": sum(r["all_dead_layers"] > 0 for r in collapsed)}
    if collapsed:
        verdict = DEAD_LAYER if all(r["all_dead_layers"] > 0 for r in collapsed) else COLLAPSE_UNEXPLAINED
    else:
        verdict = DEAD_UNITS_ONLY if dead else NO_DEAD_UNITS
    return F.Finding(verdict, numbers, hypothesis=verdict == DEAD_UNITS_ONLY,
                     criterion="a collapsed seed is explained when one of its layers has every unit dead on the grid")


def initializer_family(label: str) -> str:
    """'He' or 'Xavier' from a label such as 'He uniform'."""
    return label.split()[0]


def rank_initializers(mean_error: Mapping[str, float]) -> dict:
    """B4: the initialisers ordered by median error (best first), the spread best→worst, and which family ranks first.

    ``leader`` is "He" or "Xavier" when both best-ranked initialisers are of that family, else "mixed". An ordering
    of medians, not a comparison: whether one family is better is ``compare_families``' verdict, per depth.
    """
    ranking = sorted(mean_error, key=mean_error.get)
    families = {initializer_family(label) for label in ranking[:2]}
    return {"ranking": ranking, "spread": float(mean_error[ranking[-1]] - mean_error[ranking[0]]),
            "leader": families.pop() if len(families) == 1 else "mixed"}


def summarise_settings(rows: Sequence[Mapping], keys: Sequence[str] = ("initializer", "depth")) -> list[dict]:
    """B4: one row per setting (the values of ``keys``): the test error's median and range over seeds, and how many
    seeds passed the fit check (``function_fit``)."""
    out = []
    for setting in dict.fromkeys(tuple(r[k] for k in keys) for r in rows):
        rs = [r for r in rows if tuple(r[k] for k in keys) == setting]
        i = F.seed_interval([r["test_rel_l2_error"] for r in rs])
        out.append({**dict(zip(keys, setting)), "seeds": i.n, "median_error": i.center, "min_error": i.low,
                    "max_error": i.high, "fits": sum(F.fitted(function_fit(r["train_mse"])) for r in rs),
                    "median_train_mse": float(np.median([r["train_mse"] for r in rs])),
                    "median_output_std_at_init": float(np.median([r["output_std_at_init"] for r in rs]))})
    return out


def _fitted_errors(rows: Sequence[Mapping]) -> tuple[list[float], int]:
    """The test errors of the runs that passed the fit check (``function_fit``), and how many runs failed it."""
    fitted = [r["test_rel_l2_error"] for r in rows if F.fitted(function_fit(r["train_mse"]))]
    return fitted, len(rows) - len(fitted)


def _compare_fitted(rows_a: Sequence[Mapping], rows_b: Sequence[Mapping], extra: Mapping) -> F.Finding:
    """A's test errors against B's over the runs that fit (a failed fit is reported, never compared): "better" only
    when the whole range of one lies below the other's; "not comparable" with fewer than 3 fitted runs a side."""
    (a, failed_a), (b, failed_b) = _fitted_errors(rows_a), _fitted_errors(rows_b)
    counts = {"failed_a": failed_a, "failed_b": failed_b, **extra}
    if min(len(a), len(b)) < F.MIN_SEEDS:
        return F.Finding(F.NOT_COMPARABLE, {"seeds_a": len(a), "seeds_b": len(b), **counts},
                         criterion=f"fewer than {F.MIN_SEEDS} runs that passed the fit check on a side")
    f = F.compare_seeds(a, b, higher_is_better=False)
    return F.Finding(f.verdict, {**f.numbers, **counts}, f.interval,
                     criterion=f.criterion + " (runs that passed the fit check only)")


def compare_families(rows: Sequence[Mapping], depth: int, family_a: str = "He", family_b: str = "Xavier") -> F.Finding:
    """B4: at one depth, ``family_a``'s test errors (both variants, every seed that fits) against ``family_b``'s:
    "better" only when the whole range of one lies below the other's."""
    def runs(family):
        return [r for r in rows if r["depth"] == depth and initializer_family(r["initializer"]) == family]
    return _compare_fitted(runs(family_a), runs(family_b), {"depth": depth})


def compare_depths(rows: Sequence[Mapping], shallow: int, deep: int) -> F.Finding:
    """B4: the shallowest depth's test errors (every initialiser and seed that fits) against the deepest's
    ("better": the shallow nets' whole range lies below the deep nets')."""
    return _compare_fitted([r for r in rows if r["depth"] == shallow], [r for r in rows if r["depth"] == deep],
                           {"shallow": shallow, "deep": deep})
