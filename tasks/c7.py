"""C7: Coursework 1 Part 3, model 5 — separable convolutions (3x3x8, 3x3x4 + max-pool); curves and table for models 3-5.

Model 5 (``hwkit.c_coursework.separable_cnn`` defaults): input 28x28x1 -> separable conv 3x3x8 (ReLU)
-> separable conv 3x3x4 (ReLU) -> maxpool 2x2 -> flatten (14x14x4) -> dense 32 ReLU -> dense 10
-> softmax, SAME padding, stride 1. Each separable conv is a 3x3 depthwise conv (one filter per
input channel) followed by a 1x1 pointwise conv. Same protocol and settings as model 4.

The coursework then plots models 3, 4 and 5 side by side: model 3's curves are read from the
latest C1 run and model 4's from the latest C6 run (their run directories are recorded in this
run's metrics); a model without a run is left out of the grid and named in the log.
"""
from __future__ import annotations

from hwkit.assignments import c_coursework
from hwkit.task import choose_recipe, main

REQUIRES = dict.fromkeys(("c1", "c6"), c_coursework.PROTOCOL_TABLES)  # tasks whose latest runs this task reads

MODELS = (5,)
EARLIER = {3: "c1", 4: "c6"}   # model -> the task whose run holds its curves
FULL, QUICK = c_coursework.FULL, c_coursework.QUICK   # the protocol; quick: 4 000 images, 1 epoch


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    d, results = c_coursework.run_protocol(run, args, MODELS, recipe, "Learning curves of model 5 (separable CNN)")

    # Results for models 3-5: the coursework's plot_learning_curves / plot_summary_table.
    experiments, sources = c_coursework.earlier_experiments(EARLIER, include_quick=args.quick, reader=run.task)
    experiments[5] = [r.experiment for r in results[5]]
    c_coursework.save_experiment_figures(run, experiments, d.log_period,
                                         "Learning curves for models 3-5 (MLP, CNN, separable CNN)",
                                         suffix="_models345")
    run.log(models345_sources=sources)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
