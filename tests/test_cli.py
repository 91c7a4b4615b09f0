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


def test_tasks_lists_every_assignment_and_b1(tmp_path):
    result = cli("tasks", cwd=tmp_path)
    assert result.returncode == 0
    for letter in "ABCDE":
        assert f"\n{letter} — " in "\n" + result.stdout
    assert "b1 " in result.stdout and "MNIST CNN" in result.stdout


def test_unknown_task_and_stray_argument(tmp_path):
    assert_one_line_error(cli("tasks.zz9", cwd=tmp_path), "unknown task 'zz9'", "python -m tasks")
    assert_one_line_error(cli("tasks", "zz9", cwd=tmp_path), "takes no arguments")


@pytest.mark.parametrize("flags, fragment", [
    (["--epochs", "0"], "epochs in 1..10000"),
    (["--seed", "abc"], "seed in 0..4294967295"),
    (["--no-such-flag"], "unrecognized arguments"),
], ids=["epochs-zero", "seed-text", "unknown-flag"])
def test_bad_flags(tmp_path, flags, fragment):
    assert_one_line_error(cli("tasks.b1", *flags, cwd=tmp_path), fragment)


def test_missing_data_is_one_line_and_leaves_no_complete_run(tmp_path):
    runs = tmp_path / "runs"
    result = cli("tasks.b1", "--quick", "--data-dir", str(tmp_path / "nowhere"), cwd=tmp_path,
                 env_extra={"HWKIT_RUNS_DIR": str(runs)})
    assert_one_line_error(result, "nowhere", "expected mnist_train.csv")
    [run_dir] = list((runs / "b1").iterdir())
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "failed"


def test_corrupt_data_is_one_line(tmp_path):
    (tmp_path / "mnist_train.csv").write_text("label,a\n1,2\n")
    (tmp_path / "mnist_test.csv").write_text("label,a\n1,2\n")
    result = cli("tasks.b1", "--quick", "--data-dir", str(tmp_path), cwd=tmp_path,
                 env_extra={"HWKIT_RUNS_DIR": str(tmp_path / "runs")})
    assert_one_line_error(result, "mnist_train.csv", "785 comma-separated values")


def test_report_bad_assignment_and_export_errors(tmp_path):
    assert_one_line_error(cli("hwkit.report", "Z", cwd=tmp_path), "invalid choice")
    assert_one_line_error(cli("hwkit.data", "export-csv", "--out", str(tmp_path / "o"),
                              "--data-dir", str(tmp_path / "none"), cwd=tmp_path), "expected MNIST")


def test_tasks_are_listed_in_natural_order():
    """report --run runs tasks in this order, and later tasks read earlier runs (c10 reads c6)."""
    from hwkit.cli import discover_tasks
    names = [t.name for t in discover_tasks("C")]
    assert names.index("c2") < names.index("c6") < names.index("c10")
