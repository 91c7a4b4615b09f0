"""The benchmarks' goal table: median of repeats, misses counted as not reached, ratio against the goal."""
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from goals import Goal, print_goals, summarise  # noqa: E402


def test_median_of_repeats_decides_and_misses_count_as_not_reached(capsys):
    goal = Goal("99.0% test accuracy", 30)
    met = summarise(goal, [29.0, 45.0, 20.0])
    assert met["median_s"] == 29.0 and met["met"] and met["ratio"] == 29.0 / 30
    missed = summarise(goal, [None, 25.0, None])
    assert math.isinf(missed["median_s"]) and not missed["met"]
    slow = summarise(goal, [31.0, 31.0, 10.0])
    assert not slow["met"] and slow["min_s"] == 10.0 and slow["max_s"] == 31.0
    print_goals([met, missed], "t")
    out = capsys.readouterr().out
    assert "not reached" in out and "NO" in out and "yes" in out


def _load_benchmark(name):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_mnist_benchmark_reduced_run_prints_every_goal(data_dir, capsys):
    bench = _load_benchmark("mnist_time_to_accuracy")
    assert bench.main(["--train-subset", "512", "--epochs", "1", "--every", "2", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "99.5%: not reached" in out      # 512 images and 4 steps cannot get there
    assert "99.0% test accuracy, 1-epoch sched." in out and "99.5% test accuracy, 1-epoch sched." in out
    assert out.count("  NO ") == 2
