"""Seconds of training this machine needs to reach 98%, 99% and 99.5% MNIST test accuracy (B1 recipe).

    python benchmarks/mnist_time_to_accuracy.py [--repeat 3] [--filters 16] [--epochs 8] [--data-dir D]

Trains ``hwkit.b_mnist_cnn.mnist_cnn`` with the B1 recipe (Adam, warm-up + cosine schedule over
``--epochs``, batch 128, BatchNorm, shift augmentation) on all 60 000 training images and
measures test accuracy every ``--every`` batches. Evaluation time is excluded from the clock.
This is a benchmark: the test set picks nothing and stops nothing except the benchmark itself.
Goals on 2 idle CPU cores: 99.0% in <= 30 s, 99.5% in <= 90 s (median of ``--repeat`` runs).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # goals.py, also when loaded by path (tests)

from hwkit import data, models, tf_runtime, training  # noqa: E402,F401  (tf_runtime: quiet TensorFlow import)
from hwkit.assignments import b_mnist_cnn  # noqa: E402
import keras  # noqa: E402
from goals import Goal, print_goals, summarise  # noqa: E402

TARGETS = (0.98, 0.99, 0.995)
GOALS = {0.99: Goal("99.0% test accuracy", 30), 0.995: Goal("99.5% test accuracy", 90)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--dense-units", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--epochs", type=int, default=8, help="length of the LR schedule")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--every", type=int, default=50, help="batches between test evaluations")
    parser.add_argument("--repeat", type=int, default=1, help="independent runs; the goals use their median")
    parser.add_argument("--data-dir")
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    reached = {t: [] for t in TARGETS}
    for repeat in range(args.repeat):
        keras.backend.clear_session()
        keras.utils.set_random_seed(repeat)
        steps = -(-len(x_train) // args.batch_size)
        model = models.compile_classifier(b_mnist_cnn.mnist_cnn(args.filters, args.dense_units, 0.2),
                                          args.learning_rate, total_steps=steps * args.epochs)
        clock = training.TimeToAccuracy(x_test, y_test, TARGETS, args.every)
        model.fit(training.dataset(x_train, y_train, args.batch_size, shuffle=True, seed=repeat,
                                   augment=models.random_shift_augmentation()),
                  epochs=args.epochs, verbose=2, callbacks=[clock])
        print(f"\nrepeat {repeat + 1}/{args.repeat}: MNIST time to accuracy (B1 recipe, filters={args.filters}, "
              f"{os.cpu_count()} CPU cores, schedule {args.epochs} epochs):")
        for target in TARGETS:
            hit = clock.reached.get(target)
            reached[target].append(hit[0] if hit else None)
            print(f"  {target:.1%}: " + (f"{hit[0]:7.1f} s (epoch {hit[1]:.2f})" if hit else
                                        f"not reached (best {max(a for _, _, a in clock.trace):.2%})"))
    print_goals([summarise(goal, reached[t]) for t, goal in GOALS.items()],
                f"MNIST goals (median of {args.repeat} run(s); training seconds, evaluation excluded)")


if __name__ == "__main__":
    main()
