"""Assignment C's findings (hwkit.assignments.c_coursework / c_convolutions): every branch, on constructed numbers."""
from __future__ import annotations

import numpy as np
import pytest

from hwkit import findings as F
from hwkit.assignments import c_coursework as C


def ones(n, k):
    """n examples, the first k right (1) and the rest wrong (0)."""
    return (np.arange(n) < k).astype(np.int8)


# ----------------------------------------------------------------------------- fit check
@pytest.mark.parametrize("accuracy, finite, verdict", [(0.9, True, F.FITS), (0.2, True, F.FITS),
                                                       (0.19, True, F.FAILED), (0.9, False, F.FAILED),
                                                       (float("nan"), True, F.FAILED)])
def test_fit_finding(accuracy, finite, verdict):
    f = C.fit_finding(accuracy, finite)
    assert f.verdict == verdict and "20%" in f.criterion


# ----------------------------------------------------------------------------- paired comparisons
def test_compare_on_examples_better_worse_same():
    assert C.compare_on_examples(ones(1000, 950), ones(1000, 900)).verdict == F.BETTER
    assert C.compare_on_examples(ones(1000, 900), ones(1000, 950)).verdict == F.WORSE
    same = C.compare_on_examples(ones(1000, 901), ones(1000, 900)[::-1])   # disagree on 101 examples
    assert same.verdict == F.SAME and same.interval.low < 0 < same.interval.high


def test_compare_on_examples_never_compares_a_failed_or_unrecorded_model():
    fits, failed = C.fit_finding(0.9), C.fit_finding(0.1)
    assert C.compare_on_examples(ones(1000, 950), ones(1000, 900), fits, failed).verdict == F.NOT_COMPARABLE
    assert C.compare_on_examples(ones(1000, 950), ones(1000, 900), fits, fits.as_dict()).verdict == F.BETTER
    assert C.compare_on_examples(None, ones(10, 5)).verdict == F.NOT_COMPARABLE
    assert C.compare_on_examples(ones(10, 5), ones(11, 5)).verdict == F.NOT_COMPARABLE


def test_gap_change_branches():
    n_train, n_test = 2000, 1000
    wide = (ones(n_train, 1900), ones(n_test, 800))          # gap 15 points
    narrow = (ones(n_train, 1700), ones(n_test, 800))        # gap 5 points
    f = C.gap_change(*narrow, *wide)
    assert f.verdict == C.NARROWER and f.numbers["difference"] == pytest.approx(-0.10)
    assert f.numbers["gap_a"] == pytest.approx(0.05) and f.numbers["gap_b"] == pytest.approx(0.15)
    assert C.gap_change(*wide, *narrow).verdict == C.WIDER
    same = C.gap_change(*wide, *wide)
    assert same.verdict == F.SAME and same.interval.low == same.interval.high == 0
    with pytest.raises(ValueError):
        C.gap_change(ones(10, 5), ones(10, 5), ones(11, 5), ones(10, 5))


def test_choice_finding_better_same_not_comparable():
    better = C.choice_finding({0.01: ones(1000, 800), 0.1: ones(1000, 900), 0.03: ones(1000, 850)})
    assert better.verdict == F.BETTER and better.numbers["chosen"] == 0.1 and better.numbers["runner_up"] == 0.03
    same = C.choice_finding({0.01: ones(1000, 900), 0.1: ones(1000, 902), 0.03: ones(1000, 800)})
    assert same.verdict == F.SAME and same.numbers["chosen"] == 0.1 and same.numbers["indistinguishable"] == [0.01]
    assert C.choice_finding({0.1: ones(10, 5)}).verdict == F.NOT_COMPARABLE


def test_similar_finding_is_a_non_inferiority_margin():
    def versus(low, high):
        return F.Finding(F.SAME, {"difference": (low + high) / 2}, F.Interval((low + high) / 2, low, high, 1000, "m"))
    assert C.similar_finding(versus(-0.004, 0.002), 0.005).verdict == C.SIMILAR
    assert C.similar_finding(versus(-0.02, -0.006), 0.005).verdict == C.NOT_SIMILAR
    assert C.similar_finding(versus(-0.01, 0.0), 0.005).verdict == F.SAME
    assert C.similar_finding(F.Finding(F.NOT_COMPARABLE), 0.005).verdict == F.NOT_COMPARABLE


# ----------------------------------------------------------------------------- per-example scores
def test_per_example_scores_round_trip_and_lookup():
    a = ones(7, 3)
    assert C.encode_correct(a) == "1110000" and (C.decode_correct("1110000") == a).all()
    with pytest.raises(ValueError):
        C.decode_correct("0120")
    rows = [{"model": 3, "setting": 1, "split": "test", "correct": "101"}]
    assert C.scores_from_table(rows, 3, 1).tolist() == [1, 0, 1]
    assert C.scores_from_table(rows, 3, 2) is None and C.scores_from_table(None, 3, 1) is None


def _result(samples, train, test, train_correct, test_correct, **kw):
    return C.SettingResult(model=3, setting=1, epochs=kw.get("epochs", 2), learning_rate=0.001, samples=samples,
                           train_accuracy=train, test_accuracy=test, seconds=1.0,
                           train_eval_correct=train_correct, test_correct=test_correct)


def test_early_stopped_cuts_the_curves_and_ends_at_the_scored_model():
    unstopped = _result([2000, 4000, 6000, 8000], [0.5, 0.6, 0.7, 0.8], [0.5, 0.55, 0.6, 0.6],
                        ones(10, 8), ones(10, 6), epochs=4)
    stop = C.StopPoint(patience=1, splits={})
    stop.stopped_epoch, stop.stopped = 1, True
    stop.scores = {"train_eval": ones(10, 7), "test": ones(10, 5)}
    es = C.early_stopped(unstopped, stop, fit_rows=3000)     # epoch = 30 updates = 3 000 samples
    assert es.samples == [2000, 3000] and es.train_accuracy == [0.5, 0.7] and es.test_accuracy == [0.5, 0.5]
    assert es.epochs == 1 and es.test_correct.tolist() == ones(10, 5).tolist()
    assert C.ending_at_its_model(unstopped, 8000) is unstopped       # already ends there


def test_stop_point_follows_keras_early_stopping_and_records_instead_of_stopping():
    stop = C.StopPoint(patience=2, splits={})
    stop.set_params({"epochs": 6})
    for epoch, val in enumerate([0.5, 0.6, 0.6, 0.59, 0.7]):
        stop.on_epoch_end(epoch, {"val_accuracy": val})
    assert stop.stopped and stop.stopped_epoch == 4 and stop.best == 0.6     # no better value in epochs 3 and 4
    never = C.StopPoint(patience=3, splits={})
    never.set_params({"epochs": 3})
    for epoch, val in enumerate([0.5, 0.6, 0.7]):
        never.on_epoch_end(epoch, {"val_accuracy": val})
    never.on_train_end()
    assert not never.stopped and never.stopped_epoch == 3


def test_fix_findings_compare_each_fix_with_the_run_it_fixes():
    before_train, before_test = ones(100, 95), ones(200, 150)
    table = [{"model": 3, "setting": 1, "split": "train_eval", "correct": C.encode_correct(before_train)},
             {"model": 3, "setting": 1, "split": "test", "correct": C.encode_correct(before_test)}]
    fixed = _result([1], [0.9], [0.9], ones(100, 92), ones(200, 190))
    unstopped = _result([1], [0.9], [0.7], ones(100, 90), ones(200, 140))
    stopped = _result([1], [0.8], [0.7], ones(100, 80), ones(200, 140))
    f = C.fix_findings(table, 3, 1, C.fit_finding(0.95), fixed, unstopped, stopped)
    assert f["l2_test"].verdict == F.BETTER and f["l2_gap"].verdict == C.NARROWER
    assert f["early_stopping_test"].verdict == F.SAME and f["early_stopping_gap"].verdict == C.NARROWER
    assert {f[k].verdict for k in ("fit_l2", "fit_unstopped", "fit_early_stopping")} == {F.FITS}
    missing = C.fix_findings(None, 3, 1, C.fit_finding(0.95), fixed, unstopped, stopped)
    assert missing["l2_test"].verdict == missing["l2_gap"].verdict == F.NOT_COMPARABLE
    failed = _result([1], [0.1], [0.1], ones(100, 10), ones(200, 20))
    assert C.fix_findings(table, 3, 1, C.fit_finding(0.95), failed, unstopped, stopped)["l2_test"].verdict == \
        F.NOT_COMPARABLE


# ----------------------------------------------------------------------------- C8 timing
def test_speedup_finding_branches():
    from hwkit.assignments.c_convolutions import FASTER, SLOWER, speedup_finding
    f = speedup_finding([2.0, 2.5, 3.0], 7.9)
    assert f.verdict == FASTER and f.numbers["below_arithmetic"] and f.numbers["speedup"] == 2.5
    assert not speedup_finding([8.0, 9.0, 10.0], 7.9).numbers["below_arithmetic"]
    assert speedup_finding([0.5, 0.6, 0.9], 7.9).verdict == SLOWER
    assert speedup_finding([0.9, 1.2, 1.5], 7.9).verdict == F.SAME
    assert speedup_finding([2.0, 3.0], 7.9).verdict == F.NOT_COMPARABLE
    assert "repeats" in f.interval.method


def test_implementation_findings_per_setting_and_overall():
    summary = [{"model": 1, "setting": s, "final_train_accuracy": 0.9} for s in (1, 2)]
    keras_rows = [{"model": 1, "setting": s, "split": "test", "correct": C.encode_correct(ones(1000, 900))}
                  for s in (1, 2)]
    fits = {(1, 1): C.fit_finding(0.9), (1, 2): C.fit_finding(0.9)}
    same = {(1, 1): ones(1000, 901)[::-1], (1, 2): ones(1000, 900)[::-1]}
    per, overall = C.implementation_findings(same, keras_rows, fits, summary)
    assert overall.verdict == F.SAME and overall.numbers["no_measurable_difference"] == 2
    mixed = {(1, 1): ones(1000, 990), (1, 2): ones(1000, 900)[::-1]}
    per, overall = C.implementation_findings(mixed, keras_rows, fits, summary)
    assert per[1, 1].verdict == F.BETTER and overall.verdict == C.MIXED and overall.numbers["better"] == 1
    failed = {(1, 1): C.fit_finding(0.1), (1, 2): C.fit_finding(0.1)}
    assert C.implementation_findings(mixed, keras_rows, failed, summary)[1].verdict == F.NOT_COMPARABLE
    one_missing = C.implementation_findings(mixed, keras_rows, fits, summary[:1])[0]
    assert one_missing[1, 2].verdict == F.NOT_COMPARABLE          # no such setting in the C1 run


def test_gap_finding_branches():
    assert C.gap_finding(ones(1000, 990), ones(1000, 900)).verdict == C.TRAIN_ABOVE_TEST
    assert C.gap_finding(ones(1000, 900), ones(1000, 990)).verdict == C.TEST_ABOVE_TRAIN
    f = C.gap_finding(ones(1000, 900), ones(1000, 902))
    assert f.verdict == F.SAME and f.numbers["gap"] == pytest.approx(-0.002)
    with pytest.raises(ValueError):
        C.gap_finding([], ones(10, 5))


def test_diagnose_calls_a_gap_over_fitting_only_when_its_interval_excludes_0():
    def curves(gaps):
        return [{"model": 3, "setting": 1, "samples": i, "train_accuracy": 0.8 + g, "test_accuracy": 0.8}
                for i, g in enumerate(gaps)]
    summary = [{"model": 3, "setting": 1, "epochs": 5, "learning_rate": 0.001, "final_train_accuracy": 0.83,
                "final_test_accuracy": 0.8}]
    c = curves([0.0, 0.0, 0.0, 0.01, 0.02, 0.03])
    assert C.diagnose(summary, c)[0]["verdict"] == "over-fitting"           # no per-example scores: the rule alone
    small = [{"model": 3, "setting": 1, "split": "train_eval", "correct": C.encode_correct(ones(100, 83))},
             {"model": 3, "setting": 1, "split": "test", "correct": C.encode_correct(ones(100, 80))}]
    row = C.diagnose(summary, c, small)[0]
    assert row["verdict"] != "over-fitting" and row["gap_low"] < 0 < row["gap_high"]   # 3 points on 100 images
    large = [{**small[0], "correct": C.encode_correct(ones(10_000, 8300))},
             {**small[1], "correct": C.encode_correct(ones(10_000, 8000))}]
    assert C.diagnose(summary, c, large)[0]["verdict"] == "over-fitting"


def test_below_best_finding_branches():
    assert C.below_best_finding(ones(1000, 950), ones(1000, 900)).verdict == F.WORSE
    assert C.below_best_finding(ones(1000, 900), ones(1000, 950)).verdict == F.BETTER
    same = C.below_best_finding(ones(1000, 901), ones(1000, 900)[::-1])
    assert same.verdict == F.SAME and same.interval.low < 0 < same.interval.high
    with pytest.raises(ValueError):
        C.below_best_finding([], [])


def test_diagnose_calls_under_fitting_only_when_the_shortfall_is_measurable():
    summary = [{"model": 1, "setting": 1, "epochs": 5, "learning_rate": 0.001, "final_train_accuracy": 0.9,
                "final_test_accuracy": 0.9},
               {"model": 2, "setting": 1, "epochs": 5, "learning_rate": 0.001, "final_train_accuracy": 0.87,
                "final_test_accuracy": 0.87}]
    curves = [{"model": r["model"], "setting": 1, "samples": i, "train_accuracy": r["final_train_accuracy"],
               "test_accuracy": r["final_test_accuracy"]} for r in summary for i in range(3)]
    assert C.diagnose(summary, curves)[1]["verdict"] == "under-fitting"     # the 2-point rule alone

    def table(n, right):   # model 2 right on the last images, model 1 on the first: they disagree often
        return [{"model": m, "setting": 1, "split": split,
                 "correct": C.encode_correct(ones(n, k)[::(1 if m == 1 else -1)])}
                for m, k in ((1, right[0]), (2, right[1])) for split in ("train_eval", "test")]
    few = C.diagnose(summary, curves, table(100, (90, 87)))[1]         # 3 points on 100 images: not measurable
    assert few["verdict"] != "under-fitting" and few["below_best_low"] < 0
    many = C.diagnose(summary, curves, table(10_000, (9000, 8700)))[1]
    assert many["verdict"] == "under-fitting" and many["below_best_low"] > 0
