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

import dataclasses

from hwkit.assignments import a_identity
from hwkit.task import choose_recipe, main

HIDDEN_LAYERS, UNITS = 6, 4

# Plain SGD; the rate is chosen from these candidates by a_identity.LR_RULE (table lr_check, first seed).
FULL = a_identity.Protocol(epochs=1000, seeds=5, lr_candidates=(0.5, 2.0, 5.0, 10.0))
QUICK = dataclasses.replace(FULL, epochs=300, seeds=3, lr_candidates=(2.0, 5.0))


def add_arguments(parser):
    a_identity.add_protocol_arguments(parser, FULL.seeds)


def build():
    """P1.1: the MLP h."""
    return a_identity.identity_mlp(HIDDEN_LAYERS, UNITS)


def run(args, run):
    # P1.1-P1.3: one training image and one test image per digit in [0, 1]; build the MLP, train it
    # with SGD for 1000 epochs, predict, measure the distances, conjecture h -- once per seed.
    protocol = choose_recipe(args, FULL, QUICK, seeds=args.seeds)
    d = a_identity.one_example_data(args.data_dir, args.digit, args.occurrence)
    a_identity.run_protocol(run, build, d, protocol, first_seed=args.seed, name="A1 MLP h", f="h")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
