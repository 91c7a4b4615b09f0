"""The benchmarks' goal table: median of repeats, misses counted as not reached, ratio against the goal."""
import math
import sys
from pathlib import Path

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
