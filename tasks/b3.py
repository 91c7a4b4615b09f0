"""B3: piecewise oscillatory f from 80 noisy points with L1, L2 and dropout regularisation (<5% relative L2 test error).

Homework 5, task 3: learn f(x) = 5 + Σ_{k=1..4} sin(kx) on [-π, 0), cos(10x) on [0, π] with a ReLU
network from 80 equispaced points in [-π, π] with N(0, 0.1²) noise, trained with (a) L1,
(b) L2, (c) dropout regularisation, to a relative L2 error below 5% on 1000 equispaced test points.

How: one ReLU network of 4 × 64 units (input scaled to [-1, 1], He-normal weights, first-layer
biases placing the ReLU kinks uniformly over the domain instead of all at 0, Adam with cosine
decay, full batch). For each kind of regularisation a small grid of strengths is trained on 64 of the 80
points and scored on the other 16 (every 5th point: an interleaved validation split that covers
both halves of the domain); the strength with the lowest validation error is then retrained on
all 80 points and only that network is evaluated on the test points. The test set chooses nothing.
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np

from hwkit import models
from hwkit.assignments import b_functions
from hwkit.task import choose_recipe, main

WIDTHS = [64, 64, 64, 64]      # hidden layers
INITIALIZER = "he_normal"      # plus first-layer kinks spread over the domain (b_functions.spread_first_layer_kinks)
LEARNING_RATE = 3e-3
VALIDATION_EVERY = 5           # every 5th training point is held out for validation (16 of 80)
TARGET = 0.05                  # the assignment's relative L2 error
STRENGTHS = {                  # candidates per regularisation, weakest first
    "L1": [1e-6, 1e-5, 1e-4],
    "L2": [1e-5, 1e-4, 1e-3],
    "dropout": [0.01, 0.03, 0.1],
}



@dataclasses.dataclass(frozen=True)
class Recipe:
    steps: int = 4000                  # full-batch Adam steps; --epochs N means N × 100 steps
    candidates: int | None = None      # the first N STRENGTHS per kind (None: all)


FULL = Recipe()
QUICK = Recipe(steps=100, candidates=1)


def build(kind: str, strength: float) -> keras.Model:
    """The network with one kind of regularisation at the given strength (L1/L2 on the hidden kernels)."""
    regularizer = {"L1": keras.regularizers.L1, "L2": keras.regularizers.L2}.get(kind)
    return models.dense_net(1, WIDTHS, kernel_initializer=INITIALIZER, input_scale=1 / np.pi,
                            kernel_regularizer=regularizer(strength) if regularizer else None,
                            dropout=strength if kind == "dropout" else 0.0, name=f"{kind}_{strength:g}")


def fit_and_predict(kind, strength, x, y, x_eval, steps, seed) -> tuple[np.ndarray, keras.callbacks.History]:
    keras.utils.set_random_seed(seed)
    model = build(kind, strength)
    b_functions.spread_first_layer_kinks(model, -1.0, 1.0, seed)  # the input is scaled to [-1, 1] inside the model
    history = b_functions.fit_function(model, x, y, steps, LEARNING_RATE, seed=seed)
    return model.predict(x_eval, batch_size=len(x_eval), verbose=0).ravel(), history


def run(args, run):
    # Data: 80 noisy equispaced points (seeded noise) and 1000 exact test points.
    x_train, y_train, x_test, f_test = b_functions.oscillatory_data(seed=args.seed)
    is_val = np.arange(len(x_train)) % VALIDATION_EVERY == VALIDATION_EVERY - 1
    x_fit, y_fit, x_val, y_val = x_train[~is_val], y_train[~is_val], x_train[is_val], y_train[is_val]
    recipe = choose_recipe(args, FULL, QUICK, steps=100 * args.epochs if args.epochs else None)
    steps = recipe.steps
    near_jump = b_functions.jump_zone(x_test, len(x_train))

    # Choose each strength on the validation split (validation error is against the noisy targets).
    selection, finals, curves = [], [], {}
    for kind, candidates in STRENGTHS.items():
        candidates = candidates[: recipe.candidates]
        scores = []
        for strength in candidates:
            pred_val, _ = fit_and_predict(kind, strength, x_fit, y_fit, x_val, steps, args.seed)
            scores.append(b_functions.relative_l2_error(pred_val, y_val))
            selection.append({"regularisation": kind, "strength": strength, "val_rel_l2_error": scores[-1]})
            print(f"{kind} {strength:g}: validation relative L2 error {scores[-1]:.4f}")
        choice = b_functions.choose_strength(candidates, scores)
        best = choice["strength"]

        # Retrain the chosen setting on all 80 points; evaluate it once on the test points.
        pred_test, history = fit_and_predict(kind, best, x_train, y_train, x_test, steps, args.seed)
        error = b_functions.relative_l2_error(pred_test, f_test)
        # Where the error is: around the jump of f at x = 0 (within one training-grid spacing) vs elsewhere.
        sq = (pred_test - f_test.ravel()) ** 2
        finals.append({"regularisation": kind, "strength": best, "val_rel_l2_error": choice["val_rel_l2_error"],
                       "weakest_candidate": choice["weakest"],
                       "train_loss": float(history.history["loss"][-1]), "test_rel_l2_error": error,
                       "error_share_near_jump": float(sq[near_jump].sum() / sq.sum()),
                       "error_without_jump_zone": b_functions.relative_l2_error(pred_test[~near_jump],
                                                                                f_test[~near_jump]),
                       "below_target": bool(error < TARGET)})
        curves[kind] = pred_test
        print(f"{kind}: chose {best:g}; test relative L2 error {error:.4f}")
    run.save_table("selection", selection)
    run.save_table("final", finals)

    # Figure: the three fits against f and the noisy training data.
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), sharey=True, squeeze=False)
    for ax, row in zip(axes[0], finals):
        ax.plot(x_test, f_test, "k", lw=2, label="f (exact)")
        ax.plot(x_test, curves[row["regularisation"]], "C3", lw=1.2, label="network")
        ax.plot(x_fit, y_fit, "C0.", ms=4, label="training points")
        ax.plot(x_val, y_val, "C2^", ms=4, label="validation points")
        ax.set_title(f"{row['regularisation']} {row['strength']:g}: test error {row['test_rel_l2_error']:.2%}")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    run.save_figure(fig, "fits")

    weakest = [r["regularisation"] for r in finals if r["weakest_candidate"]]
    run.log(widths=WIDTHS, initializer=INITIALIZER, steps=steps, learning_rate=LEARNING_RATE,
            train_points=len(x_train), noise_std=b_functions.OSCILLATORY_NOISE, validation_every=VALIDATION_EVERY,
            fit_points=int((~is_val).sum()), validation_points=int(is_val.sum()), test_points=len(x_test),
            jump_zone_points=int(near_jump.sum()), jump_zone_halfwidth=b_functions.jump_zone_halfwidth(len(x_train)),
            target=TARGET, all_below_target=all(r["below_target"] for r in finals),
            targets_reached=sum(r["below_target"] for r in finals), regularisations=len(finals),
            weakest_chosen=weakest, all_weakest_chosen=len(weakest) == len(finals),
            test_errors={r["regularisation"]: r["test_rel_l2_error"] for r in finals},
            chosen={r["regularisation"]: r["strength"] for r in finals})


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
