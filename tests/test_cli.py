"""The command line as a user meets it: listing, one-line errors with exit 2, no tracebacks."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "HWKIT_DATA_DIR"}
    env.update({"PYTHONPATH": str(ROOT), "HWKIT_OFFLINE": "1", "HOME": str(cwd), **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def in_process(main, *argv, capsys):
    """Call an entry point in this process as its command would: (exit status, stderr lines)."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def assert_one_line_error_in_process(result, *fragments):
    code, lines = result
    assert code == 2, lines
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """The search order finds nothing but what a test puts in --data-dir (as in cli(), which drops the env)."""
    monkeypatch.delenv("HWKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("HWKIT_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))


def test_tasks_lists_every_assignment_and_b1(capsys):
    from hwkit.cli import tasks_main
    assert tasks_main([]) == 0
    out = capsys.readouterr().out
    for letter in "ABCDE":
        assert f"\n{letter} — " in "\n" + out
    assert "b1 " in out and "MNIST CNN" in out


def test_unknown_task_and_stray_argument(tmp_path, capsys):
    """Process boundary: `python -m tasks.<unknown>` is caught while Python looks the module up."""
    assert_one_line_error(cli("tasks.zz9", cwd=tmp_path), "unknown task 'zz9'", "python -m tasks")
    from hwkit.cli import tasks_main
    assert_one_line_error_in_process(in_process(tasks_main, "zz9", capsys=capsys), "takes no arguments")


@pytest.mark.parametrize("flags, fragment", [
    (["--epochs", "0"], "epochs in 1..10000"),
    (["--seed", "abc"], "seed in 0..4294967295"),
    (["--no-such-flag"], "unrecognized arguments"),
    (["--quick", "--epochs", "101"], "more than 100"),
], ids=["epochs-zero", "seed-text", "unknown-flag", "quick-too-long"])
def test_bad_flags(flags, fragment, capsys, runs_dir):
    from hwkit.cli import task_main
    result = in_process(lambda argv: task_main("tasks.b1", argv), *flags, capsys=capsys)
    assert_one_line_error_in_process(result, "python -m tasks.b1: error:", fragment)
    assert not runs_dir.exists()             # refused before any run directory is made


def test_missing_data_is_one_line_and_leaves_no_complete_run(tmp_path):
    """Process boundary, end to end: a real `python -m tasks.b1` that fails prints exactly one line on
    stderr (TensorFlow's start-up noise included) and marks its run failed."""
    runs = tmp_path / "runs"
    result = cli("tasks.b1", "--quick", "--data-dir", str(tmp_path / "nowhere"), cwd=tmp_path,
                 env_extra={"HWKIT_RUNS_DIR": str(runs)})
    assert_one_line_error(result, "nowhere", "expected mnist_train.csv")
    [run_dir] = list((runs / "b1").iterdir())
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "failed"


def test_corrupt_data_is_one_line(tmp_path, capsys, runs_dir, no_data_anywhere):
    from hwkit.cli import task_main
    (tmp_path / "mnist_train.csv").write_text("label,a\n1,2\n")
    (tmp_path / "mnist_test.csv").write_text("label,a\n1,2\n")
    result = in_process(lambda argv: task_main("tasks.b1", argv), "--quick", "--data-dir", str(tmp_path),
                        capsys=capsys)
    assert_one_line_error_in_process(result, "error:", "mnist_train.csv", "785 comma-separated values")
    [run_dir] = list((runs_dir / "b1").iterdir())
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "failed"


def test_report_bad_assignment_and_export_errors(tmp_path, capsys, no_data_anywhere):
    from hwkit.cli import data_main, report_main
    assert_one_line_error_in_process(in_process(report_main, "Z", capsys=capsys), "invalid choice")
    assert_one_line_error_in_process(
        in_process(data_main, "export-csv", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path / "none"),
                   capsys=capsys), "error:", "expected MNIST")
    assert not (tmp_path / "o").exists()


def test_tasks_are_listed_in_natural_order():
    """report --run runs tasks in this order, and later tasks read earlier runs (c10 reads c6)."""
    from hwkit.cli import discover_tasks
    names = [t.name for t in discover_tasks("C")]
    assert names.index("c2") < names.index("c6") < names.index("c10")


def test_choose_recipe_quick_epochs_and_overrides():
    import argparse
    import dataclasses

    from hwkit.task import choose_recipe

    @dataclasses.dataclass(frozen=True)
    class Recipe:
        epochs: int = 10
        seeds: int = 5

    full, quick = Recipe(), Recipe(epochs=1, seeds=2)
    args = argparse.Namespace(quick=True, epochs=None)
    assert choose_recipe(args, full, quick) == quick
    assert choose_recipe(argparse.Namespace(quick=False, epochs=3), full, quick) == Recipe(epochs=3, seeds=5)
    assert choose_recipe(args, full, quick, seeds=7) == Recipe(epochs=1, seeds=7)
    assert choose_recipe(args, full, quick, seeds=None) == quick          # an unset flag keeps the recipe's value
