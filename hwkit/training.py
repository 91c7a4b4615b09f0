"""Training helpers: tf.data input pipelines and the callbacks the assignments need.

Keras' own ``Model.fit`` does the training and prints its progress bars; these callbacks add
evaluation on a schedule of *training samples* (e.g. every 20 000 samples), a one-cycle schedule
within a wall-clock budget, and wall-clock time in the logs. History goes to
CSV with Keras' ``CSVLogger`` (see ``standard_callbacks``).

Devices: ``setup_devices`` (called by the command line for tasks with ``--strategy`` /
``--precision``) picks a ``tf.distribute`` strategy and a Keras dtype policy; a task builds and
compiles its model inside ``devices.scope()`` and ``Model.fit`` does the rest. The recipe's batch
size is the global batch (see ``add_device_arguments`` for the rule on batch and learning rate).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)
import keras
import numpy as np
import tensorflow as tf


def dataset(x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 128, shuffle: bool = False,
            seed: int = 0, augment: Callable | None = None, drop_remainder: bool = False) -> tf.data.Dataset:
    """A batched, prefetched tf.data pipeline over in-memory arrays.

    Augmentation runs per batch (vectorised) after batching, which is far cheaper on a CPU
    than per-example maps.
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y) if y is not None else x)
    if shuffle:
        ds = ds.shuffle(min(len(x), 60000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if augment is not None:
        ds = ds.map(lambda a, b: (augment(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


class EvaluateEverySamples(keras.callbacks.Callback):
    """Evaluate on named splits every ``every_samples`` training samples.

    ``samples_per_batch`` is the training batch size (Keras' batch logs do not carry it).
    Results accumulate in ``self.records``: one dict per evaluation with ``samples`` and
    ``<split>_<metric>`` entries, e.g. ``{"samples": 20000, "test_accuracy": 0.91}``.
    Evaluation on the test set here is for *monitoring* curves only; nothing is chosen from it.
    """

    def __init__(self, every_samples: int, splits: Mapping[str, tuple], samples_per_batch: int,
                 batch_size: int = 1000):
        super().__init__()
        if every_samples % samples_per_batch:
            raise ValueError("every_samples must be a multiple of the training batch size")
        self.every_steps = every_samples // samples_per_batch
        self.every_samples = every_samples
        self.splits = dict(splits)
        self.batch_size = batch_size
        self.records: list[dict] = []
        self._steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        if self._steps % self.every_steps == 0:
            record = {"samples": self._steps // self.every_steps * self.every_samples}
            # evaluate() resets and reuses the model's metric trackers: keep the running training
            # metrics of this epoch intact, or the epoch's train logs would report the last split.
            state = [v.numpy() for v in _metric_variables(self.model)]
            for name, (x, y) in self.splits.items():
                results = self.model.evaluate(x, y, batch_size=self.batch_size, verbose=0, return_dict=True)
                record.update({f"{name}_{k}": float(v) for k, v in results.items()})
            for v, value in zip(_metric_variables(self.model), state):
                v.assign(value)
            self.records.append(record)

    def series(self, key: str) -> list[float]:
        return [r[key] for r in self.records]


def _metric_variables(model: keras.Model) -> list:
    return [v for m in model.metrics for v in m.variables]


class WallClock(keras.callbacks.Callback):
    """Wall-clock seconds of ``fit``: ``time_s`` in each epoch's logs (so CSVLogger records it) and ``seconds``.

    ``seconds`` is the time from the start to the end of the last ``fit`` (reset when a new one
    begins), so no hand timer is needed around ``fit``. Place it before CSVLogger in the callback list.
    """

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self._start = time.perf_counter()

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self.seconds = 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self._start
        if logs is not None:
            logs["time_s"] = self.seconds

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self._start


def tensorboard(log_dir: Path | str) -> keras.callbacks.TensorBoard:
    """Keras' TensorBoard callback as hwkit uses it: scalars once per epoch, no profiling, no graph.

    ``tensorboard --logdir runs/`` then lists every run (and, under a run's tuner folder, each
    KerasTuner trial: the tuner gives each trial a sub-folder of this ``log_dir``).
    """
    return keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch", profile_batch=0,
                                       write_graph=False)


def standard_callbacks(run_dir: Path | str) -> list[keras.callbacks.Callback]:
    """Wall-clock time, per-epoch history in ``<run>/history.csv`` and TensorBoard logs in ``<run>/tensorboard/``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return [WallClock(), keras.callbacks.CSVLogger(str(run_dir / "history.csv")), tensorboard(run_dir / "tensorboard")]


class OneCycleWithinBudget(keras.callbacks.Callback):
    """One-cycle learning rate over a step count *or* a wall-clock budget, whichever runs out first.

    The rate rises linearly from ``peak/10`` to the optimizer's initial rate (the peak) over the
    first ``warmup_fraction`` of training, then falls linearly to 0 (the linear-to-zero schedule
    that "Budgeted Training", Li et al., ICLR 2020, found best under a fixed budget). Progress is
    ``max(step / total_steps, elapsed / budget_s)``; when it reaches 1 training stops at the end of
    that batch (Keras then still runs that epoch's validation). On a shared CPU this finishes an
    annealed model by a deadline whatever the load; without ``budget_s`` it is a plain
    step-based schedule. The optimizer must have a float (not schedule) learning rate.
    """

    def __init__(self, total_steps: int, budget_s: float | None = None, warmup_fraction: float = 0.2):
        super().__init__()
        self.total_steps, self.budget_s, self.warmup_fraction = total_steps, budget_s, warmup_fraction
        self.steps_done = 0
        self.stopped_by: str | None = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self.peak = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.steps_done = 0

    def progress(self) -> float:
        by_steps = self.steps_done / self.total_steps
        by_time = (time.perf_counter() - self._start) / self.budget_s if self.budget_s else 0.0
        return max(by_steps, by_time)

    def on_train_batch_begin(self, batch, logs=None):
        p, w = min(self.progress(), 1.0), self.warmup_fraction
        factor = 0.1 + 0.9 * p / w if p < w else (1.0 - p) / (1.0 - w)
        self.model.optimizer.learning_rate.assign(self.peak * factor)

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done += 1
        if self.progress() >= 1.0:
            self.stopped_by = "steps" if self.steps_done >= self.total_steps else "time budget"
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.model.optimizer.learning_rate.assign(self.peak)   # a second fit starts from the peak again


class TimeToAccuracy(keras.callbacks.Callback):
    """For benchmarks: after each epoch (or every ``every`` batches) pause the clock, evaluate, note
    the training seconds at which each accuracy target is first reached; stop once all are.

    It evaluates on whatever split it is given (the benchmarks pass the test set, which is fine
    there because a benchmark chooses nothing). ``reached[target] = (seconds, epochs)``.
    """

    def __init__(self, x_test, y_test, targets, every: int = 0):
        super().__init__()
        self.x_test, self.y_test, self.targets, self.every = x_test, y_test, tuple(targets), every
        self.reached: dict[float, tuple[float, float]] = {}
        self.trace: list[tuple[float, float, float]] = []

    def on_train_begin(self, logs=None):
        self.elapsed, self.batches, self._t = 0.0, 0, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.every and self.batches % self.every == 0:
            self._measure()

    def on_epoch_end(self, epoch, logs=None):
        if not self.every:
            self._measure()

    def _measure(self):
        self.elapsed += time.perf_counter() - self._t
        _, accuracy = self.model.evaluate(self.x_test, self.y_test, batch_size=1000, verbose=0)
        epochs = self.batches / self.params["steps"]
        self.trace.append((self.elapsed, epochs, accuracy))
        print(f"  {self.elapsed:8.1f} s  epoch {epochs:5.2f}  test accuracy {accuracy:.4f}", flush=True)
        for target in self.targets:
            if accuracy >= target and target not in self.reached:
                self.reached[target] = (self.elapsed, epochs)
        if len(self.reached) == len(self.targets):
            self.model.stop_training = True
        self._t = time.perf_counter()


# ----------------------------------------------------------------------------- devices: strategy and precision

STRATEGIES = ("default", "mirrored", "multiworker")
PRECISIONS = ("auto", "float32", "bfloat16", "mixed_float16")
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "mixed_float16": "mixed_float16"}


def add_device_arguments(parser, precision: str = "float32") -> None:
    """``--strategy`` and ``--precision`` for a task whose training can use several devices.

    The batch size of a recipe is the *global* batch: with R replicas each device gets batch / R
    examples per step and the gradients are averaged over all of them, so the optimisation (and the
    learning rate) is the same as on one device, only split. To go faster per epoch on more devices
    one raises the global batch and scales the learning rate with it (linear scaling, Goyal et al.
    2017); that is a recipe change, made in the recipe, never silently here.
    """
    g = parser.add_argument_group("devices")
    g.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="tf.distribute strategy for the final training: default (one device), mirrored (all "
                        "local GPUs, or the logical CPUs), multiworker (machines named in TF_CONFIG)")
    g.add_argument("--precision", choices=PRECISIONS, default=precision,
                   help=f"compute precision (default {precision}); auto: mixed_float16 on a GPU, bfloat16 "
                        "where the CPU computes it natively, else float32")


def cpu_supports_bfloat16(cpuinfo: str | None = None) -> bool:
    """True when the CPU has native bfloat16 arithmetic (AVX512_BF16 or AMX), read from /proc/cpuinfo."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def precision_policy(precision: str = "auto", gpus: int | None = None, cpuinfo: str | None = None) -> str:
    """The Keras dtype policy for ``--precision``: float32, mixed_bfloat16 or mixed_float16.

    float16 needs a GPU (emulated on a CPU it is many times slower); bfloat16 needs a GPU or a CPU
    with native bfloat16 instructions. Asking for one where it cannot run is an error, not a fallback.
    """
    from hwkit import HwkitError
    if precision not in PRECISIONS:
        raise HwkitError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    gpus = len(tf.config.list_physical_devices("GPU")) if gpus is None else gpus
    if precision == "auto":
        return "mixed_float16" if gpus else ("mixed_bfloat16" if cpu_supports_bfloat16(cpuinfo) else "float32")
    if precision == "mixed_float16" and not gpus:
        raise HwkitError("--precision mixed_float16 needs a GPU; on this CPU use float32 or auto")
    if precision == "bfloat16" and not gpus and not cpu_supports_bfloat16(cpuinfo):
        raise HwkitError("--precision bfloat16 needs a GPU or a CPU with AVX512_BF16/AMX (see /proc/cpuinfo); "
                         "use float32 or auto")
    return _POLICIES[precision]


def strategy(name: str = "default") -> tf.distribute.Strategy:
    """The tf.distribute strategy called ``name`` (see ``STRATEGIES``); create it before building models.

    ``mirrored`` uses every local GPU, or, without GPUs, every logical CPU device when the CPU has
    been split into several (``tf.config.set_logical_device_configuration``), else the one CPU.
    ``multiworker`` reads the cluster from ``TF_CONFIG``; every machine runs the same command.
    """
    from hwkit import HwkitError
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus,
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise HwkitError("--strategy multiworker needs TF_CONFIG naming the cluster and this machine's "
                             "task (see README, Scale out)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise HwkitError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")


@dataclass
class Devices:
    """What a training runs on: the strategy (``with devices.scope():`` build and compile there) and the precision."""

    strategy_name: str = "default"
    strategy: tf.distribute.Strategy | None = None
    policy: str = "float32"

    def scope(self):
        return (self.strategy or tf.distribute.get_strategy()).scope()

    @property
    def replicas(self) -> int:
        return (self.strategy or tf.distribute.get_strategy()).num_replicas_in_sync

    def per_replica_batch(self, global_batch: int) -> int:
        """The examples each replica sees per step; the global batch must split evenly."""
        from hwkit import HwkitError
        if global_batch % self.replicas:
            raise HwkitError(f"global batch {global_batch} does not split evenly over {self.replicas} replicas")
        return global_batch // self.replicas

    def describe(self, global_batch: int | None = None) -> dict:
        """For metrics.json: strategy, replicas, devices, dtype policy (and the batch split)."""
        s = self.strategy or tf.distribute.get_strategy()
        if self.strategy_name == "default":   # one device: where TensorFlow places ops (the first GPU, else the CPU)
            devices = [d.name for d in (tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU"))[:1]]
        else:
            devices = list(s.extended.worker_devices)
        out = {"strategy": self.strategy_name, "replicas": self.replicas, "devices": devices, "precision": self.policy}
        if global_batch:
            out.update(global_batch_size=global_batch, per_replica_batch_size=self.per_replica_batch(global_batch))
        return out


def setup_devices(strategy_name: str = "default", precision: str = "float32") -> Devices:
    """Set the global Keras dtype policy and create the strategy, once, at the start of a task."""
    policy = precision_policy(precision)
    keras.config.set_dtype_policy(policy)
    return Devices(strategy_name, strategy(strategy_name), policy)
