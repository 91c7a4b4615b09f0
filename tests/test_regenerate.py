"""``report --run --jobs N``: tasks in parallel processes, prerequisites first, failures contained."""
from __future__ import annotations

import json
import os

import pytest
from conftest import install_task_package

from hwkit import HwkitError, regenerate, runs

# Each toy task records when it ran and how many threads it was given; p2 fails, p3 needs p2, p4 needs p1.
TASK = '''
"""{name}: a toy task that records its own start and end."""
import os, time
from hwkit import HwkitError
from hwkit.task import main

REQUIRES = {requires!r}


def run(args, run):
    started = time.time()
    if {fails!r}:
        raise HwkitError("the {name} data is corrupt")
    time.sleep({sleep})
    run.log(started=started, ended=time.time(), threads=os.environ.get("HWKIT_THREADS"))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
'''


def toy_task(name, requires=(), fails=False, sleep=0.0):
    return TASK.format(name=name.upper(), requires=tuple(requires), fails=fails, sleep=sleep)


@pytest.fixture
def parallel_tasks(tmp_path, monkeypatch, runs_dir):
    package = install_task_package(tmp_path, monkeypatch, "partasks", {"P": "parallel"}, {
        "p1": toy_task("p1", sleep=3.0),
        "p2": toy_task("p2", fails=True),
        "p3": toy_task("p3", requires=["p2"]),
        "p4": toy_task("p4", requires=["p1"]),
    })
    with open(package / "__init__.py", "a") as init:
        init.write("FULL_RUN_MINUTES = {'p1': 5}\n")   # the longest: starts first
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(package.parent), os.environ.get("PYTHONPATH", "")]))
    return runs_dir


def metrics(task):
    return json.loads((runs.latest_run(task).path / "metrics.json").read_text())


@pytest.mark.slow   # end to end: task processes, each importing TensorFlow (~30 s)
def test_parallel_runs_overlap_wait_for_prerequisites_and_contain_a_failure(parallel_tasks, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(HwkitError) as failure:
        regenerate.run_missing(["P"], jobs=2)
    message = str(failure.value)
    assert "task p2: error: the P2 data is corrupt" in message and "logs/p2.log" in message
    assert "task p3: not run: it requires p2, which failed" in message
    assert runs.latest_run("p2") is None and runs.latest_run("p3") is None
    p1, p4 = metrics("p1"), metrics("p4")
    assert p1["threads"] == p4["threads"] == "1"               # 2 cores, 2 jobs: one thread each
    env = json.loads((runs.latest_run("p1").path / "env.json").read_text())
    assert env["intra_op_threads"] == 1                          # TensorFlow got it, and the run records it
    assert "(1 TensorFlow thread used)" in dict(runs.latest_run("p1").appendix()["rows"])["hardware"]
    assert p4["started"] >= p1["ended"]                          # after its prerequisite
    assert (parallel_tasks / "logs" / "p2.log").read_text().count("corrupt") == 1
    # p2 ran (and failed) while p1 was still sleeping: the two overlapped.
    assert (parallel_tasks / "logs" / "p2.log").stat().st_mtime < p1["ended"]

    # Rerun with p2 mended: only p2 and p3 run, the complete p1 and p4 are skipped.
    (parallel_tasks.parent / "pkg" / "partasks" / "p2.py").write_text(toy_task("p2"))
    timings = {t.task: t for t in regenerate.run_missing(["P"], jobs=2)}
    assert {k for k, t in timings.items() if t.ran} == {"p2", "p3"}
    assert timings["p2"].seconds > 0 and timings["p1"].seconds == 0


def test_longest_expected_run_starts_first(parallel_tasks):
    from hwkit import task
    tasks = task.execution_order(task.discover_tasks("P"))
    assert [t.name for t in tasks] == ["p1", "p2", "p3", "p4"]
    reordered = [t.name for t in regenerate.start_order(list(reversed(tasks)))]
    assert reordered == ["p1", "p4", "p3", "p2"]     # p1 (5 min) first, the rest in the order given


def test_default_jobs_uses_two_cores_when_there_are_two():
    assert regenerate.default_jobs(1) == 1 and regenerate.default_jobs(2) == 2 and regenerate.default_jobs(16) == 2


def test_bad_thread_count_is_one_line(monkeypatch):
    from hwkit.cli import threads_from_environment
    monkeypatch.setenv("HWKIT_THREADS", "two")
    with pytest.raises(HwkitError, match="HWKIT_THREADS must be a positive number"):
        threads_from_environment()
    monkeypatch.setenv("HWKIT_THREADS", "3")
    assert threads_from_environment() == 3
