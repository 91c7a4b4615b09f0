"""B4: Xavier normal/uniform vs He normal/uniform initialisation of 8-, 12- and 16-layer ReLU nets on the B3 function.

Homework 5, task 4: approximate the function of task 3 with Xavier (Glorot) normal, Xavier
uniform, He normal and He uniform initialisation, varying the depth from 8 to 16 layers, and
observe the learning.

How: the same data as B3 (80 noisy points, 1000 exact test points), a plain ReLU network of
``WIDTH`` units per hidden layer (no regularisation, no normalisation, so the initialisation is
the only thing that differs), full-batch Adam with cosine decay, 3 seeds per setting (the same seeds for every setting).
Each run records the training loss and, for monitoring only, the test MSE every 100 steps; the
tables give the final errors (median and range over seeds), the fit check and the output spread at
initialisation (how much signal reaches the output before any training). The findings compare He
with Xavier at each depth, and the shallowest depth with the deepest, over the seeds whose run
passed the fit check (``b_functions.compare_families`` / ``compare_depths``; a failed fit is
counted and reported, never compared).
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np

from hwkit import findings, models, plots
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
    seeds: int = 3                           # per setting: a comparison needs findings.MIN_SEEDS


FULL = Recipe()
QUICK = Recipe(depths=(8,), steps=100, seeds=1)


def run(args, run):
    x_train, y_train, x_test, f_test = b_functions.oscillatory_data(seed=args.seed)
    recipe = choose_recipe(args, FULL, QUICK, steps=b_functions.STEPS_PER_EPOCH * args.epochs if args.epochs else None)
    steps, depths = recipe.steps, list(recipe.depths)

    rows, histories = [], {}
    for depth in depths:
        for label, initializer in INITIALIZERS.items():
            for seed in range(args.seed, args.seed + recipe.seeds):
                keras.utils.set_random_seed(seed)
                model = models.dense_net(1, [WIDTH] * depth, kernel_initializer=initializer, input_scale=1 / np.pi,
                                         name=f"{initializer}_{depth}")
                init_std = float(model.predict(x_test, batch_size=len(x_test), verbose=0).std())
                history = b_functions.fit_function(model, x_train, y_train, steps, LEARNING_RATE, seed=seed,
                                                   validation_data=(x_test, f_test))
                pred = model.predict(x_test, batch_size=len(x_test), verbose=0).ravel()
                dead = np.concatenate(models.dead_relu_units(model, x_test))
                rows.append({"initializer": label, "depth": depth, "seed": seed, "output_std_at_init": init_std,
                             "train_mse": float(history.history["loss"][-1]),
                             "test_rel_l2_error": b_functions.relative_l2_error(pred, f_test),
                             "dead_units": float(dead.mean())})
                if seed == args.seed:    # the figure draws the first seed's curves
                    histories[(label, depth)] = history.history
                print(f"{label:15s} depth {depth:2d} seed {seed}: test relative L2 error "
                      f"{rows[-1]['test_rel_l2_error']:.4f}")
    run.save_table("final", rows)
    settings = b_functions.summarise_settings(rows)
    run.save_table("settings", settings)

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

    median_by_init = {label: float(np.median([r["test_rel_l2_error"] for r in rows if r["initializer"] == label]))
                      for label in INITIALIZERS}
    init_std = {str(d): {s["initializer"]: s["median_output_std_at_init"] for s in settings if s["depth"] == d}
                for d in depths}
    found = {f"families_{d}": b_functions.compare_families(rows, d) for d in depths}
    if len(depths) > 1:
        found["depths"] = b_functions.compare_depths(rows, min(depths), max(depths))
    run.log(width=WIDTH, depths=depths, steps=steps, learning_rate=LEARNING_RATE, seeds=recipe.seeds,
            median_error_by_initializer=median_by_init, shallowest=min(depths), deepest=max(depths),
            output_std_at_init=init_std, initializer_ranking=b_functions.rank_initializers(median_by_init),
            fit_mse=b_functions.FIT_MSE, failed_fits=sum(s["seeds"] - s["fits"] for s in settings),
            findings=findings.as_dicts(found))

if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
