"""Bounds on every numeric flag and variable, a bad ``HWKIT_TASKS``, a full disk during a checkpoint or a
model save, and the temporary files a failed or killed run leaves: one ``error:`` line (exit 2) each, no
traceback, and no ``tmp-*`` / ``.part`` file left in a run directory."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import install_task_package, one_line_exit_2

from hwkit import HwkitError, cli, distribute, runs, task

ROOT = Path(__file__).resolve().parents[1]


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith("tmp-") or p.name.endswith(".part")]


# ----------------------------------------------------------------------------- numeric flags

@pytest.fixture
def stop_before_the_run(monkeypatch):
    """A task command that passes its flag checks stops at start_run: nothing trains in these tests."""
    def refuse(*a, **k):
        raise HwkitError("reached start_run")
    monkeypatch.setattr(runs, "start_run", refuse)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)      # the bound that depends on the machine: 4 x 2 cores


TASK_FLAGS = [
    ("b1", ["--oracle-timeout", "inf"], "seconds in 0.1..86400"),
    ("b1", ["--oracle-timeout", "nan"], "seconds in 0.1..86400"),
    ("b1", ["--oracle-timeout", "-1"], "seconds in 0.1..86400"),
    ("b1", ["--oracle-timeout", "1e12"], "seconds in 0.1..86400"),
    ("b1", ["--oracle-timeout", "soon"], "seconds in 0.1..86400"),
    ("b1", ["--workers", "64"], "1..8 (4 per core"),
    ("b1", ["--workers", "0"], "1..8 (4 per core"),
    ("b1", ["--threads", "1000000"], "1..8 (4 per core"),
    ("b1", ["--trials", "1000000000"], "trials in 1..1000"),
    ("b1", ["--tune-budget", "1000000000000"], "seconds in 1..86400"),
    ("b2", ["--seeds", "1000000"], "seeds in 1..100"),
    ("a1", ["--seeds", "-3"], "seeds in 1..100"),
    ("a1", ["--digit", "12"], "digit in 0..9"),
    ("a1", ["--occurrence", "-1"], "in 0..59999"),
    ("a1", ["--occurrence", "10000000000"], "in 0..59999"),
    ("a5", ["--depths", "1", "100000"], "depth in 1..100"),
    ("a5", ["--seeds", "0"], "seeds in 1..100"),
    ("c10", ["--trials", "1000000000"], "trials in 1..1000"),
    ("d5", ["--search-epochs", "1000000000"], "epochs in 1..10000"),
    ("d6", ["--width", "1000000"], "width in 1..512"),
    ("d6", ["--time-budget", "1000000000000"], "seconds in 1..86400"),
    ("d6", ["--tune-budget", "0"], "seconds in 1..86400"),
    ("a1", ["--seed", "4294967295"], "derive more seeds from it (seed + k) and each must stay below 2^32; "
                                      "use 0..4294867295"),
]


@pytest.mark.parametrize("task, argv, fragment", TASK_FLAGS, ids=[f"{t}{''.join(a)}" for t, a, _ in TASK_FLAGS])
def test_every_numeric_task_flag_is_bounded(stop_before_the_run, capsys, runs_dir, task, argv, fragment):
    one_line_exit_2(capsys, lambda: cli.task_main(f"tasks.{task}", ["--quick", *argv]), fragment)
    assert not runs_dir.exists()


def test_bounded_values_inside_the_range_are_taken(monkeypatch):
    import argparse
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parser = argparse.ArgumentParser()
    distribute.add_arguments(parser)
    args = parser.parse_args(["--workers", "8", "--threads", "8", "--oracle-timeout", "2.5"])
    assert (args.workers, args.threads, args.oracle_timeout) == (8, 8, 2.5)
    assert task.bounded_float(0.1, 86400, "seconds")("86400") == 86400.0


def test_workers_on_other_machines_are_not_bounded_by_this_machine(monkeypatch, capsys):
    """--workers counts the processes started on this machine; more join from others with --tuner-role worker."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parser = cli.OneLineArgumentParser(prog="t")
    distribute.add_arguments(parser)
    args = parser.parse_args(["--tuner-role", "chief", "--oracle", "0.0.0.0:9000", "--workers", "2"])
    assert distribute.from_args(args, "pkg.z1", []).is_chief
    one_line_exit_2(capsys, lambda: parser.parse_args(["--workers", "9"]),
                    "expected a number of worker processes in 1..8 (4 per core on this machine; workers on other "
                    "machines join with --tuner-role worker), got 9")


def test_report_jobs_and_hwkit_threads_are_bounded_by_the_cores(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    one_line_exit_2(capsys, lambda: cli.report_main(["A", "--jobs", "64"]), "1..8 (4 per core")
    monkeypatch.setenv("HWKIT_THREADS", "1000000")
    with pytest.raises(HwkitError, match=r"HWKIT_THREADS must be a positive number of threads up to 8"):
        cli.threads_from_environment()
    monkeypatch.setenv("HWKIT_THREADS", "8")
    assert cli.threads_from_environment() == 8


# ----------------------------------------------------------------------------- HWKIT_TASKS

@pytest.mark.parametrize("package, fragment", [
    ("no_such_task_package", "no module named 'no_such_task_package'"),
    ("no_such_task_package.sub", "no module named 'no_such_task_package'"),
    ("hwkit.cli", "a module, not a package of tasks"),
    ("json", "holds no task modules"),
    ("../tasks", "not a Python package name"),
])
@pytest.mark.parametrize("command", ["tasks", "report", "submit"])
def test_bad_hwkit_tasks_is_one_line(capsys, monkeypatch, tmp_path, package, fragment, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HWKIT_TASKS", package)
    call = {"tasks": lambda: cli.tasks_main([]), "report": lambda: cli.report_main(["A"]),
            "submit": lambda: cli.submit_main(["A"])}[command]
    one_line_exit_2(capsys, call, "HWKIT_TASKS", fragment)


def test_a_task_run_by_name_does_not_depend_on_hwkit_tasks(tmp_path, monkeypatch, runs_dir):
    install_task_package(tmp_path, monkeypatch, "boundtasks", {"T": "bounds"}, {"t1": TOY})
    monkeypatch.setenv("HWKIT_TASKS", "no_such_task_package")
    assert cli.task_main("boundtasks.t1", []) == 0                # its own package, not $HWKIT_TASKS


# ----------------------------------------------------------------------------- full disk, leftovers

TOY = '''
"""T1: a toy task."""
from hwkit.cli import task_main


def run(args, run):
    run.log(answer=42)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''

FIT = '''
"""F1: a toy fit with checkpoints (ResumeFromBackup), then a saved model."""
import keras
import numpy as np

from hwkit import training
from hwkit.cli import task_main

UNITS = 8


def run(args, run):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(UNITS), keras.layers.Dense(3)])
    model.compile("adam", "mse")
    x, y = np.zeros((8, 4), "float32"), np.zeros((8, 3), "float32")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=training.standard_callbacks(run.path))
    training.save_model(model, run.model_path("f1.keras"))
    run.log(done=True)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''


@pytest.fixture
def fit_task(tmp_path, monkeypatch):
    import keras
    keras.backend.clear_session()
    return install_task_package(tmp_path, monkeypatch, "faulttasks", {"F": "faults"}, {"f1": FIT, "t1": TOY})


def only_run(runs_dir: Path, task: str) -> Path:
    [path] = list((runs_dir / task).iterdir())
    return path


def full_disk_for(monkeypatch, predicate) -> list[Path]:
    """Path.write_bytes writes half its data, then raises ENOSPC, for every path ``predicate`` holds for."""
    real = Path.write_bytes
    hit = []

    def write_bytes(self, data):
        if predicate(self):
            hit.append(self)
            real(self, data[:len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    return hit


def test_disk_full_during_a_checkpoint_is_one_line_naming_it_and_leaves_no_tmp_file(fit_task, capsys, runs_dir,
                                                                                     monkeypatch):
    hit = full_disk_for(monkeypatch, lambda p: p.name.endswith(".weights.h5"))
    line = one_line_exit_2(capsys, lambda: cli.task_main("faulttasks.f1", []), "cannot write the checkpoint",
                           "No space left on device")
    path = only_run(runs_dir, "f1")
    assert hit and f"{path / 'backup' / 'fit1' / 'epoch00001-batch0000000.weights.h5'}:" in line
    assert not leftovers(path)
    assert json.loads((path / "metrics.json").read_text())["status"] == "failed"


def test_too_little_free_space_is_refused_before_anything_is_written(fit_task, capsys, runs_dir, monkeypatch):
    real_usage = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real_usage(p)._replace(free=4096))
    hit = full_disk_for(monkeypatch, lambda p: p.name.endswith(".weights.h5"))
    one_line_exit_2(capsys, lambda: cli.task_main("faulttasks.f1", []), "cannot write the checkpoint",
                    "epoch00001-batch0000000.weights.h5: 0.0 MB free on its disk, it needs about")
    assert hit == []
    assert not leftovers(only_run(runs_dir, "f1"))


def test_disk_full_during_a_model_save_is_one_line_naming_it(fit_task, capsys, runs_dir, monkeypatch):
    import keras

    def save(self, filepath, *a, **k):
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(keras.Model, "save", save)
    path_fragment = os.path.join("models", "f1.keras")
    one_line_exit_2(capsys, lambda: cli.task_main("faulttasks.f1", []), "cannot write the model", path_fragment,
                    "No space left on device")
    path = only_run(runs_dir, "f1")
    assert not leftovers(path) and not (path / "models" / "f1.keras").exists()


@pytest.mark.slow   # a real subprocess under a file-size limit
def test_a_real_write_failure_is_one_line_not_a_crash(fit_task, tmp_path):
    """A checkpoint write that really fails half-way (a file-size limit stands in for a full disk): one line,
    no tmp file, and no segmentation fault (HDF5 writing the file itself crashed on this: exit -11)."""
    import resource
    import signal

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)    # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))   # above any source file the run keeps

    fit_task.joinpath("f1.py").write_text(FIT.replace("UNITS = 8", "UNITS = 4000"))   # checkpoint > 100 kB
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fit_task.parent), str(ROOT)]), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-m", "faulttasks.f1"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300, preexec_fn=limit_file_size)
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(("I0000", "W0000",
                                                                                                  "WARNING: All"))]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: cannot write the checkpoint"), result.stderr
    path = only_run(Path(env["HWKIT_RUNS_DIR"]), "f1")
    assert not leftovers(path)


def test_leftovers_of_a_killed_run_are_swept_when_it_resumes(fit_task, capsys, runs_dir, monkeypatch):
    def interrupted(args, run):
        raise KeyboardInterrupt
    module = __import__("faulttasks.t1", fromlist=["run"])
    real_run = module.run
    monkeypatch.setattr(module, "run", interrupted)
    with pytest.raises(SystemExit):
        cli.task_main("faulttasks.t1", [])
    path = only_run(runs_dir, "t1")
    killed = [path / "backup" / "fit1" / "tmp-epoch00003-batch0000000.weights.h5", path / "tables" / "rows.json.part",
              path / "metrics.json.part"]
    for p in killed:                                  # what a SIGKILL in the middle of those writes leaves
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half")
    monkeypatch.setattr(module, "run", real_run)
    capsys.readouterr()
    assert cli.task_main("faulttasks.t1", []) == 0
    out = capsys.readouterr().out
    assert only_run(runs_dir, "t1") == path and not leftovers(path)
    [line] = [line for line in out.splitlines() if line.startswith("removed")]
    assert all(str(p.relative_to(path)) in line for p in killed) and str(path) in line


def test_a_failed_run_removes_its_leftovers(fit_task, capsys, runs_dir, monkeypatch):
    def fails(args, run):
        run.file("figures", "curve.svg.part").write_text("<svg")
        run.file("backup", "fit1", "tmp-epoch00001-batch0000000.weights.h5").write_bytes(b"half")
        raise HwkitError("the data is corrupt")
    module = __import__("faulttasks.t1", fromlist=["run"])
    monkeypatch.setattr(module, "run", fails)
    one_line_exit_2(capsys, lambda: cli.task_main("faulttasks.t1", []), "the data is corrupt")
    path = only_run(runs_dir, "t1")
    assert json.loads((path / "metrics.json").read_text())["status"] == "failed"
    assert not leftovers(path)


def test_history_rewrite_on_a_full_disk_names_the_file_and_leaves_no_part(tmp_path, monkeypatch):
    from hwkit import training
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss\n0,1.0\n1,0.5\n")
    import csv

    def full_disk(self, rows):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(csv.DictWriter, "writerows", full_disk)
    with pytest.raises(HwkitError, match=r"cannot write .*history.csv.*No space left on device"):
        training._drop_rows_from(history, 1)
    assert not leftovers(tmp_path) and history.read_text().count("\n") == 3
