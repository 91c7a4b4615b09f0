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

from hwkit.assignments import a_identity
from hwkit.cli import task_main

EPOCHS = 1000
SEEDS = 5                 # runs with seeds --seed, --seed+1, ...
LEARNING_RATE = 0.5       # plain SGD; the LR_CANDIDATES check on the training fit picked it
FILTERS, KERNEL = 10, 5

LR_CANDIDATES = (0.1, 0.5, 2.0, 5.0)   # recorded check (table lr_check); skipped with --quick

QUICK = dict(epochs=300, seeds=2)


def add_arguments(parser):
    a_identity.add_protocol_arguments(parser, SEEDS)


def run(args, run):
    # P2.1-P2.3: one training image and one test image per digit in [0, 1]; build the CNN, train it
    # with SGD for 1000 epochs, predict, measure the distances, conjecture g -- once per seed.
    a_identity.run_protocol(args, run, lambda: a_identity.identity_cnn(hidden_layers=1, filters=FILTERS, kernel_size=KERNEL),
                          name="A2 CNN g", f="g", epochs=EPOCHS, seeds=SEEDS, quick=QUICK,
                          learning_rate=LEARNING_RATE, lr_candidates=LR_CANDIDATES)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
