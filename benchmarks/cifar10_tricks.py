"""What each trick of the D6 recipe buys: validation accuracy per epoch with one trick changed.

    python benchmarks/cifar10_tricks.py [--epochs 2] [--no-whitening] [--no-identity-init]
        [--label-smoothing 0] [--batch-size 512] [--precision float32] [--jit] [--steps N]

Trains D6's network (``hwkit.assignments.d_cifar``, ``tasks.d6.FULL``) on the 45 000-image fit
split and prints the *validation* accuracy (the 5 000 held-out training images of D6, never the
test set: these runs choose the recipe) and the training seconds after every epoch, then the
validation accuracy with flip and 6-view test-time augmentation. ``--steps N`` times N batches
only (seconds per epoch, for precision, XLA and batch-size comparisons). The README's table
"D6 recipe: what each trick buys" lists the runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from hwkit import data, tf_runtime, training  # noqa: E402,F401  (tf_runtime: quiet TensorFlow import)
from hwkit.assignments import d_cifar  # noqa: E402
from tasks import d6  # noqa: E402  (the recipe measured)
import keras  # noqa: E402


def main(argv=None) -> int:
    recipe = d6.FULL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=recipe.epochs, help=f"one-cycle length (default {recipe.epochs})")
    parser.add_argument("--no-whitening", action="store_true", help="a trained, randomly initialised first conv")
    parser.add_argument("--no-identity-init", action="store_true", help="Keras' random init for the other convs")
    parser.add_argument("--label-smoothing", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=d_cifar.LEARNING_RATE, help="peak, per 1024 images")
    parser.add_argument("--batch-size", type=int, default=recipe.batch_size)
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="bfloat16")
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--steps", type=int, help="time this many batches only (after 3 warm-up batches)")
    parser.add_argument("--data-dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    (x_train, y_train), _ = data.load_cifar10(args.data_dir)
    (x_fit, y_fit), (x_val, y_val) = data.validation_split(data.to_float(x_train), y_train,
                                                           recipe.validation_fraction, seed=args.seed)
    y_fit, y_val = (keras.utils.to_categorical(y, 10).astype(np.float32) for y in (y_fit, y_val))
    keras.utils.set_random_seed(args.seed)
    policy = training.precision_policy(args.precision)
    model = d_cifar.compile_cifar10(
        d_cifar.cifar10_net(x_fit, recipe.width, policy, whitening=not args.no_whitening,
                            identity=not args.no_identity_init),
        args.learning_rate, args.batch_size, label_smoothing=args.label_smoothing)
    model.jit_compile = args.jit
    batches = training.dataset(x_fit, y_fit, args.batch_size, shuffle=True, seed=args.seed,
                               augment=d_cifar.cifar10_augmentation())
    steps = -(-len(x_fit) // args.batch_size)
    print(f"D6 network, {vars(args)}")
    if args.steps:
        model.fit(batches.take(3), verbose=0)                        # tracing and warm-up
        started = time.perf_counter()
        model.fit(batches.take(args.steps), verbose=0)
        seconds = time.perf_counter() - started
        print(f"{args.steps} batches of {args.batch_size}: {seconds:.1f} s = "
              f"{seconds / args.steps * steps:.1f} s per epoch of {len(x_fit)} images")
        return 0
    log = training.TimeToAccuracy(x_val, y_val, targets=(), split="validation")   # after every epoch, clock paused
    model.fit(batches, epochs=args.epochs, verbose=0,
              callbacks=[training.OneCycleWithinBudget(steps * args.epochs, warmup_fraction=d_cifar.WARMUP_FRACTION),
                         log])
    views = d6.test_predictions(model, x_val)
    truth = y_val.argmax(1)
    flip = np.mean((views["image"] + views["image, mirrored"]).argmax(1) == truth)
    print(f"validation accuracy after {args.epochs} epochs: {log.trace[-1][2]:.4f}; flip TTA {flip:.4f}; "
          f"{len(views)}-view TTA {np.mean(sum(views.values()).argmax(1) == truth):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
