"""What each trick of the D6 recipe buys: validation accuracy per epoch with one trick changed.

    python benchmarks/cifar10_tricks.py [--epochs 2] [--no-whitening] [--no-identity-init]
        [--label-smoothing 0] [--batch-size 512] [--precision float32] [--jit] [--steps N]
    python benchmarks/cifar10_tricks.py --table [--epochs 2]

Trains D6's network (``hwkit.assignments.d_cifar``, ``tasks.d6.FULL``) on the 45 000-image fit
split and prints the *validation* accuracy (the 5 000 held-out training images of D6, never the
test set: these runs choose the recipe) and the training seconds after every epoch, then the
validation accuracy with flip and 6-view test-time augmentation. ``--steps N`` times N batches
only (seconds per epoch, for precision, XLA and batch-size comparisons).

``--table`` trains the recipe and each ablation of ``ABLATIONS`` in turn and writes them to a run
directory, ``runs/cifar10_tricks/<time>-s<seed>/`` (``tables/tricks.json``: one row per variant,
with its effect in points against the recipe and the epoch and training seconds at which it first
reached 85% and 90% validation accuracy; ``metrics.json`` holds each row's fit check and its effect as a
finding, a paired bootstrap over the validation images; the default, D6's 6 epochs, is needed to reach them: about
55 minutes on 2 idle cores). The D report's table "What each trick buys" is rendered from the latest
one. A killed ``--table`` resumes at the first variant it had not finished when rerun.
``--train-subset N`` (a smoke run; its run directory is marked quick) trains on N images.
``--machine-state idle|loaded`` also records the table (or the ``--steps`` timing) in
``benchmarks/results/cifar10_tricks.json``, from which the docs' tables are generated.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # results.py, also when loaded by path (tests)

import numpy as np  # noqa: E402

from hwkit import data, findings, runs, tf_runtime, training  # noqa: E402,F401  (tf_runtime: quiet TensorFlow import)
from hwkit.assignments import d_cifar, d_findings  # noqa: E402
from hwkit.cli import report_errors  # noqa: E402
from tasks import d6  # noqa: E402  (the recipe measured)

# isort: split
import keras  # noqa: E402
from results import add_machine_state, record, refuse_reduced  # noqa: E402

RUN_NAME = "cifar10_tricks"   # runs/cifar10_tricks/: the run directory the D report reads
TARGETS = (0.85, 0.90)        # validation accuracies whose epochs / seconds --table reports (per epoch)
# --table: the recipe, then one trick taken away at a time (flag overrides, and what the row says changed).
ABLATIONS = {
    "recipe": ({}, "none: the D6 recipe"),
    "no_whitening": ({"no_whitening": True}, "first conv trained from a random init, not the frozen whitening"),
    "no_identity_init": ({"no_identity_init": True}, "Keras' random init for the 3x3 convs, not the identity"),
    "no_label_smoothing": ({"label_smoothing": 0.0}, "label smoothing 0 instead of {label_smoothing:g}"),
}


def load_split(args):
    """D6's fit and validation split (the test set is never loaded), labels one-hot."""
    recipe = d6.FULL
    (x_train, y_train), _ = data.load_cifar10(args.data_dir)
    (x_fit, y_fit), (x_val, y_val) = data.validation_split(data.to_float(x_train), y_train,
                                                           recipe.validation_fraction, seed=args.seed)
    if args.train_subset:
        x_fit, y_fit = data.subset(x_fit, y_fit, args.train_subset, seed=args.seed)
    y_fit, y_val = (keras.utils.to_categorical(y, 10).astype(np.float32) for y in (y_fit, y_val))
    return (x_fit, y_fit), (x_val, y_val)


def train_variant(args, split) -> dict:
    """Train one variant (``args``' switches) for ``args.epochs``; validation accuracy per epoch and with TTA."""
    (x_fit, y_fit), (x_val, y_val) = split
    recipe = d6.FULL
    keras.backend.clear_session()
    keras.utils.set_random_seed(args.seed)
    policy = training.precision_policy(args.precision)
    model = d_cifar.compile_cifar10(
        d_cifar.cifar10_net(x_fit, args.width or recipe.width, policy, whitening=not args.no_whitening,
                            identity=not args.no_identity_init),
        args.learning_rate, args.batch_size, label_smoothing=args.label_smoothing)
    model.jit_compile = args.jit
    batches = training.dataset(x_fit, y_fit, args.batch_size, shuffle=True, seed=args.seed,
                               augment=d_cifar.cifar10_augmentation())
    steps = -(-len(x_fit) // args.batch_size)
    print(f"D6 network, {vars(args)}", flush=True)
    if args.steps:
        model.fit(batches.take(3), verbose=0)                        # tracing and warm-up
        started = time.perf_counter()
        model.fit(batches.take(args.steps), verbose=0)
        seconds = time.perf_counter() - started
        print(f"{args.steps} batches of {args.batch_size}: {seconds:.1f} s = "
              f"{seconds / args.steps * steps:.1f} s per epoch of {len(x_fit)} images")
        return {"seconds_per_epoch": seconds / args.steps * steps}
    log = training.TimeToAccuracy(x_val, y_val, targets=(), split="validation")   # after every epoch, clock paused
    history = model.fit(batches, epochs=args.epochs, verbose=0,
              callbacks=[training.OneCycleWithinBudget(steps * args.epochs, warmup_fraction=d_cifar.WARMUP_FRACTION),
                         log])
    views = d6.test_predictions(model, x_val)
    truth = y_val.argmax(1)
    result = {"val_accuracy_per_epoch": [accuracy for _, _, accuracy in log.trace],
              "train_seconds_at_epoch_end": [round(seconds, 1) for seconds, _, _ in log.trace],
              "val_accuracy": log.trace[-1][2],
              "val_accuracy_flip_tta": float(np.mean((views["image"] + views["image, mirrored"]).argmax(1) == truth)),
              "val_accuracy_tta": float(np.mean(sum(views.values()).argmax(1) == truth)),
              "train_seconds": round(log.trace[-1][0], 1), "tta_views": len(views),
              "final_train_loss": float(history.history["loss"][-1]),   # its fit check (d_findings.fit)
              "val_correct": (views["image"].argmax(1) == truth).astype(int).tolist()}   # paired comparisons
    print(f"validation accuracy after {args.epochs} epochs: {result['val_accuracy']:.4f}; flip TTA "
          f"{result['val_accuracy_flip_tta']:.4f}; {len(views)}-view TTA {result['val_accuracy_tta']:.4f}")
    return result


def time_to_targets(result: dict) -> dict:
    """First epoch (and training seconds) at which validation accuracy reached each of ``TARGETS``; None: never."""
    out = {}
    for target in TARGETS:
        reached = [(epoch, seconds) for epoch, (accuracy, seconds) in
                   enumerate(zip(result["val_accuracy_per_epoch"], result.get("train_seconds_at_epoch_end", [])),
                             start=1)
                   if accuracy >= target]
        key = f"{round(100 * target)}"
        out[f"epochs_to_{key}"], out[f"seconds_to_{key}"] = reached[0] if reached else (None, None)
    return out


def tricks_table(args, split) -> str:
    """The recipe and every ablation, one after another, in a run directory (resumable); returns its path."""
    config = {k: v for k, v in vars(args).items() if k not in ("table", "data_dir", "machine_state")}
    with runs.start_run(RUN_NAME, config, seed=args.seed, quick=bool(args.train_subset)) as run:
        results = {}
        for name, (overrides, change) in ABLATIONS.items():
            done = run.file("variants", f"{name}.json")
            if done.is_file():   # finished before an interruption: not trained again
                results[name] = json.loads(done.read_text())
                print(f"{name}: finished earlier, {results[name]['val_accuracy']:.4f}")
                continue
            variant = argparse.Namespace(**{**vars(args), **overrides})
            results[name] = {"variant": name, "change": change.format(**vars(args)), **train_variant(variant, split)}
            run.save_json(f"variants/{name}.json", results[name])
        base = results["recipe"]["val_accuracy"]
        found = d_findings.trick_effects(results, "recipe", len(split[1][0]))
        rows = [{**{k: v for k, v in r.items()
                    if k not in ("val_accuracy_per_epoch", "train_seconds_at_epoch_end", "val_correct")},
                 **{f"epoch_{i}": a for i, a in enumerate(r["val_accuracy_per_epoch"], start=1)},
                 **time_to_targets(r),
                 "effect_points": None if name == "recipe" else round(100 * (base - r["val_accuracy"]), 2)}
                for name, r in results.items()]
        run.save_table("tricks", rows)
        (x_fit, _), (x_val, _) = split
        run.log(epochs=args.epochs, train_rows=len(x_fit), validation_rows=len(x_val), batch_size=args.batch_size,
                precision=args.precision, recipe_val_accuracy=base,
                seconds_per_epoch=round(results["recipe"]["train_seconds"] / args.epochs, 1),
                findings=findings.as_dicts(found))
    return str(run.path)


def table_rows(path: str) -> list[dict]:
    """A finished table's rows (``tables/tricks.json``, accuracies per epoch as ``epoch_<i>``): benchmarks/results/."""
    return json.loads(Path(path, "tables", "tricks.json").read_text())


def build_parser() -> argparse.ArgumentParser:
    recipe = d6.FULL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true",
                        help=f"the recipe and each ablation ({', '.join(list(ABLATIONS)[1:])}) into runs/{RUN_NAME}/")
    parser.add_argument("--epochs", type=int, default=recipe.epochs, help=f"one-cycle length (default {recipe.epochs})")
    parser.add_argument("--no-whitening", action="store_true", help="a trained, randomly initialised first conv")
    parser.add_argument("--no-identity-init", action="store_true", help="Keras' random init for the other convs")
    parser.add_argument("--label-smoothing", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=d_cifar.LEARNING_RATE, help="peak, per 1024 images")
    parser.add_argument("--batch-size", type=int, default=recipe.batch_size)
    parser.add_argument("--width", type=int, help=f"first conv group's width (default {recipe.width}; smaller: tests)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="bfloat16")
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--steps", type=int, help="time this many batches only (after 3 warm-up batches)")
    parser.add_argument("--train-subset", type=int, help="train on this many images (a smoke run)")
    parser.add_argument("--data-dir")
    parser.add_argument("--seed", type=int, default=0)
    add_machine_state(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table and (args.steps or args.no_whitening or args.no_identity_init):
        parser.error("--table trains the recipe and every ablation itself: drop --steps and the ablation switches")
    refuse_reduced(parser, args, "--train-subset", "--width")
    with report_errors():
        split = load_split(args)
        if args.table:
            path = tricks_table(args, split)
            print(f"run written to {path}")
            record("cifar10_tricks", {"mode": "table", "epochs": args.epochs, "seed": args.seed,
                                      "run": runs.relative_path(Path(path)), "rows": table_rows(path)},
                   args.machine_state, argv)
        else:
            result = train_variant(args, split)
            settings = {k: v for k, v in vars(args).items() if k not in ("table", "data_dir", "machine_state")}
            record("cifar10_tricks", {"mode": "steps" if args.steps else "variant", "settings": settings, **result},
                   args.machine_state, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
