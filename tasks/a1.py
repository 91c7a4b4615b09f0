"""A1: MLP h (6 dense layers of 4 ReLU units + 784 sigmoid) trained on ONE image, 5 seeds: constant or identity?

Assignment A, P1. Data: one MNIST training image (default the first "7" of the training set,
``--digit``/``--occurrence`` to change it) and the first test image of each digit 0-9, all
scaled to [0, 1]. P1.1 the MLP h: [0,1]^28x28 -> [0,1]^28x28: Flatten, 6 x Dense(4, ReLU),
Dense(784, sigmoid), Reshape. P1.2 plain SGD on per-pixel binary cross-entropy, 1000 epochs of
one step each (batch of 1), loss curve. P1.3 predictions on the training image and the test
images for 5 seeds; for every run and test image the distances of the prediction to the
training image and to the input decide the verdict (hwkit.assignments.a_identity), and the majority verdict
gives the conjectured formula for h.
"""
from __future__ import annotations

from hwkit.assignments import a_identity
from hwkit.cli import task_main

EPOCHS = 1000
SEEDS = 5                 # runs with seeds --seed, --seed+1, ...
# Plain SGD: the largest of LR_CANDIDATES that fits the training image (table lr_check). Largest, because
# runs whose last 4-unit layer dies can only learn through the 784 output biases, at lr/784 per step.
LEARNING_RATE = 5.0
HIDDEN_LAYERS, UNITS = 6, 4

LR_CANDIDATES = (0.5, 2.0, 5.0, 10.0)   # recorded check (table lr_check); skipped with --quick

QUICK = dict(epochs=300, seeds=2)


def add_arguments(parser):
    a_identity.add_protocol_arguments(parser, SEEDS)


def run(args, run):
    # P1.1-P1.3: one training image and one test image per digit in [0, 1]; build the MLP, train it
    # with SGD for 1000 epochs, predict, measure the distances, conjecture h -- once per seed.
    a_identity.run_protocol(args, run, lambda: a_identity.identity_mlp(HIDDEN_LAYERS, UNITS), name="A1 MLP h", f="h",
                          epochs=EPOCHS, seeds=SEEDS, quick=QUICK, learning_rate=LEARNING_RATE,
                          lr_candidates=LR_CANDIDATES)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
