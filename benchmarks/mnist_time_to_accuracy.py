"""Seconds of training this machine needs to reach 98%, 99% and 99.5% MNIST test accuracy (two recipes).

    python benchmarks/mnist_time_to_accuracy.py [--recipe b1|one-epoch] [--repeat 3] [--epochs E] [--data-dir D]
        [--machine-state idle|loaded]   # records the goals table in benchmarks/results/ (benchmarks/results.py)

``--recipe b1`` (default) trains ``hwkit.assignments.b_mnist_cnn.mnist_cnn`` with the B1 recipe
(``tasks.b1.FULL``: Adam, warm-up + cosine schedule, batch 128, BatchNorm, shift augmentation,
float32). ``--recipe one-epoch`` trains the published 1-epoch recipe (tuomaso/train_mnist_fast,
notebook 8: conv 5x5 24 -> pool -> ReLU -> conv 3x3 32 -> pool -> ReLU -> dense 256 -> 10; Adam
lr 0.01, betas (0.7, 0.9); PyTorch's OneCycleLR; batch 256; no augmentation; 0.45 TFLOP per
epoch by ``benchmarks/flops.py``'s count) in Keras: ``one_epoch_cnn``, ``compile_one_epoch``.
Both train on all 60 000 training images and measure test accuracy every ``--every`` batches.
Evaluation time is excluded from the clock. Each goal is timed with its own schedule length
(``SCHEDULE_EPOCHS``: 1 epoch for 99%, 4 for 99.5%); ``--epochs E`` times every target with one.
This is a benchmark: the test set picks nothing and stops nothing except the benchmark itself.
Goals on 2 idle CPU cores (issue 24): 99.0% in <= 8 s, 99.5% in <= 40 s (median of ``--repeat`` runs).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # goals.py, also when loaded by path (tests)

from hwkit import data, models, tf_runtime, training  # noqa: E402,F401  (tf_runtime: quiet TensorFlow import)
from hwkit.assignments import b_mnist_cnn  # noqa: E402
from tasks import b1  # noqa: E402  (the recipe measured)

# isort: split
import math  # noqa: E402

import keras  # noqa: E402
from goals import Goal, print_goals, time_goals  # noqa: E402
from results import add_machine_state, record, refuse_reduced  # noqa: E402

TARGETS = (0.98, 0.99, 0.995)
GOALS = {0.99: Goal("99.0% test accuracy", 8), 0.995: Goal("99.5% test accuracy", 40)}   # issue 24 (were 30, 90)
# The one-cycle schedule's length per goal, in epochs. A schedule that has annealed by the time it
# reaches its target is the fastest way there: with 1 epoch, 99% came at 0.80 epochs (2 of 3 seeds),
# with 6 epochs only at 1.6-1.8. For 99.5% the length was chosen on the validation split (the runs
# that ``--validation --epochs 4`` and ``--validation --epochs 6`` repeat, seed 0): the best
# validation accuracy was 99.30% with 4 epochs and 99.32% with 6 (one image apart), so 4 (B1's own
# final training now uses 4 too).
SCHEDULE_EPOCHS = {0.99: 1, 0.995: 4}
RECIPES = ("b1", "one-epoch")
# The 1-epoch recipe as published (its notebook's defaults): no search here, the test set picks nothing.
ONE_EPOCH = {"learning_rate": 0.01, "beta_1": 0.7, "beta_2": 0.9, "batch_size": 256,
             "mean": 0.1307, "std": 0.3081}   # torchvision's MNIST normalisation, as its data_saver.py


class TorchOneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """PyTorch's ``OneCycleLR`` defaults (cosine, 30% warm-up, start max/25, end start/1e4), step by step.

    Phase 1 anneals from ``max/div`` up to ``max`` over steps 0..pct*total-1, phase 2 down to
    ``max/div/final_div`` at step total-1 (the same breakpoints as PyTorch's implementation).
    """

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0,
                 final_div_factor: float = 1e4):
        self.max_lr, self.total_steps, self.pct_start = max_lr, total_steps, pct_start
        self.div_factor, self.final_div_factor = div_factor, final_div_factor

    def __call__(self, step):
        from keras import ops
        start = self.max_lr / self.div_factor
        end = start / self.final_div_factor
        up_end = float(self.pct_start * self.total_steps) - 1.0
        down_end = float(self.total_steps) - 1.0
        step = ops.cast(step, "float32")
        up = ops.clip(step / up_end, 0.0, 1.0)
        down = ops.clip((step - up_end) / (down_end - up_end), 0.0, 1.0)

        def cos(a, b, pct):   # PyTorch's _annealing_cos: a at pct 0, b at pct 1
            return b + (a - b) / 2.0 * (ops.cos(math.pi * pct) + 1.0)
        return ops.where(step <= up_end, cos(start, self.max_lr, up), cos(self.max_lr, end, down))

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor}


def one_epoch_cnn() -> keras.Model:
    """The 1-epoch recipe's network: 1.24 M multiply-adds per image (7.5 MFLOP per trained image)."""
    layers = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Rescaling(1 / ONE_EPOCH["std"], -ONE_EPOCH["mean"] / ONE_EPOCH["std"])(inputs)
    x = layers.Conv2D(24, 5)(x)                          # 24x24x24
    x = layers.ReLU()(layers.MaxPooling2D(2)(x))         # pool before ReLU: the same, cheaper (the original's order)
    x = layers.Conv2D(32, 3)(x)                          # 10x10x32
    x = layers.ReLU()(layers.MaxPooling2D(2)(x))         # 5x5x32 = 800
    x = layers.Dense(256, activation="relu")(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(10, name="logits")(x), name="one_epoch_cnn")


def compile_one_epoch(model: keras.Model, total_steps: int, learning_rate: float = ONE_EPOCH["learning_rate"]
                      ) -> keras.Model:
    """Adam (betas 0.7, 0.9; PyTorch's epsilon 1e-8) on PyTorch's one-cycle schedule; logits, integer labels."""
    model.compile(optimizer=keras.optimizers.Adam(TorchOneCycle(learning_rate, total_steps), ONE_EPOCH["beta_1"],
                                                  ONE_EPOCH["beta_2"], epsilon=1e-8),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def time_to_accuracy(x_train, y_train, x_test, y_test, targets, epochs: int, args, seed: int) -> dict:
    """Train the B1 network with a warm-up + cosine schedule of ``epochs``; training seconds to each target
    (None: missed)."""
    keras.backend.clear_session()   # also resets the dtype policy: set it after
    keras.config.set_dtype_policy(training.precision_policy(args.precision))
    keras.utils.set_random_seed(seed)
    steps = -(-len(x_train) // args.batch_size)
    if args.recipe == "one-epoch":
        model = compile_one_epoch(one_epoch_cnn(), total_steps=steps * epochs)
        augment = None
    else:
        model = models.compile_classifier(b_mnist_cnn.mnist_cnn(args.filters, args.dense_units, args.dropout),
                                          args.learning_rate, total_steps=steps * epochs)
        augment = models.random_shift_augmentation()
    model.jit_compile = args.jit
    clock = training.TimeToAccuracy(x_test, y_test, targets, args.every or steps // 5)
    model.fit(training.dataset(x_train, y_train, args.batch_size, shuffle=True, seed=seed, augment=augment),
              epochs=epochs, verbose=2, callbacks=[clock])
    print(f"\nseed {seed}: MNIST time to accuracy ({args.recipe} recipe, filters {args.filters}, "
          f"{os.cpu_count()} CPU cores, "
          f"schedule {epochs} epochs, batch {args.batch_size}, {keras.config.dtype_policy().name}, "
          f"XLA {'on' if args.jit else 'off'}):")
    for target in targets:
        hit = clock.reached.get(target)
        print(f"  {target:.1%}: " + (f"{hit[0]:7.1f} s (epoch {hit[1]:.2f})" if hit else
                                    f"not reached (best {max(a for _, _, a in clock.trace):.2%})"))
    return {t: clock.reached[t][0] if t in clock.reached else None for t in targets}


def main(argv=None) -> int:
    recipe = b1.FULL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=RECIPES, default="b1",
                        help="b1: B1's network and recipe; one-epoch: the published 1-epoch recipe (its own network, "
                             "batch 256, Adam (0.7, 0.9), one-cycle; --filters/--dense-units/--dropout/"
                             "--learning-rate do not apply)")
    parser.add_argument("--filters", type=int, default=16, help="B1 searches 16 or 32")
    parser.add_argument("--dense-units", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="peak of the schedule")
    parser.add_argument("--epochs", type=int,
                        help="one schedule length for every target (default: per goal, " +
                             ", ".join(f"{t:.1%}: {e}" for t, e in SCHEDULE_EPOCHS.items()) + ")")
    parser.add_argument("--batch-size", type=int, help=f"default: the recipe's ({recipe.batch_size} for b1, "
                                                       f"{ONE_EPOCH['batch_size']} for one-epoch)")
    parser.add_argument("--every", type=int, help="batches between test evaluations (default 1/5 epoch)")
    parser.add_argument("--repeat", type=int, default=1, help="independent runs; the goals use their median")
    parser.add_argument("--precision", choices=training.PRECISIONS, default=recipe.precision,
                        help=f"compute precision (default {recipe.precision}, B1's; "
                             "auto: bfloat16 where the CPU has it natively)")
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA (jit_compile=True)")
    parser.add_argument("--train-subset", type=int, help="train on N images only (reduced run, for the tests)")
    parser.add_argument("--validation", action="store_true",
                        help="train on 55 000 images and measure on B1's 5 000 held-out ones instead of the test set "
                             "(how the schedule lengths were chosen)")
    parser.add_argument("--data-dir")
    add_machine_state(parser)
    args = parser.parse_args(argv)
    refuse_reduced(parser, args, "--train-subset")
    if args.batch_size is None:
        args.batch_size = ONE_EPOCH["batch_size"] if args.recipe == "one-epoch" else recipe.batch_size

    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.validation:
        (x_train, y_train), (x_test, y_test) = data.validation_split(x_train, y_train, recipe.validation_fraction)
    x_train, y_train = data.subset(x_train, y_train, args.train_subset, seed=0)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    rows = time_goals(GOALS, TARGETS, SCHEDULE_EPOCHS, repeat=args.repeat, epochs=args.epochs,
                      measure=lambda targets, epochs, seed: time_to_accuracy(x_train, y_train, x_test, y_test,
                                                                             targets, epochs, args, seed))
    split = "validation split, not the goals' test set" if args.validation else "test set"
    print_goals(rows, f"MNIST goals, {args.recipe} recipe (median of {args.repeat} run(s); training seconds, "
                      f"evaluation excluded; {split})")
    record("mnist_time_to_accuracy", {"split": "validation" if args.validation else "test", "goals": rows,
                                      "recipe": args.recipe, "batch_size": args.batch_size,
                                      "filters": args.filters, "precision": args.precision, "jit": args.jit,
                                      "epochs": args.epochs, "schedule_epochs": SCHEDULE_EPOCHS},
           args.machine_state, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
