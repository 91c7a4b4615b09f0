"""Training helpers: tf.data input pipelines and the callbacks the assignments need.

Keras' own ``Model.fit`` does the training and prints its progress bars; these callbacks add
evaluation on a schedule of *training samples* (e.g. every 20 000 samples), a one-cycle schedule
within a wall-clock budget, and wall-clock time in the logs. History goes to
CSV with Keras' ``CSVLogger`` (see ``standard_callbacks``). A fit that may resume from a
checkpoint goes through ``fit(model, ...)``, which restores it and passes its epoch to
``Model.fit(initial_epoch=...)``.

Devices: ``setup_devices`` (called by the command line for tasks with ``--strategy`` /
``--precision``) picks a ``tf.distribute`` strategy and a Keras dtype policy; a task builds and
compiles its model inside ``devices.scope()`` and ``Model.fit`` does the rest. The recipe's batch
size is the global batch (see ``add_device_arguments`` for the rule on batch and learning rate).
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split
import keras
import numpy as np
import tensorflow as tf

from hwkit import HwkitError, models, progress, runs
from hwkit.files import atomic_file


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
        # Sequential on purpose: a Keras random layer draws from one seed-generator variable, and parallel
        # calls would take its seeds in thread order, so the same --seed gave different runs (a quick CNN run: test
        # accuracy 0.264-0.308 over four runs; 0.296 every time since).
        ds = ds.map(lambda a, b: (augment(a, training=True), b))
    return ds.prefetch(tf.data.AUTOTUNE)


class EvaluateEverySamples(keras.callbacks.Callback):
    """Evaluate on named splits every ``every_samples`` training samples.

    ``samples_per_batch`` is the training batch size (Keras' batch logs do not carry it).
    Results accumulate in ``self.records``: one dict per evaluation with ``samples`` and
    ``<split>_<metric>`` entries, e.g. ``{"samples": 20000, "test_accuracy": 0.91}``.
    Evaluation on the test set here is for *monitoring* curves only; nothing is chosen from it.

    Works with a model compiled with ``steps_per_execution`` k (Keras then calls the batch hook
    once per k steps): k must divide both the evaluation period and the epoch's steps, so every
    evaluation still falls exactly on its step.
    """

    def __init__(self, every_samples: int, splits: Mapping[str, tuple], samples_per_batch: int,
                 batch_size: int = 1000):
        super().__init__()
        if every_samples % samples_per_batch:
            raise ValueError("every_samples must be a multiple of the training batch size")
        self.every_steps = every_samples // samples_per_batch
        self.every_samples = every_samples
        # Batched once: model.evaluate on numpy arrays builds a new data adapter per call (~50 ms each).
        self.splits = {name: dataset(x, y, batch_size).cache() for name, (x, y) in dict(splits).items()}
        self.records: list[dict] = []
        self._steps = 0
        self._epoch_start = 0

    def on_train_begin(self, logs=None):
        per_execution = int(getattr(self.model, "steps_per_execution", 1) or 1)
        steps = self.params.get("steps")
        if self.every_steps % per_execution or (steps and steps % per_execution):
            raise ValueError(f"steps_per_execution {per_execution} must divide the evaluation period "
                             f"({self.every_steps} steps) and the epoch ({steps} steps)")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._steps

    def on_train_batch_end(self, batch, logs=None):
        self._steps = self._epoch_start + batch + 1   # batch: the last step this execution ran
        if self._steps % self.every_steps == 0:
            record = {"samples": self._steps // self.every_steps * self.every_samples}
            # evaluate() resets and reuses the model's metric trackers: keep the running training
            # metrics of this epoch intact, or the epoch's train logs would report the last split.
            state = [v.numpy() for v in _metric_variables(self.model)]
            for name, split in self.splits.items():
                results = self.model.evaluate(split, verbose=0, return_dict=True)
                record.update({f"{name}_{k}": float(v) for k, v in results.items()})
            for v, value in zip(_metric_variables(self.model), state):
                v.assign(value)
            self.records.append(record)

    def series(self, key: str) -> list[float]:
        return [r[key] for r in self.records]

    def get_resume_state(self) -> dict:
        return {"records": self.records, "steps": self._steps}

    def set_resume_state(self, state: dict) -> None:
        self.records, self._steps = list(state["records"]), int(state["steps"])


def _metric_variables(model: keras.Model) -> list:
    return [v for m in model.metrics for v in m.variables]


class PhaseProgress(keras.callbacks.Callback):
    """Reports "training epoch e/E, s/epoch" to ``hwkit.progress`` after each epoch (for ``report --run``'s view)."""

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self._epochs_done = 0
        progress.update("training", None, self.params.get("epochs"))

    def on_epoch_end(self, epoch, logs=None):
        self._epochs_done += 1  # epochs of this process: a resumed fit starts at initial_epoch
        pace = (time.perf_counter() - self._start) / self._epochs_done
        progress.update("training", epoch + 1, self.params.get("epochs"), round(pace, 2))


class StepHistory(keras.callbacks.Callback):
    """The loss and metrics of every training step in ``history`` (lists by name), with a progress report.

    At a batch end Keras' logs hold each metric's mean since the epoch began; resetting the metrics
    before every step makes that mean the step's own value. So one epoch of n steps records what n
    one-step epochs would, without Keras' per-epoch work, which costs more than a tiny step (training
    on one image: one SGD step per pass). Needs ``steps_per_execution`` 1 (the default). Reports the
    step to ``hwkit.progress``; ``progress_every`` n > 0 also prints the step's values every n steps.
    """

    def __init__(self, progress_every: int = 0, prefix: str = ""):
        super().__init__()
        self.progress_every, self.prefix = progress_every, prefix
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        if int(getattr(self.model, "steps_per_execution", 1) or 1) != 1:
            raise ValueError("StepHistory records single steps: compile with steps_per_execution=1")
        self.history, self._start = {}, time.perf_counter()
        progress.update("training", 0, self.params.get("steps"))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        step, seconds = batch + 1, time.perf_counter() - self._start
        progress.update("training", step, self.params.get("steps"), round(seconds / step, 4))   # throttled
        if self.progress_every and step % self.progress_every == 0:
            items = " ".join(f"{k} {v[-1]:.5g}" for k, v in self.history.items())
            print(f"{self.prefix}step {step}: {items} ({seconds:.1f} s)", flush=True)


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

    def get_resume_state(self) -> dict:
        return {"elapsed_s": time.perf_counter() - self._start}

    def set_resume_state(self, state: dict) -> None:   # a resumed fit's clock continues, downtime excluded
        self._start = time.perf_counter() - float(state["elapsed_s"])


class ResumableCSVLogger(keras.callbacks.CSVLogger):
    """``CSVLogger`` that appends after a resume and keeps each epoch once.

    The file is opened at the first ``on_epoch_begin`` (after ``ResumeFromBackup`` has restored
    the epoch), dropping rows of that epoch and later ones, written before the interruption.
    """

    def __init__(self, filename: Path | str):
        super().__init__(str(filename), append=True)

    def on_train_begin(self, logs=None):
        self.csv_file = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.csv_file is None:
            _drop_rows_from(Path(self.filename), epoch)
            super().on_train_begin()

    def on_epoch_end(self, epoch, logs=None):
        try:
            super().on_epoch_end(epoch, logs)
        except OSError as e:   # the file object's error names no file
            raise write_error(self.filename, e) from None

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            with contextlib.suppress(OSError):   # a full disk was reported when the row was written
                super().on_train_end(logs)


def _read_history(path: Path) -> list[dict]:
    try:
        with path.open(newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:      # CSVLogger writes "NA" for a metric missing from an epoch's logs
        return float("nan")


def _drop_rows_from(path: Path, epoch: int) -> None:
    """Keep only the rows of epochs before ``epoch`` (0-based, as CSVLogger writes them)."""
    if not path.is_file():
        return
    rows = _read_history(path)
    keep = [r for r in rows if r.get("epoch") not in (None, "") and int(float(r["epoch"])) < epoch]
    if len(keep) == len(rows):
        return
    try:
        with atomic_file(path) as tmp, tmp.open("w", newline="") as f:
            if keep:
                writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
                writer.writeheader()
                writer.writerows(keep)
    except OSError as e:
        raise write_error(path, e) from None


# ----------------------------------------------------------------------------- writing weights and models safely

def write_error(path: Path | str, e: OSError, what: str = "") -> HwkitError:
    """One line for a failed write: the file, the reason and the way out."""
    # the system's words for the errno: h5py's and zipfile's own messages run over lines and name temporary files
    reason = os.strerror(e.errno) if e.errno else (str(e) or type(e).__name__).splitlines()[0][:160]
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        reason += "; free some disk space, then run the command again"
    elif e.errno == errno.EFBIG:
        reason += "; raise the file-size limit (ulimit -f) or set HWKIT_RUNS_DIR to another disk"
    return HwkitError(f"cannot write {what + ' ' if what else ''}{path}: {reason}")


def _state_bytes(model: keras.Model) -> int:
    """Bytes of the model's and its optimizer's variables: the bulk of a checkpoint or a saved model."""
    variables = list(model.variables) + (list(model.optimizer.variables) if getattr(model, "optimizer", None) else [])
    return sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in variables)


def check_free_space(path: Path, need: int, what: str) -> None:
    """Refuse, in one line, to start a write of about ``need`` bytes that the disk holding ``path`` has no room for."""
    need = int(need * 1.2) + (1 << 20)     # zip / HDF5 overhead, and room for the rest of the run's small files
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return          # unknown: the write itself will tell
    if free < need:
        raise HwkitError(f"cannot write {what} {path}: {free / 1e6:.1f} MB free on its disk, it needs about "
                         f"{need / 1e6:.1f} MB; free some disk space, then run the command again")


def save_weights(model: keras.Model, path: Path | str, what: str = "the checkpoint") -> None:
    """``model.save_weights(path)`` that leaves either the whole file or nothing, and fails in one line.

    The file is built in memory, its size checked against the free space, written as ``tmp-<name>``
    in the same folder and renamed (a reader never sees half a file); on a write error the temporary
    file is removed and a HwkitError names ``path``.
    """
    path = Path(path)
    # HDF5 must never meet a full disk itself (the process crashes): build the file in memory, write it here
    from hwkit import private_api
    image = private_api.weights_file_bytes(model)
    check_free_space(path, len(image) if image is not None else _state_bytes(model), what)
    try:
        with atomic_file(path, path.with_name("tmp-" + path.name)) as tmp:
            if image is None:
                model.save_weights(str(tmp), overwrite=True)   # HDF5 writes the file itself: only the check helps
            else:
                tmp.write_bytes(image)
    except OSError as e:
        raise write_error(path, e, what) from None


def save_model(model: keras.Model, path: Path | str) -> None:
    """``model.save(path)`` (a ``.keras`` file) that leaves either the whole file or nothing, and fails in one line.

    Tasks save their models with this (``training.save_model(model, run.model_path("x.keras"))``):
    a temporary ``tmp-<name>`` in the same folder, renamed when complete, removed on failure.
    """
    path = Path(path)
    check_free_space(path, _state_bytes(model), "the model")
    try:
        with atomic_file(path, path.with_name("tmp-" + path.name)) as tmp:
            model.save(tmp)
    except OSError as e:
        raise write_error(path, e, "the model") from None


class ResumeFromBackup(keras.callbacks.Callback):
    """Resume a fit in a run directory from its last checkpoint: atomic, with fallback and callback state.

    Fit with ``hwkit.training.fit(model, ...)``: it restores the checkpoint before ``Model.fit`` and
    passes its epoch as ``initial_epoch`` (Keras' public way to start a fit at epoch N). A plain
    ``model.fit`` that would silently retrain from epoch 0 over restored weights stops with an error.

    * Saves after every epoch, and every ``save_every_steps`` batches when given (long epochs);
      a mid-epoch checkpoint resumes at the start of that epoch with the mid-epoch weights
      (as Keras' ``BackupAndRestore`` does: those batches are seen again).
    * Each checkpoint is a new weights file plus an atomically replaced ``state.json`` naming it,
      so a kill during a save leaves the previous checkpoint intact; the previous one is kept as
      a fallback. An unreadable checkpoint is reported in one line and the fit falls back to the
      previous one, or starts from scratch.
    * ``state_of``: other callbacks of the same fit whose progress must survive (they implement
      ``get_resume_state`` / ``set_resume_state``); place this callback after them, so their own
      ``on_train_begin`` runs first and the restored state is what they keep.
    * The checkpoint of a finished fit is kept until the run completes (``hwkit.runs`` removes
      ``backup/`` then), so rerunning an interrupted task skips the fits it had finished.
    * Each resume is noted in the run's ``resumes.json`` (``from_epoch``) and so in metrics.json.
    """

    def __init__(self, run_dir: Path | str, name: str = "fit1", save_every_steps: int | None = None,
                 state_of: Sequence[keras.callbacks.Callback] = (), history_file: Path | str | None = None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.backup_dir = str(self.run_dir / runs.BACKUP_DIR / name)
        self.name = name
        self.save_every_steps = save_every_steps
        self.state_of = list(state_of)
        self.history_file = Path(history_file) if history_file else None
        self.resumed_from: int | None = None
        self._restored: dict | None = None     # the checkpoint restore() loaded for the coming fit
        self._epoch, self._batch, self._steps = 0, 0, 0
        self._first_epoch_checked = False

    # ------------------------------------------------------------------ saving
    @property
    def _state_path(self) -> Path:
        return Path(self.backup_dir) / "state.json"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self._state_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            print(f"warning: {self._state_path} is unreadable ({e}); this fit starts from scratch", file=sys.stderr)
            return None

    def _save(self, epoch: int, batch: int) -> None:
        """Checkpoint: resume at ``epoch`` (0-based) with the weights as they are now."""
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        old = self._read_state() or {}
        weights = f"epoch{epoch:05d}-batch{batch:07d}.weights.h5"
        save_weights(self.model, folder / weights)   # all or nothing; a full disk is one error line
        current = {"epoch": epoch, "batch": batch, "weights": weights,
                   "callbacks": [c.get_resume_state() for c in self.state_of]}
        previous = old.get("current") if old.get("current", {}).get("weights") != weights else old.get("previous")
        runs.write_json(self._state_path, {"current": current, "previous": previous})
        keep = {weights, (previous or {}).get("weights")}
        for f in folder.glob("*.weights.h5"):
            if f.name not in keep:
                with contextlib.suppress(OSError):
                    f.unlink()

    def on_epoch_begin(self, epoch, logs=None):
        if not self._first_epoch_checked:
            self._first_epoch_checked = True
            if self.resumed_from is not None and epoch != self.resumed_from:
                raise RuntimeError(f"{self.name} restored its checkpoint at epoch {self.resumed_from} but the fit "
                                   f"started at epoch {epoch}: fit with hwkit.training.fit(model, ...), which "
                                   "passes the checkpoint's epoch as initial_epoch")
        self._epoch = epoch               # a mid-epoch checkpoint of a resumed fit names the right epoch

    def on_train_batch_end(self, batch, logs=None):
        self._batch, self._steps = batch, self._steps + 1
        if self.save_every_steps and self._steps % self.save_every_steps == 0:
            self._save(self._epoch, batch)   # resumes at this epoch's start, with these weights

    def on_epoch_end(self, epoch, logs=None):
        self._save(epoch + 1, 0)

    # ------------------------------------------------------------------ restoring
    def restore(self, model: keras.Model) -> int | None:
        """Load this fit's checkpoint into ``model`` (before ``fit``); return its epoch, or None for a new fit.

        The restored callbacks' state is applied in ``on_train_begin``, after their own.
        """
        self.set_model(model)
        self._restored, self.resumed_from = {}, None
        state = self._read_state()
        if not state:
            return None
        if not model.built:
            raise ValueError("ResumeFromBackup needs a built model: call it on a batch or build() before fit()")
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        for label in ("current", "previous"):
            checkpoint = state.get(label)
            if checkpoint and self._load_weights(checkpoint):
                self._restored, self.resumed_from = checkpoint, checkpoint["epoch"]
                return self.resumed_from
        print(f"warning: no usable checkpoint in {self.backup_dir}: {self.name} starts again from epoch 0",
              file=sys.stderr, flush=True)
        return None

    def on_train_begin(self, logs=None):
        self._steps, self._first_epoch_checked = 0, False
        if self._restored is None:       # model.fit without training.fit: restore now, on_epoch_begin checks
            self.restore(self.model)
        checkpoint, self._restored = self._restored, None
        if not checkpoint:
            return
        for callback, state in zip(self.state_of, checkpoint.get("callbacks", [])):
            callback.set_resume_state(state)
        where = f"epoch {checkpoint['epoch']}" + (f", batch {checkpoint['batch']}" if checkpoint["batch"] else "")
        print(f"resuming {self.name} from its checkpoint at {where} ({self.backup_dir})", flush=True)
        runs.note_resume(self.run_dir, fit=self.name, from_epoch=checkpoint["epoch"])

    def _load_weights(self, checkpoint: dict) -> bool:
        """Load one checkpoint; on any error put every variable back as it was and say why in one line."""
        variables = list(self.model.variables) + (list(self.model.optimizer.variables) if self.model.optimizer else [])
        before = [v.numpy() for v in variables]
        path = Path(self.backup_dir) / checkpoint["weights"]
        try:
            self.model.load_weights(str(path))
            return True
        except Exception as e:  # truncated/corrupt HDF5 (OSError), mismatched shapes (ValueError) ...
            for v, value in zip(variables, before):
                v.assign(value)
            print(f"warning: checkpoint {path} is unreadable ({type(e).__name__}: {str(e).splitlines()[0][:120]})",
                  file=sys.stderr, flush=True)
            return False

    def on_train_end(self, logs=None):
        """Give ``fit``'s History the epochs run before the resume."""
        history = getattr(self.model, "history", None)
        if not self.resumed_from or self.history_file is None or history is None:
            return
        earlier = [r for r in _read_history(self.history_file)
                   if r.get("epoch") not in (None, "") and int(float(r["epoch"])) < self.resumed_from]
        for key in list(history.history) or [k for k in (earlier[0] if earlier else {}) if k != "epoch"]:
            values = [_number(r[key]) for r in earlier if r.get(key) not in (None, "")]
            if len(values) == len(earlier):
                history.history[key] = values + list(history.history.get(key, []))
        history.epoch = [int(float(r["epoch"])) for r in earlier] + list(history.epoch)


def fit(model: keras.Model, *args, callbacks: Sequence[keras.callbacks.Callback] = (), **kwargs):
    """``model.fit(*args, callbacks=..., **kwargs)`` that resumes: the ``ResumeFromBackup`` among
    ``callbacks`` (at most one) restores its checkpoint first and the fit starts at its epoch."""
    callbacks = list(callbacks)
    resumes = [c for c in callbacks if isinstance(c, ResumeFromBackup)]
    if len(resumes) > 1:
        raise ValueError("one fit, one ResumeFromBackup")
    if resumes:
        epoch = resumes[0].restore(model)
        if epoch is not None:
            kwargs["initial_epoch"] = epoch
    return model.fit(*args, callbacks=callbacks, **kwargs)


def tensorboard(log_dir: Path | str) -> keras.callbacks.TensorBoard:
    """Keras' TensorBoard callback as hwkit uses it: scalars once per epoch, no profiling, no graph.

    ``tensorboard --logdir runs/`` then lists every run (and, under a run's tuner folder, each
    KerasTuner trial: the tuner gives each trial a sub-folder of this ``log_dir``).
    """
    return keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch", profile_batch=0,
                                       write_graph=False)


def standard_callbacks(run_dir: Path | str, *state_of: keras.callbacks.Callback,
                       save_every_steps: int | None = None) -> list[keras.callbacks.Callback]:
    """Wall-clock time, live progress (``hwkit.progress``), per-epoch history in ``<run>/history.csv``,
    resume from a checkpoint, and TensorBoard logs (scalars per epoch) in ``<run>/tensorboard/``.

    Pass the fit's other stateful callbacks (``EvaluateEverySamples``, ``OneCycleWithinBudget``)
    as ``state_of`` so that a resumed fit continues their records and schedules; put them before
    these callbacks in the list. The n-th fit of a run gets ``backup/fit<n>`` and, from the second
    on, ``history_fit<n>.csv``. ``save_every_steps`` adds mid-epoch checkpoints for long epochs.
    """
    run_dir = Path(run_dir)
    name = runs.next_fit_name(run_dir)
    history_file = run_dir / ("history.csv" if name == "fit1" else f"history_{name}.csv")
    clock = WallClock()
    return [clock, PhaseProgress(), ResumableCSVLogger(history_file),
            ResumeFromBackup(run_dir, name, save_every_steps, state_of=[*state_of, clock], history_file=history_file),
            tensorboard(run_dir / "tensorboard")]



@dataclasses.dataclass
class ClassifierFit:
    """What ``fit_classifier`` measured: Keras' history, the test monitor and the final test scores."""

    history: dict[str, list[float]]
    test_log: EvaluateEverySamples
    test_loss: float
    test_accuracy: float

    @property
    def seconds(self) -> float:
        """Training wall time in seconds (``WallClock``'s ``time_s`` at the last epoch, validation included)."""
        return float(self.history["time_s"][-1])


def fit_classifier(model: keras.Model, train: tuple, validation: tuple, test: tuple, *, learning_rate: float,
                   epochs: int, batch_size: int, run_dir: Path | str, seed: int = 0, augment: Callable | None = None,
                   test_every_samples: int | None = None,
                   callbacks: Sequence[keras.callbacks.Callback] = ()) -> ClassifierFit:
    """The supervised training block: compile, fit with the standard callbacks, evaluate once on the test set.

    ``models.compile_classifier`` with its warm-up + cosine schedule over all ``epochs``; a shuffled
    (optionally augmented) tf.data pipeline; ``validation`` is the split anything may be chosen on;
    the test set is evaluated every ``test_every_samples`` training samples (default: after every
    epoch) for the curves only; history.csv and wall time come from ``standard_callbacks``.
    """
    x, y = train
    steps = -(-len(x) // batch_size)
    models.compile_classifier(model, learning_rate, total_steps=steps * epochs)
    test_log = EvaluateEverySamples(test_every_samples or steps * batch_size, {"test": test}, batch_size)
    history = fit(model, dataset(x, y, batch_size, shuffle=True, seed=seed, augment=augment),
                  validation_data=validation, epochs=epochs, verbose=2,
                  callbacks=[test_log, *callbacks, *standard_callbacks(run_dir, test_log)])
    test_loss, test_accuracy = model.evaluate(*test, batch_size=1000, verbose=0)
    return ClassifierFit(history.history, test_log, float(test_loss), float(test_accuracy))

ONE_CYCLE_WARMUP = 0.2     # share of a one-cycle schedule spent warming up (OneCycleWithinBudget's default)


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

    def __init__(self, total_steps: int, budget_s: float | None = None, warmup_fraction: float = ONE_CYCLE_WARMUP):
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

    def get_resume_state(self) -> dict:
        return {"steps_done": self.steps_done, "elapsed_s": time.perf_counter() - self._start, "peak": self.peak}

    def set_resume_state(self, state: dict) -> None:
        self.steps_done, self.peak = int(state["steps_done"]), float(state["peak"])
        self._start = time.perf_counter() - float(state["elapsed_s"])


class TimeToAccuracy(keras.callbacks.Callback):
    """For benchmarks: after each epoch (or every ``every`` batches) pause the clock, evaluate, note
    the training seconds at which each accuracy target is first reached; stop once all are.

    It evaluates on whatever split it is given (the benchmarks pass the test set, which is fine
    there because a benchmark chooses nothing; ``split`` names it in the printed trace).
    ``reached[target] = (seconds, epochs)``; with no targets it only records ``trace``.
    """

    def __init__(self, x_test, y_test, targets, every: int = 0, split: str = "test"):
        super().__init__()
        self.x_test, self.y_test, self.targets, self.every = x_test, y_test, tuple(targets), every
        self.split = split
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
        print(f"  {self.elapsed:8.1f} s  epoch {epochs:5.2f}  {self.split} accuracy {accuracy:.4f}", flush=True)
        for target in self.targets:
            if accuracy >= target and target not in self.reached:
                self.reached[target] = (self.elapsed, epochs)
        if self.targets and len(self.reached) == len(self.targets):
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
        return _MultiWorkerMirrored()
    raise HwkitError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")


class _MultiWorkerMirrored(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` with a ``reduce`` that Keras 3's ``Model.fit`` can use.

    ``fit`` reduces a whole (x, y) batch in one call to build the model and each metric's scalar
    "along axis 0"; TensorFlow's multi-worker strategy takes neither a nest nor a scalar with an
    axis, so ``fit`` failed on its first batch (keras-team/keras#20585). Here each value of a nest
    is reduced in turn (as ``MirroredStrategy`` does) and a scalar across replicas only.
    """

    def reduce(self, reduce_op, value, axis):
        parent = super()

        def one(v):
            scalar = getattr(self.experimental_local_results(v)[0], "shape", None) == ()
            return parent.reduce(reduce_op, v, None if scalar else axis)

        return tf.nest.map_structure(one, value)


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
            devices = [d.name for d in (tf.config.list_logical_devices("GPU")
                                        or tf.config.list_logical_devices("CPU"))[:1]]
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
