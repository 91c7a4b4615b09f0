"""Seconds per training epoch of the same MNIST model in our numpy library (C4) and in Keras (C1).

Same model and setting on both sides — by default assignment C's model 2 (784 -> 32 ReLU -> 10),
Xavier-uniform init, plain SGD with learning rate 5e-3, batch size 100, cross-entropy summed over
the batch — trained for a few epochs on all 60 000 training images. Printed: seconds of each epoch
(Keras' first epoch includes tracing the graph, so the median of the later epochs is the fair
number), and the test accuracy reached, which should agree to within ~1.5 points.

    HWKIT_DATA_DIR=../shared/datasets python benchmarks/numpy_vs_keras_epoch_time.py [--model 2] [--epochs 3]
        [--machine-state idle|loaded]   # records the result in benchmarks/results/ (benchmarks/results.py)

numpy runs with OpenBLAS limited to one thread (see hwkit/numpy_nn/threads.py); TensorFlow uses
its default thread pools. The machine's load from other processes changes both numbers.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

import numpy as np  # noqa: E402

from hwkit import data  # noqa: E402
from hwkit import numpy_nn as nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import add_machine_state, record  # noqa: E402

HIDDEN = {1: (), 2: (32,), 3: (32, 32)}
BATCH_SIZE = 100


def numpy_epochs(x, y, x_test, y_test, hidden, lr, epochs, seed) -> tuple[list[float], float]:
    rng = np.random.default_rng(seed)
    model = nn.mlp(784, hidden, 10, weight_init=nn.xavier_uniform, rng=rng)
    loss, optimizer = nn.SoftmaxCrossEntropy("sum"), nn.SGD(model.parameters(), lr)
    times = []
    with nn.single_threaded_blas():
        for _ in range(epochs):
            started = time.perf_counter()
            for idx in nn.batches(len(x), BATCH_SIZE, rng):
                nn.train_step(model, loss, optimizer, x[idx], y[idx])
            times.append(time.perf_counter() - started)
        return times, nn.accuracy(model, x_test, y_test)


def keras_epochs(x, y, x_test, y_test, hidden, lr, epochs, seed) -> tuple[list[float], float]:
    import keras
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)),
                              *[keras.layers.Dense(w, activation="relu", kernel_initializer="glorot_uniform")
                                for w in hidden],
                              keras.layers.Dense(10, kernel_initializer="glorot_uniform")])
    model.compile(optimizer=keras.optimizers.SGD(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                  metrics=["accuracy"])

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    timer = EpochTimer()
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    return timer.times, float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=int, choices=(1, 2, 3), default=2, help="assignment C model (default 2)")
    parser.add_argument("--lr", type=float, default=5e-3, help="SGD learning rate (default 5e-3)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per framework (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="MNIST folder (default $HWKIT_DATA_DIR)")
    add_machine_state(parser)
    args = parser.parse_args(argv)

    (x, y), (x_test, y_test) = data.load_mnist(args.data_dir)
    x, x_test = (data.to_float(a, channel_axis=False).reshape(len(a), -1) for a in (x, x_test))
    hidden = HIDDEN[args.model]
    print(f"model {args.model} (hidden {hidden or 'none'}), lr {args.lr}, batch {BATCH_SIZE}, summed loss, "
          f"{len(x)} training images, {args.epochs} epochs each")
    results = {}
    for name, fn in (("numpy", numpy_epochs), ("keras", keras_epochs)):
        times, acc = fn(x, y, x_test, y_test, hidden, args.lr, args.epochs, args.seed)
        steady = statistics.median(times[1:]) if len(times) > 1 else times[0]
        results[name] = {"seconds_per_epoch": steady, "epoch_seconds": times, "test_accuracy": acc}
        print(f"{name:>6}: epochs {', '.join(f'{t:.2f}' for t in times)} s; median after the first "
              f"{steady:.2f} s/epoch; test accuracy {acc:.4f}")
    ratio = results["numpy"]["seconds_per_epoch"] / results["keras"]["seconds_per_epoch"]
    print(f"numpy / keras time per epoch: {ratio:.2f}")
    record("numpy_vs_keras_epoch_time", {"model": args.model, "lr": args.lr, "epochs": args.epochs, "seed": args.seed,
                                         **results, "ratio": ratio}, args.machine_state, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
