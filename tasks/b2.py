"""B2: Runge function 1/(1+25x²) with a deep (8 layers) narrow (4 units) ReLU net; dying ReLU measured over seeds.

Homework 5, task 2: approximate the Runge function with a deep and narrow feed-forward ReLU
network and write observations (Lecture 5: dying ReLU).

How: the same 8×4 ReLU network (He-normal initialisation, the one recommended for ReLU) is
trained from several seeds with Adam + cosine decay on an equispaced grid. For every seed we
measure, on a dense grid of [-1, 1], which hidden units are *dead* (ReLU output 0 for every
grid input) before and after training, the relative L2 error of the fit, and whether the
network collapsed to a constant. An 8-layer network 32 units wide, trained the same way from
the same seeds, is the contrast that shows the width is what matters.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwkit import models
from hwkit.assignments import b_functions
from hwkit.cli import choose_recipe, positive_int, task_main

DEPTH = 8                # hidden layers
WIDTH = 4                # units per hidden layer: the "narrow" net of the assignment
WIDE = 32                # contrast: same depth, wide
INITIALIZER = "he_normal"
TRAIN_POINTS = 201       # equispaced training points on [-1, 1]
GRID_POINTS = 2001       # dense grid for dead units and the error (includes no training point twice)
BATCH_SIZE = 32
LEARNING_RATE = 3e-3
COLLAPSE_STD = 0.01      # "collapsed to a constant": prediction std < 1% of the target's std on the grid


@dataclasses.dataclass(frozen=True)
class Recipe:
    seeds: int = 8           # independent initialisations per network
    steps: int = 3000        # Adam steps (cosine decay to 1% of the peak); --epochs N means N × 100 steps


FULL = Recipe()
QUICK = Recipe(seeds=2, steps=200)


def add_arguments(parser):
    parser.add_argument("--seeds", type=positive_int, help=f"seeds per network (default {FULL.seeds})")


def train_one(width: int, seed: int, steps: int, x_train, y_train, grid, f_grid) -> tuple[dict, np.ndarray]:
    """Train one DEPTH × width ReLU net from ``seed``; return its row of measurements and its grid prediction."""
    import keras
    keras.utils.set_random_seed(seed)
    model = models.dense_net(1, [width] * DEPTH, kernel_initializer=INITIALIZER, name=f"relu_{DEPTH}x{width}")
    dead_init = np.concatenate(models.dead_relu_units(model, grid))
    history = b_functions.fit_function(model, x_train, y_train, steps, LEARNING_RATE, BATCH_SIZE, seed=seed)
    dead_layers = models.dead_relu_units(model, grid)
    dead = np.concatenate(dead_layers)
    pred = model.predict(grid, batch_size=len(grid), verbose=0).ravel()
    row = {"width": width, "seed": seed,
           "dead_at_init": float(dead_init.mean()), "dead_after": float(dead.mean()),
           "dead_units": int(dead.sum()), "units": int(dead.size),
           "all_dead_layers": int(sum(bool(layer.all()) for layer in dead_layers)),
           "train_mse": float(history.history["loss"][-1]),
           "rel_l2_error": b_functions.relative_l2_error(pred, f_grid),
           "collapsed": bool(pred.std() < COLLAPSE_STD * f_grid.std())}
    print(f"width {width} seed {seed}: dead {row['dead_after']:.0%} (init {row['dead_at_init']:.0%}), "
          f"rel. L2 error {row['rel_l2_error']:.3f}{' COLLAPSED' if row['collapsed'] else ''}")
    return row, pred


def summarise(rows: list[dict]) -> dict:
    """Per-width summary: mean dead fraction, collapsed seeds, median / best error."""
    errors = [r["rel_l2_error"] for r in rows]
    return {"width": rows[0]["width"], "seeds": len(rows),
            "mean_dead_at_init": float(np.mean([r["dead_at_init"] for r in rows])),
            "mean_dead_after": float(np.mean([r["dead_after"] for r in rows])),
            "seeds_with_dead_units": sum(r["dead_units"] > 0 for r in rows),
            "collapsed": sum(r["collapsed"] for r in rows),
            "median_error": float(np.median(errors)), "best_error": float(np.min(errors)),
            "worst_error": float(np.max(errors))}


def run(args, run):
    # Data: the Runge function on an equispaced training grid and a dense evaluation grid.
    x_train = b_functions.uniform_grid(-1.0, 1.0, TRAIN_POINTS)
    y_train = b_functions.runge(x_train)
    grid = b_functions.uniform_grid(-1.0, 1.0, GRID_POINTS)
    f_grid = b_functions.runge(grid).ravel()
    recipe = choose_recipe(args, FULL, QUICK, seeds=args.seeds, steps=100 * args.epochs if args.epochs else None)
    steps = recipe.steps
    seeds = [args.seed + i for i in range(recipe.seeds)]

    # The deep narrow net (the assignment's) and the wide contrast, same seeds, same training.
    rows, preds = {}, {}
    for width in (WIDTH, WIDE):
        results = [train_one(width, s, steps, x_train, y_train, grid, f_grid) for s in seeds]
        rows[width] = [r for r, _ in results]
        preds[width] = [p for _, p in results]
    run.save_table("seeds", rows[WIDTH] + rows[WIDE])
    summary = [summarise(rows[WIDTH]), summarise(rows[WIDE])]
    run.save_table("summary", summary)

    # Figures: every seed's fit, and the dead-unit fraction per seed.
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, width in zip(axes, (WIDTH, WIDE)):
        ax.plot(grid, f_grid, "k", lw=2.5, label="Runge 1/(1+25x²)")
        for row, pred in zip(rows[width], preds[width]):
            ax.plot(grid, pred, lw=1, label=f"seed {row['seed']} ({row['dead_after']:.0%} dead)")
        ax.set_title(f"{DEPTH} hidden layers × {width} ReLU units")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    run.save_figure(fig, "fits")
    fig, ax = plt.subplots(figsize=(7, 3.2))
    offset = 0.2
    for k, width in enumerate((WIDTH, WIDE)):
        xs = np.arange(len(seeds)) + (k - 0.5) * 2 * offset
        ax.bar(xs - offset / 2, [r["dead_at_init"] for r in rows[width]], offset, label=f"width {width}: at init")
        ax.bar(xs + offset / 2, [r["dead_after"] for r in rows[width]], offset, label=f"width {width}: after training")
    ax.set_xticks(np.arange(len(seeds)), [str(s) for s in seeds])
    ax.set_xlabel("seed")
    ax.set_ylabel("fraction of dead hidden units")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    run.save_figure(fig, "dead_units")

    narrow, wide = summary
    run.log(depth=DEPTH, width=WIDTH, wide=WIDE, initializer=INITIALIZER, seeds=len(seeds), steps=steps,
            batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, train_points=TRAIN_POINTS,
            grid_points=GRID_POINTS, collapse_std=COLLAPSE_STD,
            narrow=narrow, wide_summary=wide, **b_functions.compare_widths(narrow, wide))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
