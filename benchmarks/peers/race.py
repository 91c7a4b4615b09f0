"""hwkit against the PyTorch originals, on this CPU, in one invocation: training seconds to each target and the ratio.

    python benchmarks/peers/race.py [--mnist] [--cifar --airbench94 PATH] [--repeat 3] [--peer-python PY]
        [--cifar-epochs 0.25 --cifar-test-subset 1000]    # a partial CIFAR-10 race: seconds per epoch only
        [--machine-state idle|loaded]                     # records benchmarks/results/peers_race.json

The peers need PyTorch (CPU): ``pip install -e .[peers]`` (the ``peers`` extra), or give
``--peer-python`` an interpreter that has it. hwkit's tests never need it.

* **MNIST**: hwkit's Keras port of the 1-epoch recipe (``benchmarks/mnist_time_to_accuracy.py
  --recipe one-epoch``) against the PyTorch original (``mnist_one_epoch_torch.py``), both on a
  1-epoch schedule, test accuracy every 1/5 epoch with the clock paused; targets 98% and 99%.
* **CIFAR-10**: hwkit's D6 recipe (``benchmarks/cifar10_time_to_accuracy.py``, 6-epoch schedule,
  no TTA, test accuracy every quarter epoch) against airbench94 (``airbench94_cpu.py``: the
  original patched for a CPU; 9.9 epochs; accuracy per epoch without TTA, and with its TTA at the
  end); targets 90%, 93%, 94%. ``--cifar-epochs E`` makes it a *partial race*: both train E epochs'
  worth of steps and only seconds per epoch are compared (no accuracy target).

Each side runs in its own process, one after the other (never two trainings at once), seeds
0..repeat-1; medians over seeds; a target a run missed counts as not reached (infinitely slow).
Ratio = hwkit / peer (goal, issue 24: <= 1.0 at every target).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from results import add_machine_state, record  # noqa: E402

MNIST_TARGETS = (0.98, 0.99)
CIFAR_TARGETS = (0.90, 0.93, 0.94)
GOAL_RATIO = 1.0


def median_or_inf(values) -> float:
    return statistics.median([math.inf if v is None else float(v) for v in values])


def race_rows(hwkit: dict[float, list], peer: dict[float, list]) -> list[dict]:
    """One row per target: both medians (inf = not reached) and hwkit/peer; None where a side never got there."""
    rows = []
    for target in hwkit:
        h, p = median_or_inf(hwkit[target]), median_or_inf(peer[target])
        ratio = h / p if math.isfinite(h) and math.isfinite(p) else None
        rows.append({"target": target, "hwkit_s": h, "peer_s": p, "ratio": ratio,
                     "met": ratio is not None and ratio <= GOAL_RATIO})
    return rows


def print_rows(title: str, rows: list[dict], unit: str = "s to target") -> None:
    def fmt(v):
        return "not reached" if math.isinf(v) else f"{v:.1f}"
    print(f"\n{title}")
    print(f"{'target':<12} {'hwkit ' + unit:>22} {'peer ' + unit:>22} {'hwkit/peer':>11}  goal <= {GOAL_RATIO:.1f}")
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{str(r['target']):<12} {fmt(r['hwkit_s']):>22} {fmt(r['peer_s']):>22} {ratio:>11}  "
              f"{'met' if r['met'] else 'NOT met'}")


def child_json(cmd: list[str]) -> dict:
    """Run one side in its own process; its last stdout line is JSON. Its log goes to our stderr."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")]))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sys.stderr.write(out.stdout[-3000:] + out.stderr[-2000:] if out.returncode else out.stdout[-1500:])
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- hwkit's side (child processes)

def hwkit_mnist(seed: int, data_dir) -> dict:
    import mnist_time_to_accuracy as bench

    from hwkit import data
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    args = argparse.Namespace(recipe="one-epoch", batch_size=bench.ONE_EPOCH["batch_size"], precision="float32",
                              jit=False, every=None, filters=16, dense_units=128, dropout=0.0, learning_rate=None)
    reached = bench.time_to_accuracy(x_train, y_train, x_test, y_test, MNIST_TARGETS, 1, args, seed)
    return {"reached": {str(t): s for t, s in reached.items()}}


def hwkit_cifar(seed: int, data_dir, epochs: float | None, test_subset: int | None) -> dict:
    """D6's recipe: time to each target on its 6-epoch schedule, or (``epochs``) training seconds per epoch."""
    import cifar10_time_to_accuracy as bench
    import keras
    import numpy as np

    from hwkit import data, training
    from hwkit.assignments import d_cifar
    from tasks import d6
    hp, _ = bench.d6_hyperparameters()
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(data_dir)
    x_test, y_test = x_test[:test_subset], y_test[:test_subset]
    full = len(x_train)
    if epochs is not None:   # E epochs' worth of images, one pass
        x_train, y_train = x_train[:int(epochs * full)], y_train[:int(epochs * full)]
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    y_train, y_test = (keras.utils.to_categorical(y, 10).astype(np.float32) for y in (y_train, y_test))
    if epochs is None:
        args = argparse.Namespace(width=d6.FULL.width, every=None)
        reached = bench.time_to_accuracy(x_train, y_train, x_test, y_test, CIFAR_TARGETS, d6.FULL.epochs, args, hp,
                                         seed)
        return {"reached": {str(t): s for t, s in reached.items()}}
    # the benchmark's own setup (model, schedule, pipeline, clock), one pass over the shortened set
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    batch_size = d6.FULL.batch_size
    model = d_cifar.compile_cifar10(d_cifar.cifar10_net(x_train, d6.FULL.width), hp["learning_rate"], batch_size,
                                    label_smoothing=hp["label_smoothing"])
    steps = -(-len(x_train) // batch_size)
    clock = training.TimeToAccuracy(x_test, y_test, (), steps)
    model.fit(training.dataset(x_train, y_train, batch_size, shuffle=True, seed=seed,
                               augment=d_cifar.cifar10_augmentation()), epochs=1, verbose=0,
              callbacks=[training.OneCycleWithinBudget(total_steps=steps, warmup_fraction=d_cifar.WARMUP_FRACTION),
                         clock])
    seconds = clock.trace[-1][0]
    return {"train_s": seconds, "steps": steps, "s_per_epoch": seconds * full / len(x_train)}


def peer_cifar(seed: int, data_dir, source: str, epochs: float | None, test_subset: int | None) -> dict:
    """airbench94 patched for the CPU: time to each target (per-epoch accuracy, TTA at the end) or s/epoch."""
    import airbench94_cpu

    from hwkit import data
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(data_dir)
    module = airbench94_cpu.load(source)
    with tempfile.TemporaryDirectory() as tmp:
        airbench94_cpu.write_data(Path(tmp) / "cifar10", x_train, y_train, x_test[:test_subset], y_test[:test_subset])
        out = airbench94_cpu.train(module, Path(tmp), run=seed, epochs=epochs)
    if epochs is not None:
        first = out["log"][0]   # epoch 0: training (+ whitening init) seconds, evaluation excluded
        steps = math.ceil(len(x_train) // module.hyp["opt"]["batch_size"] * epochs)   # its loader drops the last batch
        images = steps * module.hyp["opt"]["batch_size"]
        out.update(train_s=first["seconds"], steps=steps, s_per_epoch=first["seconds"] * len(x_train) / images)
        return out
    reached = {}
    for entry in out["log"]:
        acc = entry["tta_val_acc"] if entry["epoch"] == "eval" else entry["val_acc"]
        for t in CIFAR_TARGETS:
            if acc is not None and acc >= t and str(t) not in reached:
                reached[str(t)] = entry["seconds"]
    out["reached"] = {str(t): reached.get(str(t)) for t in CIFAR_TARGETS}
    return out


def child(args) -> int:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    if args.child.startswith("hwkit"):
        from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import)
    if args.child == "hwkit-mnist":
        out = hwkit_mnist(args.seed, args.data_dir)
    elif args.child == "hwkit-cifar":
        out = hwkit_cifar(args.seed, args.data_dir, args.cifar_epochs, args.cifar_test_subset)
    else:
        out = peer_cifar(args.seed, args.data_dir, args.airbench94, args.cifar_epochs, args.cifar_test_subset)
    print(json.dumps(out))
    return 0


def _side(python: str, *extra: str) -> list[str]:
    return [python, str(Path(__file__).resolve()), *extra]


def race_mnist(args) -> dict:
    data = ["--data-dir", args.data_dir] if args.data_dir else []
    hwkit, peer = {t: [] for t in MNIST_TARGETS}, {t: [] for t in MNIST_TARGETS}
    for seed in range(args.repeat):
        h = child_json(_side(sys.executable, "--child", "hwkit-mnist", "--seed", str(seed), *data))
        p = child_json([args.peer_python, str(HERE / "mnist_one_epoch_torch.py"), "--seed", str(seed), "--targets",
                        *map(str, MNIST_TARGETS), *data])
        for t in MNIST_TARGETS:
            hwkit[t].append(h["reached"][str(t)])
            peer[t].append(p["reached"][str(t)])
    rows = race_rows(hwkit, peer)
    print_rows(f"MNIST race, 1-epoch recipe (median of {args.repeat}; training seconds, evaluation excluded): "
               "hwkit = Keras port, peer = PyTorch original", rows)
    return {"rows": rows, "hwkit": hwkit, "peer": peer}


def race_cifar(args) -> dict:
    extra = [*(["--data-dir", args.data_dir] if args.data_dir else []),
             *(["--cifar-epochs", str(args.cifar_epochs)] if args.cifar_epochs else []),
             *(["--cifar-test-subset", str(args.cifar_test_subset)] if args.cifar_test_subset else [])]
    runs = {"hwkit": [], "peer": []}
    for seed in range(args.repeat):
        runs["hwkit"].append(child_json(_side(sys.executable, "--child", "hwkit-cifar", "--seed", str(seed), *extra)))
        runs["peer"].append(child_json(_side(args.peer_python, "--child", "peer-cifar", "--seed", str(seed),
                                             "--airbench94", args.airbench94, *extra)))
    if args.cifar_epochs:
        rows = race_rows({"s/epoch": [r["s_per_epoch"] for r in runs["hwkit"]]},
                         {"s/epoch": [r["s_per_epoch"] for r in runs["peer"]]})
        print_rows(f"PARTIAL CIFAR-10 race: {args.cifar_epochs} epoch(s) of training each, no accuracy target "
                   f"(median of {args.repeat}); hwkit = D6 recipe (bfloat16), peer = airbench94 on CPU "
                   f"({runs['peer'][0]['dtype']})", rows, unit="s per epoch")
    else:
        rows = race_rows({t: [r["reached"][str(t)] for r in runs["hwkit"]] for t in CIFAR_TARGETS},
                         {t: [r["reached"][str(t)] for r in runs["peer"]] for t in CIFAR_TARGETS})
        print_rows(f"CIFAR-10 race (median of {args.repeat}; training seconds): hwkit = D6 recipe, 6 epochs, no TTA; "
                   "peer = airbench94 on CPU, 9.9 epochs, TTA at the end", rows)
    return {"partial_epochs": args.cifar_epochs, "rows": rows, "runs": runs}


# ----------------------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", action="store_true", help="race MNIST (default when neither is given)")
    parser.add_argument("--cifar", action="store_true", help="race CIFAR-10 (needs --airbench94)")
    parser.add_argument("--repeat", type=int, default=3, help="seeds per side; medians")
    parser.add_argument("--peer-python", default=sys.executable, help="an interpreter with torch (default: this one)")
    parser.add_argument("--airbench94", default=os.environ.get("HWKIT_AIRBENCH94"),
                        help="path to the original legacy/airbench94.py (default $HWKIT_AIRBENCH94)")
    parser.add_argument("--cifar-epochs", type=float, help="partial race: train this many epochs, compare s/epoch")
    parser.add_argument("--cifar-test-subset", type=int, help="evaluate on the first N test images (partial race)")
    parser.add_argument("--data-dir")
    parser.add_argument("--child", choices=["hwkit-mnist", "hwkit-cifar", "peer-cifar"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    add_machine_state(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.machine_state and (args.cifar_epochs or args.cifar_test_subset):
        parser.error("--cifar-epochs/--cifar-test-subset make a partial race: it is not recorded; drop --machine-state")
    if args.cifar and not args.airbench94:
        parser.error("--cifar needs --airbench94 PATH (legacy/airbench94.py from a checkout of "
                     "https://github.com/KellerJordan/cifar10-airbench, commit 1b8f7949)")
    results = {}
    if args.mnist or not args.cifar:
        results["mnist"] = race_mnist(args)
    if args.cifar:
        results["cifar10"] = race_cifar(args)
    record("peers_race", {"repeat": args.repeat, **results}, args.machine_state, argv,
           script="benchmarks/peers/race.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
