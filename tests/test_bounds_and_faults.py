"""Bounds on every numeric flag and variable, and a bad ``HWKIT_TASKS``: one ``error:`` line (exit 2) each, no
traceback."""
from __future__ import annotations

import os

import pytest

from conftest import install_task_package

from hwkit import HwkitError, cli, distribute, runs


def one_line_exit_2(capsys, call, *fragments) -> str:
    """``call()`` exits 2 with exactly one non-empty stderr line (no traceback) holding every fragment."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        call()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert e.value.code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


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
    assert cli.bounded_float(0.1, 86400, "seconds")("86400") == 86400.0


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


TOY = '''
"""T1: a toy task."""
from hwkit.cli import task_main


def run(args, run):
    run.log(answer=42)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''
