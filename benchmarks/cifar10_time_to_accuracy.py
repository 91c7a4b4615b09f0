"""Seconds of training this machine needs to reach 80%, 85% and 90% CIFAR-10 test accuracy (D6 recipe).

    python benchmarks/cifar10_time_to_accuracy.py [--repeat 3] [--epochs 10] [--every 0] [--width 32] [--data-dir D]

Trains ``hwkit.d_cifar.cifar10_resnet`` with the D6 recipe (bfloat16 compute, SGD + Nesterov,
one-cycle LR over ``--epochs`` epochs, label smoothing, batch 256, flip + 4-pixel translation
augmentation per batch) on all 50 000 training images. The peak learning rate and label smoothing
are those chosen by the latest complete ``d6`` run under $HWKIT_RUNS_DIR (its validation-split
search), else D6's defaults, unless given as flags.

Test accuracy is measured after every epoch (or every ``--every`` batches); the clock pauses
while evaluating, so the printed seconds are training time only. Measuring on the test set is
acceptable here because a benchmark chooses nothing: the test accuracy stops only the benchmark
itself, once every target is reached. Goals on 2 CPU cores: 80% in <= 5 min, 90% in <= 20 min.

``--train-subset N --targets 0.2 0.3`` gives a reduced run that shows the script working in
minutes on a loaded machine; its seconds are not the benchmark's numbers.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # goals.py, also when loaded by path (tests)

import numpy as np  # noqa: E402

from hwkit import data, runs, tf_runtime, training  # noqa: E402,F401  (tf_runtime: quiet TensorFlow import)
from hwkit.assignments import d_cifar  # noqa: E402
import keras  # noqa: E402
from goals import Goal, print_goals, summarise  # noqa: E402

TARGETS = (0.80, 0.85, 0.90)
BATCH_SIZE = 256
DEFAULT_HP = {"learning_rate": 0.1, "label_smoothing": 0.2}
GOALS = {0.80: Goal("80% test accuracy", 300), 0.90: Goal("90% test accuracy", 1200)}


def d6_hyperparameters() -> tuple[dict, str]:
    record = runs.latest_run("d6")
    if record and "best_hyperparameters" in record.metrics:
        return dict(record.metrics["best_hyperparameters"]), f"d6 run {record.path}"
    return dict(DEFAULT_HP), "D6 defaults (no complete d6 run found)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="length of the one-cycle schedule (default 10)")
    parser.add_argument("--every", type=int, default=0, help="evaluate every N batches instead of every epoch")
    parser.add_argument("--width", type=int, default=32, help="network width (default 32, as D6)")
    parser.add_argument("--learning-rate", type=float, help="peak LR (default: the latest d6 run's choice)")
    parser.add_argument("--label-smoothing", type=float, help="label smoothing (default: the latest d6 run's choice)")
    parser.add_argument("--train-subset", type=int, help="train on N images only (reduced run)")
    parser.add_argument("--targets", type=float, nargs="+", default=TARGETS, help="accuracy targets (default 0.8 0.85 0.9)")
    parser.add_argument("--data-dir", help="CIFAR-10 folder (default: $HWKIT_DATA_DIR, ~/.keras/datasets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="independent runs (seeds seed..seed+K-1); goals use the median")
    args = parser.parse_args(argv)

    hp, source = d6_hyperparameters()
    hp["learning_rate"] = args.learning_rate or hp["learning_rate"]
    hp["label_smoothing"] = args.label_smoothing if args.label_smoothing is not None else hp["label_smoothing"]
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(args.data_dir)
    x_train, y_train = data.subset(x_train, y_train, args.train_subset, seed=args.seed)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    y_train, y_test = (keras.utils.to_categorical(y, 10).astype(np.float32) for y in (y_train, y_test))
    print(f"{len(x_train)} training images, width {args.width}, {args.epochs}-epoch one-cycle, "
          f"hyperparameters {hp} from {source}")

    reached = {t: [] for t in args.targets}
    for seed in range(args.seed, args.seed + args.repeat):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = d_cifar.compile_cifar10(d_cifar.cifar10_resnet(args.width), hp["learning_rate"],
                                        label_smoothing=hp["label_smoothing"])
        steps = -(-len(x_train) // BATCH_SIZE)
        clock = training.TimeToAccuracy(x_test, y_test, args.targets, args.every)
        started = time.perf_counter()
        model.fit(training.dataset(x_train, y_train, BATCH_SIZE, shuffle=True, seed=seed,
                                   augment=d_cifar.cifar10_augmentation()),
                  epochs=args.epochs, verbose=0,
                  callbacks=[training.OneCycleWithinBudget(total_steps=steps * args.epochs), clock])
        wall = time.perf_counter() - started

        print(f"seed {seed}: cpu cores: {os.cpu_count()}; wall time incl. evaluation {wall:.0f} s; "
              f"final test accuracy {clock.trace[-1][2]:.4f}" if clock.trace else "no evaluation ran")
        for target in args.targets:
            hit = clock.reached.get(target)
            reached[target].append(hit[0] if hit else None)
            print(f"time to {target:.0%}: " + (f"{hit[0]:.1f} s (epoch {hit[1]:.2f})" if hit
                                               else f"not reached in {args.epochs} epochs"))
    print_goals([summarise(goal, reached[t]) for t, goal in GOALS.items() if t in reached],
                f"CIFAR-10 goals (median of {args.repeat} run(s); training seconds, evaluation excluded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
