"""C6: Coursework 1 Part 3, model 4 — two 3x3x8 conv + 2x2 max-pool blocks, 32 ReLU, softmax; three settings.

Model 4 (``hwkit.c_coursework.coursework_cnn``): input 28x28x1 -> conv 3x3x8 (ReLU) -> maxpool 2x2 ->
conv 3x3x8 (ReLU) -> maxpool 2x2 -> flatten (7x7x8) -> dense 32 ReLU -> dense 10 -> softmax,
SAME padding, stride 1, non-overlapping pools. Trained with the Part 1 protocol
(``hwkit.assignments.c_coursework``: Xavier init, SGD, batch 100, summed cross-entropy, evaluation every
20 000 samples on a fixed 20% of train and on all of test) for the settings
(5, 0.01) (10, 0.001) (20, 0.001).
"""
from __future__ import annotations

from hwkit.assignments import c_coursework
from hwkit.task import choose_recipe, main

MODELS = (4,)
FULL, QUICK = c_coursework.FULL, c_coursework.QUICK   # the protocol; quick: 4 000 images, 1 epoch


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    c_coursework.run_protocol(run, args, MODELS, recipe, "Learning curves of model 4 (CNN)")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
