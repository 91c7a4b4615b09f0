"""The benchmarks' goal table: median of repeats, misses counted as not reached, ratio against the goal."""
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from goals import Goal, print_goals, schedules, summarise, time_goals  # noqa: E402


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


def test_each_goal_is_timed_on_its_own_schedule_with_every_lower_target():
    assert schedules((0.8, 0.85, 0.9), {0.8: 2, 0.9: 6}) == {2: (0.8,), 6: (0.8, 0.85, 0.9)}
    assert schedules((0.8, 0.85, 0.9), {0.8: 2, 0.9: 6}, epochs=4) == {4: (0.8, 0.85, 0.9)}
    calls = []

    def measure(targets, epochs, seed):   # the short schedule reaches 80% sooner than the long one
        calls.append((epochs, seed))
        return {t: (10.0 * epochs + seed if t < 0.9 else None if seed == 0 else 100.0 + seed) for t in targets}
    rows = time_goals({0.8: Goal("80%", 30), 0.9: Goal("90%", 200)}, (0.8, 0.85, 0.9), {0.8: 2, 0.9: 6},
                      measure, repeat=3)
    assert sorted(calls) == [(2, 0), (2, 1), (2, 2), (6, 0), (6, 1), (6, 2)]
    assert rows[0]["goal"] == "80%, 2-epoch sched." and rows[0]["median_s"] == 21.0 and rows[0]["met"]
    assert rows[1]["goal"] == "90%, 6-epoch sched." and rows[1]["median_s"] == 102.0 and math.isinf(rows[1]["max_s"])


@pytest.mark.slow
def test_mnist_benchmark_reduced_run_prints_every_goal(data_dir, capsys):
    from conftest import load_benchmark
    bench = load_benchmark("mnist_time_to_accuracy")
    assert bench.main(["--train-subset", "512", "--epochs", "1", "--every", "2", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "99.5%: not reached" in out      # 512 images and 4 steps cannot get there
    assert "99.0% test accuracy, 1-epoch sched." in out and "99.5% test accuracy, 1-epoch sched." in out
    assert out.count("  NO ") == 2 and "; test set)" in out
    assert bench.main(["--train-subset", "512", "--epochs", "1", "--every", "2", "--validation",
                       "--data-dir", str(data_dir)]) == 0
    assert "validation split, not the goals' test set" in capsys.readouterr().out


def test_time_to_accuracy_stops_once_every_target_is_reached_and_never_without_targets(capsys):
    import keras
    import numpy as np

    from hwkit import training
    x, y = np.zeros((8, 1), np.float32), np.zeros((8,), np.int64)   # one class: accuracy 1.0 from the start
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    clock = training.TimeToAccuracy(x, y, targets=(0.5,))
    model.fit(x, y, epochs=4, verbose=0, callbacks=[clock])
    assert len(clock.trace) == 1 and 0.5 in clock.reached                  # stopped after the first epoch
    log = training.TimeToAccuracy(x, y, targets=(), split="validation")
    model.fit(x, y, epochs=3, verbose=0, callbacks=[log])
    assert len(log.trace) == 3 and not log.reached and "validation accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_thread_scaling_benchmark_times_each_thread_count_in_its_own_process():
    import re
    import subprocess
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "thread_scaling.py"
    out = subprocess.run([sys.executable, str(script), "--networks", "b1", "--repeat", "1"], capture_output=True,
                         text=True, timeout=600, check=True).stdout
    match = re.search(r"b1: (\d+) ms/step with 1 thread, (\d+) ms/step with 2; second thread: ([\d.]+)x", out)
    assert match and all(float(g) > 0 for g in match.groups())
    assert abs(int(match[1]) / int(match[2]) - float(match[3])) < 0.05
