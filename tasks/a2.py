"""A2: CNN g (conv 10 filters 5x5 "same" + ReLU, 5x5 sigmoid output conv) on ONE image, 5 seeds: constant or identity?

Assignment A, P2. Same data and protocol as A1 (one MNIST training image, default the first "7";
the first test image of each digit), with the CNN g: [0,1]^28x28 -> [0,1]^28x28 of P2.1:
Conv2D(10 filters, 5x5, "same", ReLU), then the convolutional output layer Conv2D(1 filter, 5x5,
"same", stride 1, sigmoid) — one filter because the output is one grey channel, "same" padding
and stride 1 so it is 28x28 again, sigmoid so it stays in [0, 1] like the targets, and 5x5 like
the first layer. P2.2 plain SGD on per-pixel binary cross-entropy, 1000 epochs of one step,
loss curve. P2.3 predictions, distances, per-run verdicts and the conjectured formula for g.
"""
from __future__ import annotations

import dataclasses

from hwkit.assignments import a_identity
from hwkit.task import choose_recipe, main

FILTERS, KERNEL = 10, 5

# Plain SGD; the rate is chosen from these candidates by a_identity.LR_RULE (table lr_check, first seed).
FULL = a_identity.Protocol(epochs=1000, seeds=5, lr_candidates=(0.1, 0.5, 2.0, 5.0))
QUICK = dataclasses.replace(FULL, epochs=300, seeds=3, lr_candidates=(0.1, 0.5))


def add_arguments(parser):
    a_identity.add_protocol_arguments(parser, FULL.seeds)


def build():
    """P2.1: the CNN g."""
    return a_identity.identity_cnn(hidden_layers=1, filters=FILTERS, kernel_size=KERNEL)


def run(args, run):
    # P2.1-P2.3: one training image and one test image per digit in [0, 1]; build the CNN, train it
    # with SGD for 1000 epochs, predict, measure the distances, conjecture g -- once per seed.
    protocol = choose_recipe(args, FULL, QUICK, seeds=args.seeds)
    d = a_identity.one_example_data(args.data_dir, args.digit, args.occurrence)
    a_identity.run_protocol(run, build, d, protocol, first_seed=args.seed, name="A2 CNN g", f="g")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
