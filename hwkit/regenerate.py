"""``python -m hwkit.report X --run``: run every task of X that has no complete full run, then time them.

Tasks run in dependency order (``REQUIRES`` first). With ``jobs`` > 1 each task is its own
``python -m <package>.<task>`` process and up to ``jobs`` of them run at once, the machine's cores
split evenly between them (``HWKIT_THREADS``): most tasks train small models whose steps keep
about one core busy, so two at a time on two cores nearly halve the wall time, and a task never
inherits another's Keras state. Among the tasks whose prerequisites are done, the one with the
longest expected run starts first (the task package's ``FULL_RUN_MINUTES``: rough wall times of the
long full runs; others count 1 minute), so the long trainings do not end up running alone at the end.
Each task's output goes to ``<runs>/logs/<task>.log``; a task that fails stops the tasks that need it,
the others finish, and the command ends with one ``error:`` line naming the failed tasks and their
logs. With ``jobs`` = 1 the tasks run one after another in this process (output on the terminal).
An interrupted task resumes from its run directory when the command is rerun (``runs.start_run``).
A task whose latest full run is stale (made by older code: ``runs.RunRecord.changed_files``) is listed
with the files that changed, and run again only with ``rerun_stale`` (``--rerun-stale``).
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from hwkit import HwkitError, runs, task

POLL_S = 0.5          # how often the running tasks are checked
STOP_GRACE_S = 60     # after Ctrl-C / SIGTERM: how long a task gets to mark its run interrupted


@dataclasses.dataclass
class Timing:
    task: str
    ran: bool
    seconds: float = 0.0
    stale: bool = False     # its complete run was made by older code (not re-run without rerun_stale)


def default_jobs(cores: int | None = None) -> int:
    """Two tasks at a time wherever there are two cores (one core each on this 2-core machine)."""
    return min(2, cores or os.cpu_count() or 1)


def run_missing(letters: Sequence[str], data_dir: str | None = None, jobs: int = 1,
                rerun_stale: bool = False) -> list[Timing]:
    """Run (full mode, default flags) each task of these assignments that has no complete full run, and with
    ``rerun_stale`` each one whose latest full run is stale; the stale ones are listed either way.

    Returns one row per task, in dependency order: whether it ran and its wall time.
    """
    tasks = task.execution_order([t for letter in letters for t in task.discover_tasks(letter)])
    latest = {t.name: runs.latest_run(t.name) for t in tasks}
    stale = {name for name, r in latest.items() if r is not None and r.stale}
    for name in (t.name for t in tasks if t.name in stale):
        print(f"=== stale: {name}'s run {latest[name].relative_path} was made by older code "
              f"({runs.file_list(latest[name].changed_files)} changed since): "
              + ("running it again" if rerun_stale else "--rerun-stale runs it again"), flush=True)
    todo = [t for t in tasks if latest[t.name] is None or (rerun_stale and t.name in stale)]
    if jobs > 1 and len(todo) > 1:
        seconds = _run_in_processes(todo, data_dir, jobs)
    else:
        seconds = _run_in_this_process(todo, data_dir)
    return [Timing(t.name, t.name in seconds, seconds.get(t.name, 0.0), t.name in stale) for t in tasks]


def _run_in_this_process(todo, data_dir: str | None) -> dict[str, float]:
    import keras
    seconds = {}
    for t in todo:
        print(f"=== running {task.task_package_name()}.{t.name}: {t.description}", flush=True)
        keras.backend.clear_session()
        started = time.perf_counter()
        status = task.main(f"{task.task_package_name()}.{t.name}", ["--data-dir", data_dir] if data_dir else [])
        if status:
            raise HwkitError(f"task {t.name} failed (exit status {status}); the tasks after it were not run")
        seconds[t.name] = round(time.perf_counter() - started, 1)
    return seconds


def expected_minutes(name: str) -> float:
    return float(getattr(task.task_package(), "FULL_RUN_MINUTES", {}).get(name, 1))


def start_order(tasks: list) -> list:
    """Longest expected run first; ties keep their dependency order (``sorted`` is stable)."""
    return sorted(tasks, key=lambda t: -expected_minutes(t.name))


@dataclasses.dataclass
class _Job:
    task: str
    process: subprocess.Popen
    log: Path
    started: float


def _run_in_processes(todo, data_dir: str | None, jobs: int) -> dict[str, float]:
    package = task.task_package_name()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    log_dir = runs.runs_root() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HWKIT_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               TF_FORCE_GPU_ALLOW_GROWTH="true")   # two processes on one GPU: neither may take all its memory
    names = {t.name for t in todo}
    waiting = start_order(todo)
    running: list[_Job] = []
    seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    print(f"=== {len(todo)} tasks, {jobs} at a time, {threads} thread(s) each; output in {log_dir}/<task>.log",
          flush=True)
    try:
        while waiting or running:
            for job in [j for j in running if j.process.poll() is not None]:
                running.remove(job)
                elapsed = round(time.perf_counter() - job.started, 1)
                if job.process.returncode == 0:
                    seconds[job.task] = elapsed
                    print(f"=== {job.task} done in {elapsed:.0f} s", flush=True)
                else:
                    failed[job.task] = _last_error(job.log)
                    print(f"=== {job.task} FAILED after {elapsed:.0f} s: {failed[job.task]}", flush=True)
            for t in list(waiting):
                broken = [r for r in t.requires if r in failed]
                if broken:
                    waiting.remove(t)
                    failed[t.name] = f"not run: it requires {broken[0]}, which failed"
                    continue
                if len(running) >= jobs or any(r in names and r not in seconds for r in t.requires):
                    continue
                waiting.remove(t)
                log = log_dir / f"{t.name}.log"
                command = [sys.executable, "-m", f"{package}.{t.name}", *(["--data-dir", data_dir] if data_dir else [])]
                with open(log, "w") as out:
                    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
                running.append(_Job(t.name, process, log, time.perf_counter()))
                print(f"=== {time.strftime('%H:%M:%S')} started {t.name}: {t.description}", flush=True)
            time.sleep(POLL_S if running else 0)
    except KeyboardInterrupt:
        _stop(running)
        raise
    if failed:
        raise HwkitError("; ".join(f"task {name}: {why} (log {log_dir / (name + '.log')})"
                                   for name, why in failed.items()))
    return seconds


def _last_error(log: Path) -> str:
    """The task's own ``error:`` line, else the last line it printed."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    return (errors or lines or ["no output"])[-1][:300]


def _stop(running: list[_Job]) -> None:
    """SIGTERM each running task (it marks its run interrupted) and wait for it."""
    for job in running:
        if job.process.poll() is None:
            job.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for job in running:
        try:
            job.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            job.process.kill()


def print_timings(timings: list[Timing], wall_seconds: float) -> None:
    """One row per task, then the sum of the tasks' wall times and the command's own wall time."""
    print(f"\n{'task':<6} {'wall s':>8}")
    for row in timings:
        note = ("" if row.ran else "  (stale run found, not re-run: --rerun-stale)" if row.stale
                else "  (complete run found, not re-run)")
        print(f"{row.task:<6} {row.seconds:>8.1f}{note}")
    print(f"{'sum':<6} {sum(r.seconds for r in timings):>8.1f}")
    print(f"{'wall':<6} {wall_seconds:>8.1f}  (runs and PDFs, start to end)")
