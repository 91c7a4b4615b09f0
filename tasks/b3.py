"""B3: piecewise oscillatory f from 80 noisy points with L1, L2 and dropout regularisation (<5% relative L2 test error).

Homework 5, task 3: learn f(x) = 5 + Σ_{k=1..4} sin(kx) on [-π, 0), cos(10x) on [0, π] with a ReLU
network from 80 equispaced points in [-π, π] with N(0, 0.1²) noise, trained with (a) L1,
(b) L2, (c) dropout regularisation, to a relative L2 error below 5% on 1000 equispaced test points.

How: one ReLU network of 4 × 64 units (input scaled to [-1, 1], He-normal weights, first-layer
biases placing the ReLU kinks uniformly over the domain instead of all at 0, Adam with cosine
decay, full batch). For each kind of regularisation a grid of strengths is trained on 64 of the 80
points and scored on the other 16 (every 5th point: an interleaved validation split that covers
both halves of the domain); while the best strength is at an edge of the grid, the grid is extended
beyond it (up to ``extensions`` times), and the report says whether the optimum ended inside.
The chosen strength, and an unregularised baseline, are then retrained on all 80 points from
``seeds`` initialisations and evaluated on the test points: each regularisation is compared with
the baseline across seeds. One measured ablation: the baseline without the spread first-layer kinks.
The test set chooses nothing.
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np

from hwkit import findings, models, plots
from hwkit.assignments import b_functions
from hwkit.task import choose_recipe, main

WIDTHS = [64, 64, 64, 64]      # hidden layers
INITIALIZER = "he_normal"      # plus first-layer kinks spread over the domain (b_functions.spread_first_layer_kinks)
LEARNING_RATE = 3e-3
VALIDATION_EVERY = 5           # every 5th training point is held out for validation (16 of 80)
TARGET = 0.05                  # the assignment's relative L2 error
STRENGTHS = {                  # the starting grid per regularisation, weakest first
    "L1": [1e-6, 1e-5, 1e-4],
    "L2": [1e-5, 1e-4, 1e-3],
    "dropout": [0.01, 0.03, 0.1],
}
GRID_FACTOR = {"L1": 10.0, "L2": 10.0, "dropout": 3.0}   # a grid extension steps this far beyond its edge
STRONGEST = {"dropout": 0.5}                             # no dropout rate above this is tried
BASELINE = "none"              # the unregularised network, trained the same way
ABLATION = "none, kinks at 0"  # the baseline with the default zero first-layer biases (all kinks at x = 0)


@dataclasses.dataclass(frozen=True)
class Recipe:
    steps: int = 4000                  # full-batch Adam steps; --epochs N means N × 100 steps
    candidates: int | None = None      # the first N STRENGTHS per kind (None: all)
    extensions: int = 2                # at most this many strengths added beyond an edge optimum, per kind
    seeds: int = 3                     # initialisations of every final (retrained) setting


FULL = Recipe()
QUICK = Recipe(steps=100, candidates=1, extensions=1)


def build(kind: str, strength: float) -> keras.Model:
    """The network with one kind of regularisation at the given strength (L1/L2 on the hidden kernels)."""
    regularizer = {"L1": keras.regularizers.L1, "L2": keras.regularizers.L2}.get(kind)
    return models.dense_net(1, WIDTHS, kernel_initializer=INITIALIZER, input_scale=1 / np.pi,
                            kernel_regularizer=regularizer(strength) if regularizer else None,
                            dropout=strength if kind == "dropout" else 0.0, name=f"{kind}_{strength:g}")


def fit_and_predict(kind, strength, x, y, x_eval, steps, seed, spread_kinks=True) -> tuple[np.ndarray, float]:
    """Train one setting; its prediction on ``x_eval`` and its final training MSE (penalty excluded)."""
    keras.utils.set_random_seed(seed)
    model = build(kind, strength)
    if spread_kinks:
        b_functions.spread_first_layer_kinks(model, -1.0, 1.0, seed)  # the input is scaled to [-1, 1] in the model
    b_functions.fit_function(model, x, y, steps, LEARNING_RATE, seed=seed)
    train_mse = float(np.mean((model.predict(x, batch_size=len(x), verbose=0).ravel() - np.ravel(y)) ** 2))
    return model.predict(x_eval, batch_size=len(x_eval), verbose=0).ravel(), train_mse


def run(args, run):
    # Data: 80 noisy equispaced points (seeded noise) and 1000 exact test points.
    x_train, y_train, x_test, f_test = b_functions.oscillatory_data(seed=args.seed)
    is_val = np.arange(len(x_train)) % VALIDATION_EVERY == VALIDATION_EVERY - 1
    x_fit, y_fit, x_val, y_val = x_train[~is_val], y_train[~is_val], x_train[is_val], y_train[is_val]
    recipe = choose_recipe(args, FULL, QUICK, steps=100 * args.epochs if args.epochs else None)
    steps = recipe.steps
    near_jump = b_functions.jump_zone(x_test, len(x_train))
    seeds = [args.seed + i for i in range(recipe.seeds)]

    def validation_error(kind, strength):
        pred_val, _ = fit_and_predict(kind, strength, x_fit, y_fit, x_val, steps, args.seed)
        error = b_functions.relative_l2_error(pred_val, y_val)
        selection.append({"regularisation": kind, "strength": strength, "val_rel_l2_error": error})
        print(f"{kind} {strength:g}: validation relative L2 error {error:.4f}")
        return error

    # Choose each strength on the validation split (error against the noisy held-out values); extend the grid
    # beyond an edge optimum. The unregularised baseline is scored the same way.
    selection, grids, chosen = [], {}, {BASELINE: 0.0}
    validation_error(BASELINE, 0.0)
    for kind, start in STRENGTHS.items():
        candidates = list(start[: recipe.candidates])
        scores = [validation_error(kind, s) for s in candidates]
        for _ in range(recipe.extensions):
            nxt = b_functions.next_strength(candidates, scores, GRID_FACTOR[kind], STRONGEST.get(kind))
            if nxt is None:
                break
            candidates.append(nxt)
            scores.append(validation_error(kind, nxt))
        grids[kind] = b_functions.grid_optimum(candidates, scores)
        chosen[kind] = grids[kind].numbers["strength"]
    run.save_table("selection", sorted(selection, key=lambda r: (r["regularisation"], r["strength"])))

    # Retrain every chosen setting (and the baseline, and the baseline without spread kinks) on all 80 points
    # from each seed; evaluate on the test points.
    settings = [(kind, strength, True) for kind, strength in chosen.items()] + [(BASELINE, 0.0, False)]
    per_seed, curves = [], {}
    for kind, strength, spread in settings:
        label = kind if spread else ABLATION
        for s in seeds:
            pred_test, train_mse = fit_and_predict(kind, strength, x_train, y_train, x_test, steps, s, spread)
            error = b_functions.relative_l2_error(pred_test, f_test)
            sq = (pred_test - f_test.ravel()) ** 2
            per_seed.append({"setting": label, "regularisation": kind, "strength": strength, "seed": s,
                             "train_mse": train_mse, "fit": b_functions.function_fit(train_mse).verdict,
                             "test_rel_l2_error": error, "below_target": bool(error < TARGET),
                             "error_share_near_jump": float(sq[near_jump].sum() / sq.sum()),
                             "error_without_jump_zone": b_functions.relative_l2_error(pred_test[~near_jump],
                                                                                      f_test[~near_jump])})
            curves.setdefault(label, pred_test)
            print(f"{label} {strength:g} seed {s}: train MSE {train_mse:.4f}, test relative L2 error {error:.4f}")
    run.save_table("seeds", per_seed)

    def of(label, key):
        return [r[key] for r in per_seed if r["setting"] == label]

    def fits(label):
        return [b_functions.function_fit(m) for m in of(label, "train_mse")]

    labels = [*chosen, ABLATION]
    key = {label: "ablation" if label == ABLATION else label for label in labels}
    found = {}
    for label in labels:
        errors = of(label, "test_rel_l2_error")
        found[f"target_{key[label]}"] = b_functions.target_reached(errors, TARGET, fits(label))
    for kind in STRENGTHS:
        found[f"grid_{kind}"] = grids[kind]
        found[f"vs_none_{kind}"] = b_functions.compare_errors(of(kind, "test_rel_l2_error"),
                                                              of(BASELINE, "test_rel_l2_error"),
                                                              fits(kind) + fits(BASELINE))
    found["kinks"] = b_functions.compare_errors(of(BASELINE, "test_rel_l2_error"),
                                                of(ABLATION, "test_rel_l2_error"), fits(BASELINE) + fits(ABLATION))
    summary = []
    for label in labels:
        errors, t = of(label, "test_rel_l2_error"), found[f"target_{key[label]}"]
        summary.append({"setting": label, "strength": chosen.get(label, 0.0),
                        "fitted_seeds": sum(f == findings.FITS for f in of(label, "fit")), "seeds": len(errors),
                        "median_test_error": t.numbers["median"], "min_test_error": t.numbers["low"],
                        "max_test_error": t.numbers["high"], "seeds_below_target": t.numbers["seeds_below"],
                        "median_share_near_jump": float(np.median(of(label, "error_share_near_jump"))),
                        "median_error_without_jump_zone": float(np.median(of(label, "error_without_jump_zone")))})
    run.save_table("final", summary)

    # Figure: the first seed's fit of every setting against f and the noisy training data.
    ncols = min(3, len(curves))
    nrows = -(-len(curves) // ncols)
    fig, axes = plots.figure(nrows, ncols, width="full", height_cm=min(11, 1.5 + 4.8 * nrows), sharey=True)
    for ax in axes.flat[len(curves):]:
        ax.set_visible(False)
    for k, (ax, (label, pred)) in enumerate(zip(axes.flat, curves.items())):
        ax.plot(x_test, f_test, "k", lw=2, label="f (exact)")
        ax.plot(x_test, pred, "C3", lw=1.2, label="network")
        ax.plot(x_fit, y_fit, "C0.", ms=4, label="training points")
        ax.plot(x_val, y_val, "C2^", ms=4, label="validation points")
        row = next(r for r in per_seed if r["setting"] == label)
        ax.set_title(f"{label} {row['strength']:g} (seed {row['seed']})\ntest error {row['test_rel_l2_error']:.2%}"
                     + ("" if row["fit"] == findings.FITS else "\nFAILED TO FIT"))
        ax.set_xlabel("x")
        ax.set_ylabel("y" if k % ncols == 0 else "")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=4)
    run.save_figure(fig, "fits")

    run.log(widths=WIDTHS, initializer=INITIALIZER, steps=steps, learning_rate=LEARNING_RATE, seeds=len(seeds),
            train_points=len(x_train), noise_std=b_functions.OSCILLATORY_NOISE, validation_every=VALIDATION_EVERY,
            fit_points=int((~is_val).sum()), validation_points=int(is_val.sum()), test_points=len(x_test),
            jump_zone_points=int(near_jump.sum()), jump_zone_halfwidth=b_functions.jump_zone_halfwidth(len(x_train)),
            target=TARGET, fit_mse=b_functions.FIT_MSE, max_extensions=recipe.extensions,
            grid_factor=GRID_FACTOR, chosen=chosen,
            test_errors={label: found[f"target_{key[label]}"].numbers["median"] for label in labels},
            findings=findings.as_dicts(found))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
