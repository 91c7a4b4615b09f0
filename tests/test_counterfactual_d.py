"""Assignment D's report says what its findings say: flip one finding's verdict in a copy of the fixture runs,
render D's HTML again, and the sentence that states it must change accordingly (one finding at a time).

A wording that ignored the verdict — fixed text printed on every branch — fails here.
"""
import html
import json
import re
import shutil
from pathlib import Path

import pytest

from hwkit import cli, report
from hwkit.task import discover_tasks

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "runs"
RUNS = ["d1", "d2", "d3", "d4", "d5", "d6", "cifar10_tricks"]
COMPARISON = {"difference": 0.012, "difference_low": 0.004, "difference_high": 0.02}

# (run, finding, new verdict, extra numbers the new verdict's sentence prints, other metrics, words it must say
# — or, after "!", words it must stop saying)
CASES = [
    ("d1", "b_vs_a", "worse", {}, {}, "The smaller step ends closer to the minimum"),
    ("d1", "b_overshoot", "overshoots", {}, {}, "the larger step overshoots the minimum"),
    ("d1", "b_steps", "do not shrink", {}, {}, "and steps do not shrink at every step"),
    ("d1", "c_eta1", "better", {}, {}, "(GELU −0.02003 vs −0.01997): momentum is ahead"),
    ("d1", "c_eta0.1", "better", {}, {}, "0.00739 vs 0.00737, momentum is ahead"),
    ("d1", "c_eta1_lag", "does not lag", {}, {}, "a lagging average does not explain the comparison"),
    ("d1", "long_eta1", "better", {}, {}, "momentum is lower"),
    ("d1", "long_eta1_mom_overshoot", "does not overshoot", {}, {}, "momentum does not overshoot the minimum"),
    ("d1", "long_eta1_gd_overshoot", "overshoots", {}, {}, "(GD overshoots)"),
    ("d1", "old_reading", "different", {}, {}, "changes which method is ahead"),
    ("d2", "separability", "contradicts", {}, {}, "does NOT agree with this for every gate"),
    ("d2", "all_correct", "wrong", {}, {}, "16 rows checked: SOME WRONG"),
    ("d2", "not_literal", "correct", {}, {}, "Read literally (z = −A − 0.5), on both rows it is correct"),
    ("d2", "not_threshold", "wrong", {}, {}, "(z = −A + 0.5) it is wrong on both rows"),
    ("d3", "gradients", "disagrees", {}, {}, "the formulas do NOT agree with finite differences"),
    ("d3", "sum_y", "not shown", {}, {}, "this check does not show that the condition Σy = 1 matters"),
    ("d4", "b_stride", "possible", {}, {"b_strides": [1], "b_feature_map": [[1.0]]}, "stride s = 1 gives 6×6"),
    ("d5", "required", "reached", {}, {}, "Required < 5%: met"),
    ("d5", "aim", "borderline not reached", {}, {}, "aim < 2%: NOT met, borderline"),
    ("d5", "fit", "failed to fit", {}, {}, "Fit check: FAILED"),
    ("d5", "reload", "different", {}, {}, "(DIFFERENT)"),
    ("d5", "search_choice", "no measurable difference", {}, {}, "no measurable difference; the search does not tell"),
    ("d5", "init_fit", "only A failed", {"a_loss": 2.4, "b_loss": 0.3, "threshold": 2.07}, {},
     "the weights' scale is what made the training fail"),
    ("d5", "init_fit", "both fit", {}, {"finding:init": {"verdict": "better", "numbers": COMPARISON}},
     "both fitted; He against N(0, 1) in validation accuracy: +1.20 points"),
    ("d6", "fit", "fits", {}, {}, "passed, final training loss"),
    ("d6", "goal", "reached", {}, {}, "Goals, plain model: ≥ 85% reached,"),
    ("d6", "aim", "borderline reached", {}, {}, "≥ 90% reached, borderline"),
    ("d6", "goal_tta", "borderline not reached", {}, {}, "≥ 85% NOT reached, borderline"),
    ("d6", "flip_tta", "better", COMPARISON, {}, "Flip TTA is better"),
    ("d6", "tta", "worse", COMPARISON, {}, "6-view TTA is worse"),
    ("d6", "tta", "no measurable difference", COMPARISON, {}, "— no measurable difference (one trained model"),
    ("d6", "search_choice", "better", COMPARISON, {}, "is measurable (one epoch, one seed per trial)"),
    ("d6", "search_choice", "no measurable difference", COMPARISON, {},
     "the search does not tell these settings apart"),
    ("cifar10_tricks", "effect_no_whitening", "worse", COMPARISON, {}, "+1.20 (+0.40 to +2.00) hurts"),
    ("cifar10_tricks", "effect_no_identity_init", "better", COMPARISON, {}, "+1.20 (+0.40 to +2.00) helps"),
    ("cifar10_tricks", "fit_no_label_smoothing", "fits", {}, {}, "!label smoothing 0 instead of 0.2 — FAILED to fit"),
]


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _render() -> str:
    return _text(report.render_html("D", "D", discover_tasks("D"), include_quick=True, facts=cli.report_facts("D"),
                                    benchmarks=cli.report_benchmarks()))


@pytest.fixture
def runs_copy(tmp_path, monkeypatch):
    for name in RUNS:
        shutil.copytree(FIXTURES / name, tmp_path / name)
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baseline")
    for name in RUNS:
        shutil.copytree(FIXTURES / name, tmp / name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWKIT_RUNS_DIR", str(tmp))
        return _render()


def test_every_finding_the_d_runs_store_is_flipped_here():
    flipped = {(run, name) for run, name, *_ in CASES}
    stored = set()
    for run in RUNS:
        (metrics,) = (FIXTURES / run).glob("*/metrics.json")
        stored |= {(run, name) for name in json.loads(metrics.read_text()).get("findings", {})}
    # the findings no sentence reads by itself: numbers printed beside a verdict, and the per-step-size/per-row
    # twins of a flipped one (the same macro renders them)
    printed_only = {("d5", "test_error"), ("d5", "init"), ("d6", "accuracy"), ("d6", "accuracy_tta"),
                    ("d6", "aim_tta"), ("d1", "c_eta0.1_lag"), ("d1", "long_eta0.1"),
                    ("d1", "long_eta0.1_gd_overshoot"), ("d1", "long_eta0.1_mom_overshoot")}
    tricks_rows = {(r, n) for r, n in stored if r == "cifar10_tricks"}
    assert stored - flipped - printed_only - tricks_rows == set()


@pytest.mark.parametrize("run,name,verdict,numbers,metrics,words", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_flipping_a_finding_changes_its_sentence(runs_copy, baseline, run, name, verdict, numbers, metrics, words):
    (path,) = (runs_copy / run).glob("*/metrics.json")
    data = json.loads(path.read_text())
    finding = data["findings"][name]
    assert finding["verdict"] != verdict, "the fixture already says this: the case tests nothing"
    gone = words.startswith("!")
    words = words.removeprefix("!")
    assert (words in baseline) == gone
    finding["verdict"] = verdict
    finding["numbers"] = {**finding["numbers"], **numbers}
    for key, value in metrics.items():   # "finding:<name>": a second finding the same sentence reads
        if key.startswith("finding:"):
            data["findings"][key.removeprefix("finding:")].update(value)
        else:
            data[key] = value
    for f in [finding] + [data["findings"][k.removeprefix("finding:")] for k in metrics if k.startswith("finding:")]:
        if COMPARISON.items() <= f["numbers"].items() and not f.get("interval"):
            f["interval"] = {"center": 0.012, "low": 0.004, "high": 0.02, "n": 500, "method": "95% bootstrap"}
    path.write_text(json.dumps(data))
    assert (words in _render()) != gone


def test_answer_sheet_answers_every_question_in_order_labels_smoke_and_says_not_run(runs_copy):
    """D's answer sheet opens the report: each question of the text in its numbering and order, a quick run's answer
    labelled SMOKE, a task without a run "not run", and the same sentence again at the top of its section."""
    shutil.rmtree(runs_copy / "d3")
    text = _render()
    sheet = text[text.index("Answers"):text.index("D1 — Gradient descent")]
    labels = ["1(a)", "1(b)", "1(c)", "2", "3(a)", "3(b)", "4(a)", "4(b)", "4(c)", "4(d)",
              "Programming exercises", "1(a)–(d)", "1(e)", "2"]
    at = 0
    for label in labels:
        at = sheet.index(label, at) + len(label)
    assert "3(a) not run ( python -m tasks.d3 )" in sheet and "3(b) not run" in sheet
    assert "4(a) SMOKE" in sheet and "1(e) SMOKE" in sheet   # (a stale fixture run adds "older code: rerun" after it)
    assert "Final test error: 10% (95% bootstrap over 1000 examples: 8.2 to 11.8%)" in sheet
    # the same macro in the section: D2's answer sentence appears in the sheet and in §D2
    d2 = "as no single neuron separates them. 16 rows checked: all correct."
    assert sheet.count(d2) == 1 and text.count(d2) == 2
    assert "No complete run of" not in text and "What each trick buys" in text   # the fixture has a tricks run
