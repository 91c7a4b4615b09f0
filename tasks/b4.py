"""B4: Xavier normal/uniform vs He normal/uniform initialisation of 8-, 12- and 16-layer ReLU nets on the B3 function.

Homework 5, task 4: approximate the function of task 3 with Xavier (Glorot) normal, Xavier
uniform, He normal and He uniform initialisation, varying the depth from 8 to 16 layers, and
observe the learning.

How: the same data as B3 (80 noisy points, 1000 exact test points), a plain ReLU network of
``WIDTH`` units per hidden layer (no regularisation, no normalisation, so the initialisation is
the only thing that differs), full-batch Adam with cosine decay from the same seed for every
setting. Each run records the training loss and, for monitoring only, the test MSE every 100
steps; the table gives the final errors and the output spread at initialisation (how much signal
reaches the output before any training).
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np

from hwkit import models, plots
from hwkit.assignments import b_functions
from hwkit.task import choose_recipe, main

INITIALIZERS = {"Xavier normal": "glorot_normal", "Xavier uniform": "glorot_uniform",
                "He normal": "he_normal", "He uniform": "he_uniform"}
WIDTH = 32
LEARNING_RATE = 1e-3


@dataclasses.dataclass(frozen=True)
class Recipe:
    depths: tuple[int, ...] = (8, 12, 16)   # hidden layers
    steps: int = 2000                        # full-batch Adam steps; --epochs N means N × 100 steps


FULL = Recipe()
QUICK = Recipe(depths=(8,), steps=100)


def run(args, run):
    x_train, y_train, x_test, f_test = b_functions.oscillatory_data(seed=args.seed)
    recipe = choose_recipe(args, FULL, QUICK, steps=b_functions.STEPS_PER_EPOCH * args.epochs if args.epochs else None)
    steps, depths = recipe.steps, list(recipe.depths)

    rows, histories = [], {}
    for depth in depths:
        for label, initializer in INITIALIZERS.items():
            keras.utils.set_random_seed(args.seed)
            model = models.dense_net(1, [WIDTH] * depth, kernel_initializer=initializer, input_scale=1 / np.pi,
                                     name=f"{initializer}_{depth}")
            init_std = float(model.predict(x_test, batch_size=len(x_test), verbose=0).std())
            history = b_functions.fit_function(model, x_train, y_train, steps, LEARNING_RATE, seed=args.seed,
                                             validation_data=(x_test, f_test))
            pred = model.predict(x_test, batch_size=len(x_test), verbose=0).ravel()
            dead = np.concatenate(models.dead_relu_units(model, x_test))
            rows.append({"initializer": label, "depth": depth, "output_std_at_init": init_std,
                         "train_mse": float(history.history["loss"][-1]),
                         "test_rel_l2_error": b_functions.relative_l2_error(pred, f_test),
                         "dead_units": float(dead.mean())})
            histories[(label, depth)] = history.history
            print(f"{label:15s} depth {depth:2d}: test relative L2 error {rows[-1]['test_rel_l2_error']:.4f}")
    run.save_table("final", rows)

    # One figure: a column per depth; training loss (top row) and test MSE (bottom row), a curve per initialiser.
    fig, axes = plots.figure(2, len(depths), width="full" if len(depths) > 1 else "half", height_cm=10,
                             sharex=True, sharey="row")
    for col, depth in enumerate(depths):
        for row, (key, what) in enumerate((("loss", "training MSE"), ("val_loss", "test MSE (monitoring)"))):
            ax = axes[row, col]
            for k, label in enumerate(INITIALIZERS):
                h = histories[(label, depth)]
                step = b_functions.STEPS_PER_EPOCH * np.arange(1, len(h[key]) + 1)
                ax.semilogy(step, h[key], color=f"C{k}", label=label, marker="o" if len(step) < 30 else None)
            ax.set_title(f"{depth} layers × {WIDTH} units" if row == 0 else "")
            ax.set_xlabel("Adam step" if row == 1 else "")
            ax.set_ylabel(what if col == 0 else "")
            plots.thousands_axis(ax)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center",
               ncols=len(INITIALIZERS) if len(depths) > 1 else 2)
    run.save_figure(fig, "learning_curves")

    best = min(rows, key=lambda r: r["test_rel_l2_error"])
    mean_by_init = {label: float(np.mean([r["test_rel_l2_error"] for r in rows if r["initializer"] == label]))
                    for label in INITIALIZERS}
    mean_by_depth = {str(d): float(np.mean([r["test_rel_l2_error"] for r in rows if r["depth"] == d]))
                     for d in depths}
    best_depth = int(min(mean_by_depth, key=mean_by_depth.get))
    init_std = {str(d): {r["initializer"]: r["output_std_at_init"] for r in rows if r["depth"] == d} for d in depths}
    run.log(width=WIDTH, depths=depths, steps=steps, learning_rate=LEARNING_RATE,
            best_setting=f"{best['initializer']}, {best['depth']} layers", best_error=best["test_rel_l2_error"],
            mean_error_by_initializer=mean_by_init, mean_error_by_depth=mean_by_depth,
            best_initializer=min(mean_by_init, key=mean_by_init.get), best_depth=best_depth,
            shallowest=min(depths), deepest=max(depths), shallowest_best=best_depth == min(depths),
            output_std_at_init=init_std, initializer_ranking=b_functions.rank_initializers(mean_by_init))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
