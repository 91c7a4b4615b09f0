"""Distributed KerasTuner search: a chief serving the oracle over loopback gRPC, worker processes, faults.

The end-to-end tests run the tiny task of ``tests/distributed_task.py`` as real processes (chief and
workers each import TensorFlow), so they are marked slow; the flag checks and the unreachable-chief
case run in the fast suite.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwkit import HwkitError, distribute

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def task_package(tmp_path):
    """A throw-away task package ``dtasks`` holding the tiny search task as ``z1``; (folder, environment)."""
    pkg = tmp_path / "dtasks"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('ASSIGNMENTS = {"Z": "distributed search tests"}\n')
    shutil.copy(ROOT / "tests" / "distributed_task.py", pkg / "z1.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]), HWKIT_TASKS="dtasks",
               HWKIT_RUNS_DIR=str(tmp_path / "runs"), TF_CPP_MIN_LOG_LEVEL="2")
    return tmp_path, env


def start(folder: Path, env: dict, *argv: str, log: str) -> subprocess.Popen:
    out = (folder / log).open("w")
    return subprocess.Popen([sys.executable, "-m", "dtasks.z1", *argv], cwd=folder, env=env, stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_for_a_trial_of(worker: str, search: Path, folder: Path, processes: dict) -> str:
    """The id of the first trial the chief hands to ``worker`` (read from the oracle's state), while every
    process in ``processes`` (name -> Popen, logging to ``<folder>/<name>.log``) stays alive."""
    oracle_state, deadline = search / "search" / "oracle.json", time.monotonic() + 180
    while True:
        assert time.monotonic() < deadline, f"{worker} never started a trial"
        for name, process in processes.items():
            assert process.poll() is None, (folder / f"{name}.log").read_text()
        time.sleep(0.2)
        try:
            trial = json.loads(oracle_state.read_text())["ongoing_trials"].get(worker)
        except (OSError, ValueError):
            continue
        if trial is not None:
            return trial


def finish(process: subprocess.Popen, timeout: float) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def only_run(folder: Path) -> Path:
    (run,) = sorted((folder / "runs" / "z1").iterdir())
    assert json.loads((run / "metrics.json").read_text())["status"] == "complete"
    return run


# ----------------------------------------------------------------------------- flags (fast)

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    distribute.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize("argv, message", [
    (("--tuner-role", "worker", "--oracle", "h:1"), "needs --tuner-id and --search-dir"),
    (("--tuner-role", "worker", "--oracle", "h:1", "--tuner-id", "chief2", "--search-dir", "d"),
     "must not contain 'chief'"),
    (("--tuner-role", "worker", "--oracle", "h:1", "--tuner-id", "w", "--search-dir", "d", "--workers", "2"),
     "for the chief"),
    (("--tuner-role", "chief",), "needs --oracle"),
    (("--tuner-role", "chief", "--oracle", "nohost"), "HOST:PORT"),
    (("--tuner-role", "chief", "--oracle", "h:70000"), "HOST:PORT"),
    (("--oracle", "h:1",), "need --tuner-role"),
    (("--search-dir", "d",), "distributed search"),
])
def test_bad_flag_combinations_are_one_clear_error(argv, message):
    with pytest.raises(HwkitError, match=message):
        distribute.from_args(parse(*argv), "pkg.z1", argv)


def test_roles_and_the_command_line_a_worker_gets():
    argv = ["--quick", "--workers", "2", "--threads=1", "--report", "--seed", "3", "--strategy", "mirrored"]
    cluster = distribute.from_args(parse("--workers", "2", "--threads", "1"), "pkg.z1", argv)
    assert cluster.is_chief and not cluster.is_worker and cluster.argv == ("--quick", "--seed", "3")
    worker = distribute.from_args(parse("--tuner-role", "worker", "--oracle", "[::1]:8000", "--tuner-id", "w-1",
                                        "--search-dir", "d"), "pkg.z1", [])
    assert worker.is_worker and not worker.is_chief and worker.host_port() == ("[::1]", 8000)
    assert not distribute.from_args(parse(), "pkg.z1", []).is_distributed
    assert distribute.threads_per_worker(2, cores=2) == 1 and distribute.threads_per_worker(3, cores=16) == 5
    assert distribute.threads_per_worker(4, cores=2) == 1


def test_a_worker_that_cannot_reach_the_chief_fails_with_one_line_in_time(task_package):
    folder, env = task_package
    timeout = 2.0
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "dtasks.z1", "--tuner-role", "worker", "--tuner-id", "worker0",
                             "--oracle", f"127.0.0.1:{distribute.free_port()}", "--search-dir", str(folder / "s"),
                             "--oracle-timeout", str(timeout)], cwd=folder, env=env, capture_output=True, text=True,
                            timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the KerasTuner chief"), result.stderr
    assert elapsed < timeout + 30          # python start-up + the timeout; KerasTuner alone waits an hour
    assert not (folder / "runs").exists()  # a worker writes no run directory


# ----------------------------------------------------------------------------- end to end (slow)

@pytest.mark.slow
def test_loopback_chief_and_two_workers_share_the_search_and_stop_at_the_target(task_package):
    folder, env = task_package
    # Seeded random search: the units of trials 0, 1, 2 ... are 4, 8, 7, 1, 13, 16, ... whoever runs them,
    # so a target of 12/16 is first reached by trial 4, well before max_trials.
    chief = start(folder, env, "--workers", "2", "--trials", "10", "--target", "0.75", "--trial-seconds", "1",
                  log="chief.log")
    rc = finish(chief, timeout=300)
    output = (folder / "chief.log").read_text()
    assert rc == 0, output
    assert "restarting" not in output and "is still busy" not in output
    run = only_run(folder)
    trials = json.loads((run / "tables" / "trials.json").read_text())
    assert all(t["status"] == "COMPLETED" for t in trials)
    units = [t["units"] for t in trials]
    assert len(set(units)) == len(units), units                 # the chief never hands out a setting twice
    assert {t["worker"] for t in trials} == {"worker0", "worker1"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert "target val_score 0.75 reached" in metrics["search_stop_reason"]
    assert 5 <= len(trials) < 10                                 # stopped by the target, not by max_trials
    for worker in ("worker0", "worker1"):                        # the stop reached both: each exited on its own
        log = (run / "tuner" / f"{worker}.log").read_text()
        assert f"worker {worker}: ran" in log and "the chief stopped the search" in log, log


@pytest.mark.slow
def test_a_worker_killed_mid_trial_and_restarted_with_its_id_finishes_the_search(task_package):
    folder, env = task_package
    port, search = distribute.free_port(), folder / "search"
    common = ["--oracle", f"127.0.0.1:{port}", "--search-dir", str(search), "--trials", "4", "--trial-seconds", "4"]
    chief = start(folder, env, "--tuner-role", "chief", *common, log="chief.log")
    workers = {w: start(folder, env, "--tuner-role", "worker", "--tuner-id", w, *common, log=f"{w}.log")
               for w in ("worker0", "worker1")}
    killed_trial = wait_for_a_trial_of("worker0", search, folder, {"chief": chief, **workers})
    time.sleep(1.0)                                              # into the trial's fit / wait
    workers["worker0"].kill()
    workers["worker0"].wait()
    workers["worker0"] = start(folder, env, "--tuner-role", "worker", "--tuner-id", "worker0", *common,
                               log="worker0-restarted.log")
    for name, process in workers.items():
        assert finish(process, timeout=300) == 0, (folder / f"{name}.log").read_text()
    assert finish(chief, timeout=120) == 0, (folder / "chief.log").read_text()
    trials = json.loads((only_run(folder) / "tables" / "trials.json").read_text())
    assert len(trials) == 4 and all(t["status"] == "COMPLETED" for t in trials), trials
    assert len({t["units"] for t in trials}) == 4
    assert next(t for t in trials if t["trial"] == killed_trial)["worker"] == "worker0"   # same trial, same id


@pytest.mark.slow
def test_a_restarted_chief_resumes_the_search_in_its_directory(task_package):
    folder, env = task_package
    search = folder / "search"
    first = start(folder, env, "--workers", "1", "--search-dir", str(search), "--trials", "2",
                  "--trial-seconds", "0", log="first.log")
    assert finish(first, timeout=240) == 0, (folder / "first.log").read_text()
    again = start(folder, env, "--workers", "1", "--search-dir", str(search), "--trials", "3",
                  "--trial-seconds", "0", log="again.log")
    assert finish(again, timeout=240) == 0, (folder / "again.log").read_text()
    runs = sorted((folder / "runs" / "z1").iterdir())
    first_trials, all_trials = (json.loads((r / "tables" / "trials.json").read_text()) for r in runs)
    assert len(first_trials) == 2 and len(all_trials) == 3      # trials 0 and 1 kept, only trial 2 run again
    assert all_trials[:2] == first_trials


@pytest.mark.slow
def test_the_loopback_chief_restarts_a_killed_worker_with_its_id(task_package):
    folder, env = task_package
    search = folder / "search"
    chief = start(folder, env, "--workers", "2", "--search-dir", str(search), "--trials", "4", "--trial-seconds", "4",
                  log="chief.log")
    killed_trial = wait_for_a_trial_of("worker0", search, folder, {"chief": chief})
    log = (folder / "chief.log").read_text()
    pid = int(log.split("started search worker worker0 (pid ")[1].split(",")[0])
    time.sleep(1.0)
    os.kill(pid, 9)
    assert finish(chief, timeout=300) == 0, (folder / "chief.log").read_text()
    assert "search worker worker0 exited with status -9; restarting it" in (folder / "chief.log").read_text()
    trials = json.loads((only_run(folder) / "tables" / "trials.json").read_text())
    assert len(trials) == 4 and all(t["status"] == "COMPLETED" for t in trials), trials
    assert next(t for t in trials if t["trial"] == killed_trial)["worker"] == "worker0"
