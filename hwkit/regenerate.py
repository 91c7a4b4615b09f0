"""``python -m hwkit.report X --run``: run every task of X that has no complete full run, then time them.

Tasks run in dependency order (``REQUIRES`` first). With ``jobs`` > 1 each task is its own
``python -m <package>.<task>`` process and up to ``jobs`` of them run at once, the machine's cores
split evenly between them (``HWKIT_THREADS``): most tasks train small models whose steps keep
about one core busy, so two at a time on two cores nearly halve the wall time, and a task never
inherits another's Keras state. Among the tasks whose prerequisites are done, the one with the
longest expected run starts first (the task package's ``FULL_RUN_MINUTES``: rough wall times of the
long full runs; others count 1 minute), so the long trainings do not end up running alone at the end.
Each task's output goes to ``<runs>/logs/<task>.log``; what each running task is doing (search trial
k/n, epoch e/E, seconds per epoch: ``hwkit.progress``) is shown live with the done/failed/waiting counts,
the elapsed time and an estimate of the time left — redrawn in place on a terminal, as plain lines (one
per change, no control characters) when the output is a file or CI. A task that fails stops the tasks that need it,
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

from hwkit import HwkitError, progress, runs, task

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

    @property
    def progress_file(self) -> Path:
        return progress_file(self.log)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def progress_file(log: Path) -> Path:
    return log.with_suffix(".progress.json")


class ProgressView:
    """What ``report --run`` shows while its tasks run: events (started, done, failed) as lines, and a
    live table of the running tasks with a status line — in place on a terminal (rich), otherwise a
    plain line per running task whenever its phase or step changes."""

    def __init__(self, total: int, jobs: int, live: bool | None = None, stream=None):
        self.total, self.jobs = total, jobs
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.started = time.perf_counter()
        self._shown: dict[str, str] = {}
        self._live = None
        if self.live:
            import rich.console
            import rich.live
            self._live = rich.live.Live(console=rich.console.Console(file=self.stream, force_terminal=True),
                                        refresh_per_second=2,
                                        transient=True)
            self._live.start()

    def event(self, text: str) -> None:
        line = f"=== {time.strftime('%H:%M:%S')} {text}"
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def status(self, running: list[_Job], waiting: list, done: int, failed: int) -> str:
        phases = [(j.elapsed(), progress.read(j.progress_file), 60 * expected_minutes(j.task)) for j in running]
        left = progress.estimate_left_s(phases, [60 * expected_minutes(t.name) for t in waiting], self.jobs)
        return (f"{done} done · {failed} failed · {len(running)} running · {len(waiting)} waiting of {self.total}"
                f" · elapsed {progress.clock(time.perf_counter() - self.started)} · about {progress.clock(left)} left")

    def refresh(self, running: list[_Job], waiting: list, done: int, failed: int) -> None:
        rows = {j.task: (j, progress.read(j.progress_file)) for j in running}
        if self._live is not None:
            import rich.table
            table = rich.table.Table(box=None, show_header=False, pad_edge=False)
            for name, (job, now) in rows.items():
                table.add_row(name, now.describe() if now else "running", progress.clock(job.elapsed()))
            table.add_row("", self.status(running, waiting, done, failed), "")
            self._live.update(table)
            return
        for name, (job, now) in rows.items():
            text = now.describe() if now else "running"
            if self._shown.get(name) != text:
                self._shown[name] = text
                print(f"... {name}: {text} ({progress.clock(job.elapsed())}) | "
                      f"{self.status(running, waiting, done, failed)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()


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
    view = ProgressView(len(todo), jobs)
    try:
        while waiting or running:
            for job in [j for j in running if j.process.poll() is not None]:
                running.remove(job)
                elapsed = round(job.elapsed(), 1)
                if job.process.returncode == 0:
                    seconds[job.task] = elapsed
                    view.event(f"{job.task} done in {elapsed:.0f} s")
                else:
                    failed[job.task] = _last_error(job.log)
                    view.event(f"{job.task} FAILED after {elapsed:.0f} s: {failed[job.task]}")
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
                progress_file(log).unlink(missing_ok=True)
                command = [sys.executable, "-m", f"{package}.{t.name}", *(["--data-dir", data_dir] if data_dir else [])]
                with open(log, "w") as out:
                    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                               env=dict(env, **{progress.ENV: str(progress_file(log))}))
                running.append(_Job(t.name, process, log, time.perf_counter()))
                view.event(f"started {t.name}: {t.description}")
            view.refresh(running, waiting, len(seconds), len(failed))
            time.sleep(POLL_S if running else 0)
    except KeyboardInterrupt:
        view.close()
        _stop(running)
        raise
    view.close()
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
