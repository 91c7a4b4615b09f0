"""hwkit.findings: every branch of the interval and comparison helpers, on constructed numbers."""
import json

import numpy as np
import pytest

from hwkit import findings as F


def test_seed_interval_is_median_and_range():
    i = F.seed_interval([0.3, 0.1, 0.2])
    assert (i.center, i.low, i.high, i.n) == (0.2, 0.1, 0.3, 3)
    assert "3 seeds" in i.method
    assert F.seed_interval([0.5]).method == "single run"


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_seed_interval_refuses_empty_or_non_finite(bad):
    with pytest.raises(ValueError):
        F.seed_interval(bad)


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_examples():
    rng = np.random.default_rng(1)
    small = F.bootstrap_interval(rng.random(100) < 0.9)
    large = F.bootstrap_interval(rng.random(10_000) < 0.9)
    assert small.low < small.center < small.high
    assert (large.high - large.low) < (small.high - small.low) / 5
    assert large.contains(0.9)
    assert F.bootstrap_interval([1, 0, 1, 1]) == F.bootstrap_interval([1, 0, 1, 1])  # deterministic


def test_compare_seeds_every_verdict():
    hi = [0.9, 0.91, 0.92]
    lo = [0.80, 0.81, 0.82]
    mid = [0.85, 0.905, 0.95]
    assert F.compare_seeds(hi, lo, higher_is_better=True).verdict == F.BETTER
    assert F.compare_seeds(lo, hi, higher_is_better=True).verdict == F.WORSE
    assert F.compare_seeds(hi, lo, higher_is_better=False).verdict == F.WORSE
    assert F.compare_seeds(lo, hi, higher_is_better=False).verdict == F.BETTER
    assert F.compare_seeds(hi, mid, higher_is_better=True).verdict == F.SAME
    assert F.compare_seeds([0.9], [0.1], higher_is_better=True).verdict == F.NOT_COMPARABLE


def test_compare_paired_every_verdict():
    rng = np.random.default_rng(0)
    b = (rng.random(5000) < 0.90).astype(float)
    a = b.copy()
    a[np.flatnonzero(a == 0)[:200]] = 1.0  # A fixes 200 of B's mistakes: +4 points
    assert F.compare_paired(a, b, higher_is_better=True).verdict == F.BETTER
    assert F.compare_paired(b, a, higher_is_better=True).verdict == F.WORSE
    assert F.compare_paired(a, b, higher_is_better=False).verdict == F.WORSE
    noise = b.copy()
    flips = np.r_[np.flatnonzero(b == 1)[:3], np.flatnonzero(b == 0)[:3]]
    noise[flips] = 1.0 - noise[flips]  # three flips each way: indistinguishable
    assert F.compare_paired(noise, b, higher_is_better=True).verdict == F.SAME
    assert F.compare_paired(noise, b, higher_is_better=False).verdict == F.SAME  # either direction
    assert F.compare_paired(b, a, higher_is_better=False).verdict == F.BETTER
    with pytest.raises(ValueError):
        F.compare_paired(a[:10], b, higher_is_better=True)


def test_compare_proportions_every_verdict():
    assert F.compare_proportions(0.90, 0.80, 5000, 5000, higher_is_better=True).verdict == F.BETTER
    assert F.compare_proportions(0.80, 0.90, 5000, 5000, higher_is_better=True).verdict == F.WORSE
    assert F.compare_proportions(0.10, 0.20, 5000, 5000, higher_is_better=False).verdict == F.BETTER
    same = F.compare_proportions(0.901, 0.899, 5000, 5000, higher_is_better=True)
    assert same.verdict == F.SAME and same.interval.low < 0 < same.interval.high
    # the interval is wider with fewer examples: +2 points is real over 5 000 images, not over 100
    assert F.compare_proportions(0.90, 0.88, 100, 100, higher_is_better=True).verdict == F.SAME
    with pytest.raises(ValueError):
        F.compare_proportions(1.2, 0.5, 10, 10, higher_is_better=True)
    with pytest.raises(ValueError):
        F.compare_proportions(0.5, 0.5, 0, 10, higher_is_better=True)


def test_fit_check_and_fitted():
    assert F.fit_check(0.001, 0.01).verdict == F.FITS
    assert F.fit_check(0.02, 0.01).verdict == F.FAILED
    assert F.fit_check(float("nan"), 0.01).verdict == F.FAILED
    assert F.fitted(F.fit_check(0.001, 0.01), F.fit_check(0.001, 0.01).as_dict())
    assert not F.fitted(F.fit_check(0.001, 0.01), F.fit_check(1.0, 0.01))


def test_findings_are_json_data():
    f = F.compare_seeds([1, 2, 3], [4, 5, 6], higher_is_better=True)
    back = json.loads(json.dumps(F.as_dicts({"x": f})))["x"]
    assert back["verdict"] == F.WORSE and back["interval"]["n"] == 3 and back["criterion"]


def test_resampled_means_of_few_levels_match_resampling_the_examples():
    """Counting levels (multinomial) and drawing indices are the same bootstrap: compare their quantiles."""
    rng = np.random.default_rng(3)
    d = rng.choice([-1.0, 0.0, 1.0], size=5000, p=[0.05, 0.9, 0.05])
    fast = F.resampled_means(d, 4000, np.random.default_rng(0))
    slow = d[np.random.default_rng(1).integers(0, d.size, (4000, d.size))].mean(axis=1)
    assert np.allclose(np.quantile(fast, [0.025, 0.5, 0.975]), np.quantile(slow, [0.025, 0.5, 0.975]), atol=6e-4)
    continuous = rng.normal(size=50)          # many levels: the indices are drawn
    means = F.resampled_means(continuous, 500, np.random.default_rng(0))
    assert means.shape == (500,) and abs(means.mean() - continuous.mean()) < 0.05


def test_seed_interval_names_what_varied():
    assert F.seed_interval([1.0, 2.0, 3.0]).method == "median and range over 3 seeds"
    assert F.seed_interval([1.0, 2.0, 3.0], over="repeats").method == "median and range over 3 repeats"
    assert F.seed_interval([1.0], over="repeats").method == "single run"
