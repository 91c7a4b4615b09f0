"""Counterfactual renders of B's report: flip one finding's verdict in a copy of the fixture runs and the
sentence that states it must change accordingly (and the other verdicts' wording must not appear).

Renders HTML only (``hwkit.report.render_html``): fast, no PDF."""
import html
import json
import re
import shutil
from pathlib import Path

import pytest

from hwkit import cli, report
from hwkit import findings as F
from hwkit.assignments import b_functions as bf
from hwkit.assignments import b_mnist_cnn as mc
from hwkit.assignments import b_reduction as br
from hwkit.assignments import b_wgan_cost as bc

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "runs"
TASKS = ("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8")

# Every number any branch may print, so that a flipped verdict has what its sentence needs.
NUMBERS = {"a": 0.1, "b": 0.2, "a_low": 0.05, "a_high": 0.15, "b_low": 0.15, "b_high": 0.25, "seeds_a": 3, "seeds_b": 3,
           "difference": -1.0, "difference_low": -2.0, "difference_high": -0.5, "examples": 200,
           "narrow_over_wide": 2.0, "over_floor": 2.0, "median": 0.1, "low": 0.05, "high": 0.2, "seeds": 3,
           "seeds_below": 1, "target": 0.05, "strength": 1e-5, "val_rel_l2_error": 0.3, "weakest": 1e-6,
           "strongest": 1e-4, "candidates": 3, "latent_dim": 16, "autoencoder_over_pca": 0.5, "dims": [2, 16],
           "errors": [2.0, 1.0], "dims_not_falling": [16], "test_higher_at": [16], "test_lower_at": [2],
           "largest_relative_gap": 0.1, "median_steps": 5600, "total_steps": 6000, "decay_to": 0.01,
           "crossings": [5600], "rate_fraction": 0.1, "budget_fraction": 0.93, "collapsed": 2,
           "seeds_with_dead_units": 3, "collapsed_with_dead_layer": 1, "final_training_loss": 1.0, "threshold": 2.0,
           "depth": 8, "shallow": 8, "deep": 16, "long_budget": 6000, "short_budget": 3000, "long_median": 5600,
           "long_low": 5400, "long_high": 5700, "long_reached": 3, "long_seeds": 3, "short_median": 2500,
           "short_low": 2200, "short_high": 2800, "short_reached": 1, "short_seeds": 3, "budget": 3000,
           "reached_a": 3, "reached_b": 3, "failed_a": 1, "failed_b": 2}


def _runs_copy(tmp_path):
    for task in TASKS:
        shutil.copytree(FIXTURES / task, tmp_path / task)
    return tmp_path


def _section(task: str, text: str) -> str:
    number = int(task[1:])
    start = text.index(f"Task {number} —")
    end = text.find(f"Task {number + 1} —", start)
    return text[start: end if end > 0 else None]


def _render(runs_dir, monkeypatch) -> str:
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(runs_dir))
    out = report.render_html("B", cli.assignments()["B"], cli.discover_tasks("B"), True,
                             facts=cli.report_facts("B"), benchmarks=cli.report_benchmarks())
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", out).split()))


def _flip(runs_dir, task: str, name: str, verdict: str) -> None:
    (metrics_path,) = (runs_dir / task).glob("*/metrics.json")
    metrics = json.loads(metrics_path.read_text())
    finding = metrics["findings"][name]
    finding["verdict"] = verdict
    finding["numbers"] = {**finding["numbers"], **NUMBERS}   # known numbers, so the expected words are known
    metrics_path.write_text(json.dumps(metrics))


# (task, finding, {verdict: the words that state it}[, (first, last): the part of the section that states it])
SET_FIRST = {("b1", "target"): ("fit", F.FITS)}   # the verdict shows only when this other finding allows it
CASES = [
    ("b1", "fit", {F.FITS: "95% bootstrap", F.FAILED: "the final training FAILED its fit check"}),
    ("b1", "target", {mc.REACHED: "reached — the 95% bootstrap interval", mc.NOT_MEASURABLY: "not measurably reached",
                      mc.MISSED: "NOT reached (95% bootstrap"}),
    ("b2", "widths", {F.WORSE: "the narrow network is the worse approximator",
                      F.BETTER: "the narrow network is the better",
                      F.SAME: "the seed ranges overlap: no measurable difference", F.NOT_COMPARABLE: "not compared ("}),
    ("b2", "cause", {bf.DEAD_LAYER: "the measured mechanism of", bf.COLLAPSE_UNEXPLAINED: "dead units do not explain",
                     bf.DEAD_UNITS_ONLY: "A likely reason for the larger error, not tested here",
                     bf.NO_DEAD_UNITS: "dying ReLU does not explain the error here"}),
    ("b3", "grid_L1", {bf.INSIDE: "inside the grid", bf.WEAK_EDGE: "a still weaker one might do",
                       bf.STRONG_EDGE: "at the strongest strength tried"}, ("L1: best strength", "L2: best strength")),
    ("b3", "target_L1", {bf.REACHED: "below the 5% target on every seed",
                         bf.MISSED: "MISSED the 5% target on every seed",
                         bf.MIXED: "(a partial miss)"}, ("(a) L1", "(b) L2")),
    ("b3", "vs_none_L1", {F.BETTER: "the regularised network is better", F.WORSE: "the regularised network is worse",
                          F.SAME: "(5.00%–15.00%) against 20.00% (15.00%–25.00%): no measurable difference",
                          F.NOT_COMPARABLE: "(5.00%–15.00%) against 20.00% (15.00%–25.00%): not compared"}),
    ("b3", "kinks", {F.BETTER: "spreading the kinks lowered the test error", F.WORSE: "spreading the kinks raised",
                     F.SAME: "no measurable difference at this training length",
                     F.NOT_COMPARABLE: "with the kinks at 0: not compared"}),
    ("b5", "vs_pca_16", {F.BETTER: "the autoencoder is better", F.WORSE: "PCA is better",
                         F.SAME: "-0.5): no measurable difference",
                         F.NOT_COMPARABLE: "l_d = 16: not compared — the autoencoder failed to fit"}),
    ("b5", "largest_gain", {F.BETTER: "The autoencoder's largest advantage is at l_d = 16",
                            F.NOT_COMPARABLE: "measurably better than PCA at no latent dimension"}),
    ("b5", "pca_falls", {br.FALLS: "PCA's test ε falls measurably at every step",
                         br.NOT_MONOTONE: "PCA's test ε does not fall measurably at l_d = 16",
                         F.NOT_COMPARABLE: "PCA's test ε is not compared across l_d"}),
    ("b5", "autoencoder_falls", {br.FALLS: "the autoencoder's falls measurably at every step",
                                 br.NOT_MONOTONE: "the autoencoder's does not fall measurably",
                                 F.NOT_COMPARABLE: "the autoencoder's is not compared across l_d"}),
    ("b5", "gap_pca", {F.SAME: "For PCA, the training ε lies inside",
                       F.WORSE: "For PCA, the test ε is measurably higher",
                       F.BETTER: "For PCA, the test ε is measurably lower",
                       F.NOT_COMPARABLE: "For PCA, training and test ε are not compared"}),
    ("b5", "longer_vs_shorter", {F.BETTER: "longer training lowered the error", F.WORSE: "longer training raised",
                                 F.SAME: "-0.5): no measurable difference;",
                                 F.NOT_COMPARABLE: "not compared, as a training failed its fit check"}),
    ("b5", "longer_fit", {F.FITS: "autoencoder passes the fit check",
                          F.FAILED: "autoencoder still fails the fit check"}),
    ("b5", "budget", {br.CLOSED: "was a training-budget effect", br.NARROWED: "partly a training-budget effect",
                      br.UNCHANGED: "not a training-budget effect", F.NOT_COMPARABLE: "Outcome: no budget verdict",
                      br.FIXED: "was a training budget —", br.STILL_FAILED: "and still fails it after"}),
    ("b8", "schedule_5", {bc.SCHEDULE_BOUND: "d = 5: the median seed crossed at step 5600 of 6000 (93% of the budget), "
                                             "where the rate was 10% of its peak — set by the schedule",
                          bc.BEFORE_ANNEALING: "with the rate still at 10% of its peak — before the annealing",
                          F.NOT_COMPARABLE: "d = 5: the median seed did not reach the target"}),
    ("b8", "steps", {F.BETTER: "d = 20 needed fewer generator steps", F.WORSE: "d = 20 needed more generator steps",
                     F.SAME: "no measurable difference between d = 20 and d = 5",
                     F.NOT_COMPARABLE: "are not compared as a cost of the problem"}),
    ("b4", "families_8", {F.BETTER: "He better", F.WORSE: "Xavier better",
                          F.SAME: "(15.00%–25.00%), no measurable difference",
                          F.NOT_COMPARABLE: "not compared (fewer"}),
    ("b8", "budget_5", {bc.MOVES: "the crossing moves with the budget, so it measures the schedule",
                        bc.STAYS: "the crossing does not move with the budget",
                        bc.SHORT_MISSED: "not every seed reaches the target within the shorter budget",
                        F.NOT_COMPARABLE: "the budget test was not made"}, ("d = 5:", "d = 20:")),
    ("b8", "steps_same_schedule", {F.BETTER: "d = 20 was faster to the target",
                                   F.WORSE: "d = 20 was slower to the target",
                                   F.SAME: "no measurable difference in speed",
                                   F.NOT_COMPARABLE: "for both dimensions: not compared"}),
    ("b8", "floor_5", {F.WORSE: "measurably above the floor", F.SAME: "no measurable difference from a true sample",
                       F.BETTER: "measurably below the floor", F.NOT_COMPARABLE: "2× the floor: not compared"}),
]


def _check_flips(case, tmp_path, monkeypatch, region, where: str) -> None:
    """Flip the case's finding to each verdict in turn: ``region`` of the rendered text says that verdict's words
    and no other verdict's."""
    task, name, wording, *scope = case
    runs_dir = _runs_copy(tmp_path)
    if (task, name) in SET_FIRST:
        _flip(runs_dir, task, *SET_FIRST[task, name])
    for verdict, words in wording.items():
        _flip(runs_dir, task, name, verdict)
        text = region(task, _render(runs_dir, monkeypatch))
        if scope:
            first, last = scope[0]
            text = text[text.index(first): text.index(last)]
        assert words in text, f"{task} {name}={verdict!r}: {words!r} not in {where}"
        for other, other_words in wording.items():
            if other != verdict:
                assert other_words not in text, f"{task} {name}={verdict!r}: {where} also says {other_words!r}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_flipping_a_finding_changes_its_sentence(case, tmp_path, monkeypatch):
    _check_flips(case, tmp_path, monkeypatch, _section, "the section")


def _sheet(text: str) -> str:
    """The answer sheet: from its heading to the first section."""
    return text[text.index("Answers"): text.index("Task 1 —")]


# The answer sheet reads the same findings as the sections: flipping one changes the sheet's answer too.
SHEET_CASES = [
    ("b1", "target", {mc.REACHED: "reached — the 95% bootstrap interval", mc.MISSED: "NOT reached (95% bootstrap"}),
    ("b2", "widths", {F.WORSE: "the narrow network is the worse approximator", F.SAME: "no measurable difference",
                      F.NOT_COMPARABLE: "units: not compared ("}),
    ("b3", "target_L1", {bf.REACHED: "below the 5% target on every seed", bf.MISSED: "MISSED the 5% target"},
     ("3(a)", "3(b)")),
    ("b5", "vs_pca_16", {F.BETTER: "autoencoder better", F.WORSE: "PCA better",
                         F.NOT_COMPARABLE: "l_d = 16: not compared (autoencoder failed to fit)"}),
    ("b8", "steps", {F.WORSE: "d = 20 needed more generator steps",
                     F.NOT_COMPARABLE: "not compared as a cost of the problem"}),
    ("b8", "steps_same_schedule", {F.BETTER: "d = 20 was faster to the target", F.WORSE: "d = 20 was slower"}),
    ("b4", "families_8", {F.BETTER: "He better", F.WORSE: "Xavier better", F.NOT_COMPARABLE: "not compared (fewer"},
     ("Xavier normal/uniform and He", "(§4,")),
]


@pytest.mark.parametrize("case", SHEET_CASES, ids=[f"{c[0]}-{c[1]}" for c in SHEET_CASES])
def test_the_answer_sheet_follows_the_findings(case, tmp_path, monkeypatch):
    _check_flips(case, tmp_path, monkeypatch, lambda task, text: _sheet(text), "the answer sheet")


def test_the_answer_sheet_labels_quick_runs_and_says_not_run(tmp_path, monkeypatch):
    runs_dir = _runs_copy(tmp_path)
    shutil.rmtree(runs_dir / "b2")   # no run of b2 at all
    sheet = _sheet(_render(runs_dir, monkeypatch))
    for label in ("1(a)", "1(e)", "2", "3(a)", "3(c)", "5(c)", "6", "7", "8"):
        assert f" {label} " in f" {sheet} ", f"question {label} missing from the sheet"
    assert " 2 not run ( python -m tasks.b2 )" in sheet
    assert sheet.count("SMOKE") >= 10, "every answer from a quick run is labelled"
    order = [sheet.index(f" {label} SMOKE ") for label in ("1(a)", "1(e)", "3(a)", "3(c)", "5(c)", "6", "7", "8")]
    assert order == sorted(order), "the questions in the text's order"
