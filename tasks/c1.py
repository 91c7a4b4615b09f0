"""C1: Coursework 1 Part 1 — Keras models 1-3 (linear; 32 ReLU; 32-32 ReLU), nine (epochs, LR) settings.

Every model is trained exactly as the text prescribes (``hwkit.assignments.c_coursework``): Xavier (Glorot)
initialisation, plain SGD, batch size 100, softmax cross-entropy summed over the batch, the
training set reshuffled every epoch, and every 20 000 training samples an evaluation on a fixed
20% of the training set and on the whole test set (the coursework's monitoring protocol; nothing
is chosen from the test set). Produces the 3x3 learning-curve grid (models as columns, settings
as rows) and the summary table of final test accuracies, as the text's plot_learning_curves and
plot_summary_table do.

Settings (num_epochs, learning_rate):
  Model 1: (5, 1e-4) (5, 1e-3) (15, 0.1)
  Model 2: (15, 1e-4) (15, 5e-3) (15, 0.1)
  Model 3: (5, 1e-3) (40, 1e-3) (40, 0.05)
"""
from __future__ import annotations

from hwkit.assignments import c_coursework
from hwkit.task import choose_recipe, main

MODELS = (1, 2, 3)
FULL, QUICK = c_coursework.FULL, c_coursework.QUICK   # the protocol; quick: 4 000 images, 1 epoch


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    c_coursework.run_protocol(run, args, MODELS, recipe,
                              "Learning curves for models 1-3 and their hyper-parameter settings (Keras)")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
