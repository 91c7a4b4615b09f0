"""Every branch of assignment D's findings (hwkit/assignments/d_findings.py), on constructed inputs."""
import math

import numpy as np
import pytest

from hwkit import findings as F
from hwkit.assignments import d_findings as D


def test_closer_to_minimum_every_verdict():
    assert D.closer_to_minimum(0.6, 0.075).verdict == F.BETTER
    assert D.closer_to_minimum(0.6, 0.075).numbers["factor"] == pytest.approx(8.0)
    assert D.closer_to_minimum(0.1, 0.2).verdict == F.WORSE
    same = D.closer_to_minimum(0.1, 0.0 + 0.1)
    assert same.verdict == F.SAME and same.interval is None and "exact" in same.criterion
    assert D.closer_to_minimum(0.1, 0.0).numbers["factor"] == math.inf


def test_overshoot_from_either_side():
    assert D.overshoot([0.0, -0.5, -0.9, -0.8], -0.75).verdict == "overshoots"
    assert D.overshoot([0.0, -0.5, -0.6, -0.7], -0.75).verdict == "does not overshoot"
    assert D.overshoot([-3.0, -2.0, -0.7], -0.75).verdict == "overshoots"
    assert D.overshoot([-3.0, -2.0, -0.8], -0.75).verdict == "does not overshoot"


def test_steps_shrink_only_when_steps_and_gradients_both_fall():
    assert D.steps_shrink([0, -0.5, -0.62, -0.68], [0.5, 0.12, 0.06, 0.03]).verdict == "shrink"
    assert D.steps_shrink([0, -0.5, -0.62, -0.9], [0.5, 0.12, 0.06, 0.03]).verdict == "do not shrink"
    assert D.steps_shrink([0, -0.5, -0.62, -0.68], [0.5, 0.12, 0.2, 0.03]).verdict == "do not shrink"


def test_momentum_vs_gd_every_verdict():
    assert D.momentum_vs_gd(-0.020, -0.021).verdict == F.BETTER
    assert D.momentum_vs_gd(-0.020, -0.019).verdict == F.WORSE
    assert D.momentum_vs_gd(-0.020, -0.020).verdict == F.SAME


def test_velocity_lags_ignores_the_first_step_and_checks_the_rest():
    assert D.velocity_lags([-0.0245, -0.025, -0.026], [-0.0245, -0.026, -0.028]).verdict == "lags"
    assert D.velocity_lags([-0.0245, -0.027, -0.026], [-0.0245, -0.026, -0.028]).verdict == "does not lag"
    assert D.velocity_lags([-0.0245], [-0.0245]).verdict == "does not lag"   # nothing to show


def test_same_winner():
    assert D.same_winner(["GD", "GD"], ["GD", "GD"]).verdict == F.SAME
    assert D.same_winner(["GD", "GD"], ["GD", "momentum"]).verdict == "different"


def test_separability_agrees_only_with_the_proof():
    good = {"AND": True, "OR": True, "XOR": False, "XNOR": False}
    assert D.separability(good).verdict == "agrees"
    assert D.separability({**good, "XOR": True}).verdict == "contradicts"
    assert D.separability({**good, "OR": False}).verdict == "contradicts"


def test_classification_and_stride():
    assert D.classification(True, "x").verdict == "correct"
    assert D.classification(False, "x").verdict == "wrong"
    assert D.stride_keeps_size([1]).verdict == "possible"
    assert D.stride_keeps_size([]).verdict == "impossible"


def test_reload_check():
    assert D.reload_check(0.016, 0.016).verdict == "identical"
    assert D.reload_check(0.016, 0.017).verdict == "different"


def test_gradient_checks():
    assert D.gradient_agreement(2e-9).verdict == "agrees"
    assert D.gradient_agreement(1e-3).verdict == "disagrees"
    assert D.gradient_agreement(float("nan")).verdict == "disagrees"
    assert D.sum_y_matters(0.66, 6e-10).verdict == "matters"
    assert D.sum_y_matters(1e-5, 6e-10).verdict == "not shown"     # o − y was not off
    assert D.sum_y_matters(0.66, 1e-2).verdict == "not shown"      # the general form was not right either


def test_fit_is_out_of_the_chance_plateau():
    assert D.fit(1.2).verdict == F.FITS
    assert D.fit(2.25).verdict == F.FAILED            # ln 10 = 2.30: a uniform guess
    assert D.fit(float("nan")).verdict == F.FAILED
    assert "ln 10" in D.fit(1.0).criterion


def test_fit_by_accuracy():
    assert D.fit_by_accuracy(0.85).verdict == F.FITS
    assert D.fit_by_accuracy(0.15).verdict == F.FAILED
    assert D.fit_by_accuracy(None).verdict == F.FAILED
    assert D.fit_by_accuracy(0.3, chance=0.5).verdict == F.FAILED


def test_which_failed_every_verdict():
    ok, bad = D.fit(0.5), D.fit(2.3)
    assert D.which_failed(ok, ok).verdict == "both fit"
    assert D.which_failed(bad, ok).verdict == "only A failed"
    assert D.which_failed(ok, bad.as_dict()).verdict == "only B failed"
    both = D.which_failed(bad, bad)
    assert both.verdict == "both failed" and both.numbers["a_loss"] == pytest.approx(2.3)


def _correct(n=5000, rate=0.9, seed=0):
    return (np.random.default_rng(seed).random(n) < rate).astype(float)


def test_paired_if_fitted_compares_only_fitted_models():
    b = _correct()
    a = b.copy()
    a[np.flatnonzero(a == 0)[:200]] = 1.0
    assert D.paired_if_fitted(a, b, [D.fit(1.0)]).verdict == F.BETTER
    assert D.paired_if_fitted(b, a, [D.fit(1.0)]).verdict == F.WORSE
    assert D.paired_if_fitted(b, b, [D.fit(1.0)]).verdict == F.SAME
    assert D.paired_if_fitted(a, b, [D.fit(2.3)]).verdict == F.NOT_COMPARABLE


def test_accuracy_interval_brackets_the_mean():
    f = D.accuracy(_correct())
    assert f.verdict == "measured" and f.numbers["low"] < f.numbers["value"] < f.numbers["high"]


def test_cutoff_every_verdict_both_directions():
    assert D.cutoff(0.91, 0.85, 0.90, 0.92).verdict == "reached"
    assert D.cutoff(0.80, 0.85, 0.79, 0.81).verdict == "not reached"
    assert D.cutoff(0.855, 0.85, 0.845, 0.865).verdict == "borderline reached"
    assert D.cutoff(0.845, 0.85, 0.835, 0.855).verdict == "borderline not reached"
    # an error rate: below the threshold is reached
    assert D.cutoff(0.016, 0.02, 0.014, 0.018, higher_is_better=False).verdict == "reached"
    assert D.cutoff(0.019, 0.02, 0.017, 0.021, higher_is_better=False).verdict == "borderline reached"
    assert D.cutoff(0.10, 0.05, 0.08, 0.12, higher_is_better=False).verdict == "not reached"
    assert D.cutoff(0.051, 0.05, 0.045, 0.057, higher_is_better=False).verdict == "borderline not reached"


def test_search_choice_every_verdict():
    assert D.search_choice([0.90, 0.80, 0.70], 5000).verdict == F.BETTER
    tie = D.search_choice([0.801, 0.80], 5000)
    assert tie.verdict == F.SAME and tie.numbers["best"] == 0 and tie.numbers["runner_up"] == 1
    assert D.search_choice([0.5], 5000).verdict == F.NOT_COMPARABLE
    # a failed candidate is neither chosen nor the runner-up
    fits = [D.fit(2.3), D.fit(1.0), D.fit(1.0)]
    f = D.search_choice([0.99, 0.90, 0.70], 5000, fits=fits)
    assert (f.numbers["best"], f.numbers["runner_up"]) == (1, 2) and f.verdict == F.BETTER
    assert D.search_choice([0.99, 0.90], 5000, fits=fits[:2]).verdict == F.NOT_COMPARABLE
    # with per-example scores the comparison is paired
    b = _correct()
    a = b.copy()
    a[np.flatnonzero(a == 0)[:200]] = 1.0
    paired = D.search_choice([a.mean(), b.mean()], 5000, per_example=[a, b])
    assert paired.verdict == F.BETTER and "bootstrap" in paired.criterion


def test_trick_effects_every_verdict():
    base = _correct(rate=0.9)
    helps = base.copy()
    helps[np.flatnonzero(base == 1)[:300]] = 0.0      # 6 points worse without the trick
    rows = {"recipe": {"val_accuracy": base.mean(), "final_train_loss": 1.0, "val_correct": base},
            "a": {"val_accuracy": helps.mean(), "final_train_loss": 1.0, "val_correct": helps},
            "b": {"val_accuracy": base.mean(), "final_train_loss": 1.0, "val_correct": base},
            "c": {"val_accuracy": 0.1, "final_train_loss": 2.3, "val_correct": base * 0},
            "d": {"val_accuracy": 0.95},                            # an older run: no loss, no per-image scores
            "e": {"val_accuracy": 0.15}}
    out = D.trick_effects(rows, "recipe", 5000)
    assert out["effect_a"].verdict == F.BETTER            # the recipe is better: the trick helps
    assert out["effect_b"].verdict == F.SAME
    assert out["fit_c"].verdict == F.FAILED and out["effect_c"].verdict == F.NOT_COMPARABLE
    assert out["fit_d"].verdict == F.FITS and out["effect_d"].verdict == F.WORSE   # independent-rates interval
    assert "independent" in out["effect_d"].criterion
    assert out["fit_e"].verdict == F.FAILED and out["effect_e"].verdict == F.NOT_COMPARABLE
    assert "effect_recipe" not in out
