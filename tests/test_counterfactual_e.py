"""Assignment E's PDF words every result by a finding's verdict: flip one verdict in a copy of the fixture runs,
render the HTML again, and the sentence that states it must change accordingly (and only by the verdict).

Rendering is HTML only (``hwkit.report.render_html``, what ``cli.render_report`` lays out), a second per render.
"""
from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from hwkit import cli, findings, report

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "runs"
TASKS = [f"e{i}" for i in range(1, 9)]

# An interval to give a comparison that the fixture (a quick run whose models failed to fit) left uncompared.
INTERVAL = {"center": -0.0123, "low": -0.0145, "high": -0.0101, "n": 500, "method": "95% bootstrap over 500 examples"}


@pytest.fixture
def runs_copy(tmp_path, monkeypatch):
    for task in TASKS:
        shutil.copytree(FIXTURES / task, tmp_path / "runs" / task)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def flip(runs: Path, task: str, name: str, verdict: str) -> None:
    """Set finding ``name`` of ``task``'s (only) fixture run to ``verdict``, with an interval when it compares."""
    (path,) = (runs / task).glob("*/metrics.json")
    metrics = json.loads(path.read_text())
    finding = metrics["findings"][name]
    finding["verdict"] = verdict
    if verdict in (findings.BETTER, findings.WORSE, findings.SAME) and finding["interval"] is None:
        finding["interval"] = dict(INTERVAL)
        finding["numbers"] = {**finding["numbers"], "examples": INTERVAL["n"]}
    path.write_text(json.dumps(metrics))


def text() -> str:
    page = report.render_html("E", cli.assignments()["E"], cli.discover_tasks("E"), include_quick=True,
                              facts=cli.report_facts("E"), benchmarks=cli.report_benchmarks())
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_fixture_runs_failed_their_fit_checks_and_are_not_compared(runs_copy):
    """The quick fixtures stay on the plateau / near chance: the PDF must say so and compare nothing."""
    t = text()
    assert "The variant with FC failed to fit" in t and "The variant no FC failed to fit" in t
    assert "So the two variants are not compared" in t
    assert "E5 and E4 are not compared" in t and "Over-fitting not assessed" in t
    assert "reconstructs better" not in t and "separates the digits more" not in t


# (task, finding, verdict, a sentence that verdict must print, a sentence it must not)
CASES = [
    ("e1", "fit_no_FC", findings.FITS, "The variant with FC failed to fit", "The variant no FC failed to fit"),
    ("e1", "fc_vs_no_fc", findings.BETTER, "The FC layer reconstructs better", "So the two variants are not compared"),
    ("e1", "fc_vs_no_fc", findings.WORSE, "The variant without the FC layer reconstructs better",
     "The FC layer reconstructs"),
    ("e1", "fc_vs_no_fc", findings.SAME, "No measurable difference between the two variants", "reconstructs better"),
    ("e3", "reconstruction", findings.BETTER, "The autoencoder's code reconstructs better",
     "The classifier's code reconstructs"),
    ("e3", "reconstruction", findings.WORSE, "The classifier's code reconstructs better",
     "The autoencoder's code reconstructs"),
    ("e3", "reconstruction", findings.SAME, "No measurable difference in reconstruction", "code reconstructs better"),
    ("e3", "prototypical", findings.BETTER, "The classifier decoding draws more prototype-like digits",
     "vary more within"),
    ("e3", "prototypical", findings.WORSE, "The classifier-decoded digits vary more within a class",
     "prototype-like digits"),
    ("e3", "prototypical", findings.SAME, "No measurable difference in how much the decoded digits vary",
     "prototype-like"),
    ("e3", "in_class_variability", findings.BETTER, "Higher in the autoencoder's codes", "Higher in the classifier's"),
    ("e3", "in_class_variability", findings.WORSE, "Higher in the classifier's codes", "Higher in the autoencoder's"),
    ("e3", "in_class_variability", findings.SAME, "No measurable difference between the two codes", "Higher in the"),
    ("e3", "separation", findings.BETTER, "The classifier separates the digits more", "The autoencoder separates"),
    ("e3", "separation", findings.WORSE, "The autoencoder separates the digits more", "The classifier separates"),
    ("e3", "separation", findings.SAME, "No measurable difference in separation", "separates the digits more"),
    ("e3", "fit_e3", findings.FITS, "the E3 decoder fits", "the E3 decoder FAILED TO FIT"),
    ("e2", "fit", findings.FITS, "(loss 2.071); fit check: fits", "(loss 2.071); fit check: FAILED TO FIT"),
    ("e2", "target", "reached", "the aim of ≥ 99% was reached", "the aim of ≥ 99% was NOT reached"),
    ("e4", "overfitting", "over-fits", "Over-fitting observed", "Over-fitting not established"),
    ("e4", "overfitting", "over-fitting not established", "Over-fitting not established", "Over-fitting observed"),
    ("e5", "accuracy_vs_e4", findings.BETTER, "gives a higher test accuracy", "gives a lower test accuracy"),
    ("e5", "accuracy_vs_e4", findings.WORSE, "gives a lower test accuracy", "gives a higher test accuracy"),
    ("e5", "accuracy_vs_e4", findings.SAME, "No measurable difference in test accuracy", "test accuracy with the same"),
    # the answer sheet's short answers (the same macros open each section)
    ("e1", "fc_vs_no_fc", findings.BETTER, "the FC variant has the lower L1", "the variant without FC has the lower"),
    ("e1", "fc_vs_no_fc", findings.WORSE, "the variant without FC has the lower L1", "the FC variant has the lower"),
    ("e3", "reconstruction", findings.WORSE, "the classifier's code gives the lower L1",
     "the autoencoder's code gives the lower"),
    ("e3", "prototypical", findings.BETTER, "the classifier decoding's digits are the more uniform",
     "the autoencoder's decoded digits are the more"),
    ("e3", "in_class_variability", findings.WORSE, "the classifier's codes vary more within a digit",
     "the autoencoder's codes vary more"),
    ("e3", "separation", findings.WORSE, "the autoencoder's codes are the more separated",
     "the classifier's codes are the more"),
    ("e4", "overfitting", "over-fits", "over-fitting observed (gap", "over-fitting not established (gap"),
    ("e5", "accuracy_vs_e4", findings.WORSE, "lower with the pre-trained start;", "higher with the pre-trained start;"),
]


@pytest.mark.parametrize("task, name, verdict, present, absent", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_flipping_one_verdict_changes_its_sentence(runs_copy, task, name, verdict, present, absent):
    if name == "accuracy_vs_e4":     # E5's two comparisons are made together (one gate): make the other one too
        flip(runs_copy, "e5", "loss_vs_e4", findings.SAME)
    before = text()
    assert present not in before or absent in before     # the fixture states something else there
    flip(runs_copy, task, name, verdict)
    after = text()
    assert present in after
    assert absent not in after


@pytest.mark.parametrize("verdict, present", [(findings.BETTER, "The fine-tuned classifier's test loss is lower"),
                                              (findings.WORSE, "The fine-tuned classifier's test loss is higher"),
                                              (findings.SAME, "No measurable difference in test loss")])
def test_e5_loss_sentence_follows_its_own_verdict(runs_copy, verdict, present):
    flip(runs_copy, "e5", "accuracy_vs_e4", findings.SAME)     # the comparison is made (all fitted) ...
    flip(runs_copy, "e5", "loss_vs_e4", verdict)              # ... and the loss sentence reads only its own finding
    assert present in text()


def test_a_hypothesis_is_printed_only_with_the_result_it_would_explain(runs_copy):
    flip(runs_copy, "e1", "fc_vs_no_fc", findings.WORSE)
    assert "A likely reason, not tested here" not in text()
    flip(runs_copy, "e1", "fc_vs_no_fc", findings.BETTER)
    assert "A likely reason, not tested here: the FC layer lets every latent coordinate" in text()


def test_the_answer_sheet_answers_every_question_in_the_assignments_order(runs_copy):
    """One answer per question of the assignment text, in its numbering and order, before the first section."""
    t = text()
    sheet = t[t.index("Answers"):t.index("E1 — Convolutional autoencoder")]
    labels = ["1. SMOKE", "2. SMOKE", "3. SMOKE", "3(a). SMOKE", "3(b). SMOKE", "3(c). SMOKE", "4. SMOKE", "5. SMOKE",
              "Theoretical questions", "1) SMOKE", "2) SMOKE", "3) SMOKE"]
    where = [sheet.find(label) for label in labels]
    assert -1 not in where and where == sorted(where), dict(zip(labels, where))


def test_a_missing_run_is_answered_not_run(runs_copy):
    shutil.rmtree(runs_copy / "e7")
    t = text()
    sheet = t[t.index("Answers"):t.index("E1 — Convolutional autoencoder")]
    assert "2) not run — python -m tasks.e7" in sheet
