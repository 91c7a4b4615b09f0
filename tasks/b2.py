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

from hwkit import findings, plots
from hwkit.assignments import b_functions
from hwkit.task import MAX_SEEDS, bounded_int, choose_recipe, main

DEPTH = 8                # hidden layers
WIDTH = 4                # units per hidden layer: the "narrow" net of the assignment
WIDE = 32                # contrast: same depth, wide
INITIALIZER = "he_normal"
TRAIN_POINTS = 201       # equispaced training points on [-1, 1]
GRID_POINTS = 2001       # dense grid for dead units and the error (includes no training point twice)
BATCH_SIZE = 32
LEARNING_RATE = 3e-3


@dataclasses.dataclass(frozen=True)
class Recipe:
    seeds: int = 8           # independent initialisations per network
    steps: int = 3000        # Adam steps (cosine decay to 1% of the peak); --epochs N means N × 100 steps


FULL = Recipe()
QUICK = Recipe(seeds=2, steps=200)


def add_arguments(parser):
    parser.add_argument("--seeds", type=bounded_int(1, MAX_SEEDS, "a number of seeds"),
                        help=f"seeds per network (default {FULL.seeds})")


def run(args, run):
    # Data: the Runge function on an equispaced training grid and a dense evaluation grid.
    x_train = b_functions.uniform_grid(-1.0, 1.0, TRAIN_POINTS)
    y_train = b_functions.runge(x_train)
    grid = b_functions.uniform_grid(-1.0, 1.0, GRID_POINTS)
    f_grid = b_functions.runge(grid).ravel()
    recipe = choose_recipe(args, FULL, QUICK, seeds=args.seeds,
                           steps=b_functions.STEPS_PER_EPOCH * args.epochs if args.epochs else None)
    steps = recipe.steps
    seeds = [args.seed + i for i in range(recipe.seeds)]

    # The deep narrow net (the assignment's) and the wide contrast, same seeds, same training.
    rows, preds = {}, {}
    for width in (WIDTH, WIDE):
        results = [b_functions.train_relu_net(DEPTH, width, s, x_train, y_train, grid, f_grid, steps, LEARNING_RATE,
                                              BATCH_SIZE, initializer=INITIALIZER) for s in seeds]
        rows[width] = [r for r, _ in results]
        preds[width] = [p for _, p in results]
    run.save_table("seeds", rows[WIDTH] + rows[WIDE])
    summary = [b_functions.summarise_seeds(rows[WIDTH]), b_functions.summarise_seeds(rows[WIDE])]
    run.save_table("summary", summary)

    # Figures: every seed's fit, and the dead-unit fraction per seed.
    per_panel = 4
    chunks = [range(i, min(i + per_panel, len(seeds))) for i in range(0, len(seeds), per_panel)]
    fig, axes = plots.figure(len(chunks), 2, width="full", height_cm=min(11, 5.5 * len(chunks)), sharex=True,
                             sharey=True)
    for col, width in enumerate((WIDTH, WIDE)):
        for r, chunk in enumerate(chunks):
            ax = axes[r, col]
            ax.plot(grid, f_grid, "k", lw=2.5, label="Runge 1/(1+25x²)")
            for i in chunk:
                row, pred = rows[width][i], preds[width][i]
                ax.plot(grid, pred, lw=1, label=f"seed {row['seed']} ({row['dead_after']:.0%} dead)")
            ax.set_title(f"{DEPTH} layers × {width} units" if r == 0 else "")
            ax.set_xlabel("x" if r == len(chunks) - 1 else "")
            ax.set_ylabel("f(x), network" if col == 0 else "")
            ax.legend(loc="upper right")
    run.save_figure(fig, "fits")
    fig, axes = plots.figure(1, 1, width="full", height_cm=5.5)
    ax = axes[0, 0]
    offset = 0.2
    for k, width in enumerate((WIDTH, WIDE)):
        xs = np.arange(len(seeds)) + (k - 0.5) * 2 * offset
        ax.bar(xs - offset / 2, [r["dead_at_init"] for r in rows[width]], offset, label=f"width {width}: at init")
        ax.bar(xs + offset / 2, [r["dead_after"] for r in rows[width]], offset, label=f"width {width}: after training")
    ax.set_xticks(np.arange(len(seeds)), [str(s) for s in seeds])
    ax.set_xlabel("seed")
    ax.set_ylabel("fraction of dead hidden units")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2)
    ax.grid(alpha=0.3, axis="y")
    run.save_figure(fig, "dead_units")

    narrow, wide = summary
    run.log(depth=DEPTH, width=WIDTH, wide=WIDE, initializer=INITIALIZER, seeds=len(seeds), steps=steps,
            batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, train_points=TRAIN_POINTS,
            grid_points=GRID_POINTS, collapse_std=b_functions.COLLAPSE_STD,
            narrow=narrow, wide_summary=wide,
            findings=findings.as_dicts({
                "widths": b_functions.compare_widths([r["rel_l2_error"] for r in rows[WIDTH]],
                                                     [r["rel_l2_error"] for r in rows[WIDE]]),
                "cause": b_functions.dying_relu_cause(rows[WIDTH]),
                "cause_wide": b_functions.dying_relu_cause(rows[WIDE])}))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
