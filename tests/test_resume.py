"""Resume after an interruption: Ctrl-C / SIGTERM / SIGKILL mid-training, truncated checkpoints, tuner reload.

A toy task package (``resumetasks.r1``) trains a small dense net for a few epochs on fixed data
(no shuffling, no dropout: an uninterrupted run and an interrupted + resumed one must end with
the same weights). ``R1_STOP_AFTER=k`` makes it interrupt itself after epoch k: by raising
KeyboardInterrupt (Ctrl-C), by SIGTERM, or by SIGKILL (nothing can be cleaned up).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import install_task_package

from hwkit import runs

ROOT = Path(__file__).resolve().parents[1]
EPOCHS, BATCHES = 4, 8        # the toy's epochs (as R1's EPOCHS) and its batches per epoch (256 rows / 32)

R1 = '''
"""R1: a toy training that can interrupt itself after epoch k (R1_STOP_AFTER, R1_STOP_HOW)."""
import os, signal
import numpy as np
import keras
from hwkit import training
from hwkit.task import main

EPOCHS = 4


class StopAfter(keras.callbacks.Callback):
    def __init__(self, epoch, how, batch=0):
        super().__init__()
        self.epoch, self.how, self.batch = epoch, how, batch

    def on_train_batch_end(self, batch, logs=None):
        if self.batch and batch + 1 == self.batch and self._epoch + 1 == self.epoch:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch and not self.batch:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif self.how == "term":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                raise KeyboardInterrupt


def run(args, run):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.CosineDecay(0.05, decay_steps=EPOCHS * 8)
    model.compile(keras.optimizers.Adam(schedule), loss="mse")
    monitor = training.EvaluateEverySamples(256, {"all": (x, y)}, samples_per_batch=32)
    every = int(os.environ.get("R1_SAVE_EVERY", "0")) or None
    callbacks = [monitor, *training.standard_callbacks(run.path, monitor, save_every_steps=every)]
    stop = int(os.environ.get("R1_STOP_AFTER", "0"))
    if stop:
        callbacks.append(StopAfter(stop, os.environ.get("R1_STOP_HOW", "ctrl-c"),
                                   int(os.environ.get("R1_STOP_BATCH", "0"))))
    history = training.fit(model, x, y, batch_size=32, epochs=args.epochs or EPOCHS, shuffle=False, verbose=0,
                           callbacks=callbacks)
    np.save(run.file("weights.npy"), np.concatenate([w.ravel() for w in model.get_weights()]))
    run.log(epochs_in_history=len(history.history["loss"]), final_loss=history.history["loss"][-1],
            evaluations=len(monitor.records), optimizer_steps=int(model.optimizer.iterations.numpy()))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.delenv("R1_STOP_AFTER", raising=False)
    return install_task_package(tmp_path, monkeypatch, "resumetasks", {"R": "resume"}, {"r1": R1}).parent


def run_inprocess(*argv: str, stop_after: int = 0, how: str = "ctrl-c", monkeypatch=None) -> int:
    import keras

    from hwkit.cli import task_main
    keras.backend.clear_session()
    if stop_after:
        monkeypatch.setenv("R1_STOP_AFTER", str(stop_after))
        monkeypatch.setenv("R1_STOP_HOW", how)
    else:
        monkeypatch.delenv("R1_STOP_AFTER", raising=False)
    try:
        return task_main("resumetasks.r1", list(argv))
    except SystemExit as e:
        return e.code


def run_dirs(runs_dir: Path) -> list[Path]:
    return sorted(p for p in (runs_dir / "r1").iterdir() if p.is_dir())


def weights(path: Path) -> np.ndarray:
    return np.load(path / "weights.npy", allow_pickle=False)


def history_epochs(path: Path) -> list[int]:
    import csv
    with (path / "history.csv").open() as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, made once in a runs folder of its own (the tests' runs folders stay empty)."""
    tmp = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as mp:
        install_task_package(tmp, mp, "resumetasks", {"R": "resume"}, {"r1": R1})
        mp.setenv("HWKIT_RUNS_DIR", str(tmp / "runs"))
        assert run_inprocess("--fresh", monkeypatch=mp) == 0
        [path] = run_dirs(tmp / "runs")
    return path


@pytest.mark.parametrize("how, code, epoch", [("ctrl-c", 130, 2), ("term", 143, 2), ("ctrl-c", 130, EPOCHS)],
                         ids=["ctrl-c", "sigterm", "after-the-last-epoch"])
def test_interrupted_run_resumes_in_place_with_the_same_result(reference, toy, runs_dir, monkeypatch, how, code, epoch,
                                                               capsys):
    assert run_inprocess(stop_after=epoch, how=how, monkeypatch=monkeypatch) == code
    interrupted = [p for p in run_dirs(runs_dir) if p != reference]
    assert len(interrupted) == 1
    [path] = interrupted
    assert json.loads((path / "metrics.json").read_text())["status"] == "interrupted"
    assert runs.latest_run("r1") is None                   # an interrupted run is never reported
    assert "interrupted" in capsys.readouterr().err

    assert run_inprocess(monkeypatch=monkeypatch) == 0       # the same command again
    assert [p for p in run_dirs(runs_dir) if p != reference] == [path]   # continued in the same directory
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["status"] == "complete"
    assert [r["from_epoch"] for r in metrics["resumes"]] == [epoch] and metrics["resumes"][0]["at"].endswith("Z")
    assert metrics["epochs_in_history"] == EPOCHS and metrics["evaluations"] == EPOCHS
    assert metrics["optimizer_steps"] == EPOCHS * BATCHES and history_epochs(path) == list(range(EPOCHS))
    np.testing.assert_allclose(weights(path), weights(reference), rtol=1e-5, atol=1e-6)
    ref = json.loads((reference / "metrics.json").read_text())
    assert metrics["final_loss"] == pytest.approx(ref["final_loss"], rel=1e-5)
    assert not (path / runs.BACKUP_DIR).exists()          # checkpoints removed once complete


def test_fresh_starts_a_new_directory_and_a_locked_run_is_left_alone(toy, runs_dir, monkeypatch):
    assert run_inprocess("--epochs", "3", stop_after=2, monkeypatch=monkeypatch) == 130
    [interrupted] = run_dirs(runs_dir)
    fd = runs._lock(interrupted)                     # another process is working in it
    try:
        assert run_inprocess("--epochs", "2", monkeypatch=monkeypatch) == 0   # other flags: another run key
        assert run_inprocess("--epochs", "3", monkeypatch=monkeypatch) == 0   # same flags, but locked
    finally:
        os.close(fd)
    assert len(run_dirs(runs_dir)) == 3
    assert json.loads((interrupted / "metrics.json").read_text())["status"] == "interrupted"
    assert run_inprocess("--epochs", "3", "--fresh", monkeypatch=monkeypatch) == 0
    assert len(run_dirs(runs_dir)) == 4
    assert json.loads((interrupted / "metrics.json").read_text())["status"] == "interrupted"


def test_truncated_checkpoint_falls_back_then_restarts(reference, toy, runs_dir, monkeypatch, capsys):
    assert run_inprocess(stop_after=3, monkeypatch=monkeypatch) == 130
    [path] = [p for p in run_dirs(runs_dir) if p != reference]
    backup = path / runs.BACKUP_DIR / "fit1"
    state = json.loads((backup / "state.json").read_text())
    assert (state["current"]["epoch"], state["previous"]["epoch"]) == (3, 2)
    latest = backup / state["current"]["weights"]
    latest.write_bytes(latest.read_bytes()[:200])            # truncated: the previous checkpoint is used
    capsys.readouterr()
    assert run_inprocess(monkeypatch=monkeypatch) == 0
    err = capsys.readouterr().err
    assert "unreadable" in err and "Traceback" not in err
    metrics = json.loads((path / "metrics.json").read_text())
    assert [r["from_epoch"] for r in metrics["resumes"]] == [2]
    assert history_epochs(path) == list(range(EPOCHS))
    np.testing.assert_allclose(weights(path), weights(reference), rtol=1e-5, atol=1e-6)

    # Both checkpoints unreadable: the fit starts again from epoch 0, still one clear line, same result.
    assert run_inprocess(stop_after=2, monkeypatch=monkeypatch) == 130
    [path2] = [p for p in run_dirs(runs_dir) if p not in (reference, path)]
    backup = path2 / runs.BACKUP_DIR / "fit1"
    for f in backup.glob("*.weights.h5"):
        f.write_bytes(b"not hdf5")
    capsys.readouterr()
    assert run_inprocess(monkeypatch=monkeypatch) == 0
    err = capsys.readouterr().err
    assert "starts again from epoch 0" in err and "Traceback" not in err
    assert history_epochs(path2) == list(range(EPOCHS))
    np.testing.assert_allclose(weights(path2), weights(reference), rtol=1e-5, atol=1e-6)


def test_mid_epoch_checkpoint_resumes_that_epoch(toy, runs_dir, monkeypatch):
    """Long epochs: a checkpoint every N steps; Ctrl-C in the middle of epoch 3 resumes at epoch 3's start."""
    monkeypatch.setenv("R1_SAVE_EVERY", "3")
    monkeypatch.setenv("R1_STOP_BATCH", "7")              # interrupted after batch 7 of 8 in epoch 3 (step 23)
    assert run_inprocess(stop_after=3, monkeypatch=monkeypatch) == 130
    [path] = run_dirs(runs_dir)
    state = json.loads((path / runs.BACKUP_DIR / "fit1" / "state.json").read_text())
    assert (state["current"]["epoch"], state["current"]["batch"]) == (2, 4)   # step 21: 0-based epoch 2, batch 4
    monkeypatch.delenv("R1_STOP_BATCH")
    assert run_inprocess(monkeypatch=monkeypatch) == 0
    metrics = json.loads((path / "metrics.json").read_text())
    assert [r["from_epoch"] for r in metrics["resumes"]] == [2]
    assert history_epochs(path) == list(range(EPOCHS)) and metrics["epochs_in_history"] == EPOCHS
    # the 5 batches of epoch 3 before the checkpoint, seen twice
    assert metrics["optimizer_steps"] == EPOCHS * BATCHES + 5


@pytest.mark.slow
def test_sigkill_after_epoch_k_then_rerun_resumes_at_k(reference, toy, runs_dir):
    """A real SIGKILL (nothing is cleaned up, no status written) in a subprocess, then the same command."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy), str(ROOT)]), "HWKIT_TASKS": "resumetasks",
           "HWKIT_RUNS_DIR": str(runs_dir), "R1_STOP_AFTER": "3", "R1_STOP_HOW": "kill"}
    killed = subprocess.run([sys.executable, "-m", "resumetasks.r1"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    [path] = [p for p in run_dirs(runs_dir) if p != reference]
    assert not (path / "metrics.json").exists()
    env.pop("R1_STOP_AFTER")
    rerun = subprocess.run([sys.executable, "-m", "resumetasks.r1"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resuming fit1 from its checkpoint at epoch 3" in rerun.stdout
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["status"] == "complete" and [r["from_epoch"] for r in metrics["resumes"]] == [3]
    assert history_epochs(path) == list(range(EPOCHS)) and metrics["epochs_in_history"] == EPOCHS
    np.testing.assert_allclose(weights(path), weights(reference), rtol=1e-5, atol=1e-6)


def test_report_run_resumes_the_interrupted_task(toy, runs_dir, monkeypatch):
    from hwkit import regenerate
    assert run_inprocess(stop_after=2, monkeypatch=monkeypatch) == 130
    [path] = run_dirs(runs_dir)
    timings = regenerate.run_missing(["R"])
    assert [t.ran for t in timings] == [True]
    assert run_dirs(runs_dir) == [path] and runs.latest_run("r1").path == path
    assert [r["from_epoch"] for r in json.loads((path / "metrics.json").read_text())["resumes"]] == [2]
    assert regenerate.run_missing(["R"])[0].ran is False          # complete: skipped


def test_search_reloads_finished_trials(tmp_path):
    """An interrupted KerasTuner search, run again in the same directory, runs only the missing trials."""
    import keras
    import keras_tuner as kt

    from hwkit import tuning

    class Model(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 64)),
                                      keras.layers.Dense(1)])
            model.compile("sgd", loss="mse", metrics=["mae"])
            return model

    class InterruptIn(keras.callbacks.Callback):
        fits = 0        # a class attribute: KerasTuner deep-copies the callbacks of each trial

        def __init__(self, trial):
            super().__init__()
            self.trial = trial

        def on_train_begin(self, logs=None):
            InterruptIn.fits += 1
            if InterruptIn.fits == self.trial:
                raise KeyboardInterrupt

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    kwargs = dict(validation_data=(x, y), directory=tmp_path / "tuner", objective="val_mae", direction="min",
                  max_trials=3, epochs=1, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        tuning.search(Model(), x, y, callbacks=[InterruptIn(3)], **kwargs)
    InterruptIn.fits = 0
    result = tuning.search(Model(), x, y, callbacks=[InterruptIn(0)], **kwargs)
    assert len(result.trials) == 3 and all(t["score"] is not None for t in result.trials)
    assert InterruptIn.fits == 1                                 # two trials were reloaded, one was run

    # The time of the reloaded trials counts against the budget: no second full budget on resume.
    InterruptIn.fits = 0
    result = tuning.search(Model(), x, y, callbacks=[InterruptIn(0)], **{**kwargs, "max_trials": 10},
                           time_budget_s=1e-3)
    assert InterruptIn.fits == 0 and len(result.trials) == 3 and "budget" in result.stop_reason
