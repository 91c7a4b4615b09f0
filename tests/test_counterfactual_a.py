"""Assignment A: every result sentence follows its finding's verdict, not fixed text.

The fixture runs of A1-A5 are copied, ONE finding's verdict is flipped in a copied ``metrics.json``,
the A report is rendered as HTML (``hwkit.report.render_html``, no PDF), and the section must now say
what that verdict says — and nothing any other verdict of the same finding would say.
"""
from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from hwkit.assignments import a_identity
from hwkit.findings import FAILED, FITS, NOT_COMPARABLE

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "runs"
TASKS = ("a1", "a2", "a3", "a4", "a5")
# Headings that open each task's section in A's report, in order; the appendix closes the last one.
SECTIONS = {"a1": "P1 — MLP h", "a2": "P2 — CNN g", "a3": "P3.1 —", "a4": "P3.2 —", "a5": "Beyond the text —",
            None: "Appendix — evidence and reproducibility"}


@pytest.fixture
def runs_copy(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    for task in TASKS:
        shutil.copytree(FIXTURES / task, root / task)
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(root))
    return root


def _metrics_path(root: Path, task: str) -> Path:
    (run_dir,) = (root / task).iterdir()
    return run_dir / "metrics.json"


def flip(root: Path, task: str, finding: str, verdict: str, **numbers) -> None:
    path = _metrics_path(root, task)
    metrics = json.loads(path.read_text())
    metrics["findings"][finding]["verdict"] = verdict
    metrics["findings"][finding]["numbers"].update(numbers)
    path.write_text(json.dumps(metrics))


def sections() -> dict[str, str]:
    """The rendered A report as plain text, cut into its task sections."""
    from hwkit import cli, report
    out = report.render_html("A", cli.assignments()["A"], cli.discover_tasks("A"), True,
                             facts=cli.report_facts("A"), benchmarks=cli.report_benchmarks())
    text = re.sub(r"<style.*?</style>|<table.*?</table>", " ", out, flags=re.S)
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", text).split()))
    starts = [(text.index(head), task) for task, head in SECTIONS.items()]
    starts.sort()
    return {task: text[a:b] for (a, task), (b, _) in zip(starts, starts[1:])}


def check_branches(root: Path, task: str, finding: str, markers: dict[str, str], section: str | None = None):
    """For every verdict: flip it, render; its marker is in the section, every other verdict's marker is not."""
    metrics = _metrics_path(root, task)
    original = metrics.read_text()
    for verdict, marker in markers.items():
        flip(root, task, finding, verdict)
        text = sections()[section or task]
        assert marker in text, f"{task}.{finding} = {verdict!r}: {marker!r} missing"
        for other, other_marker in markers.items():
            if other != verdict:
                assert other_marker not in text, f"{task}.{finding} = {verdict!r} still says {other_marker!r}"
        metrics.write_text(original)


def test_fixture_runs_carry_the_findings_the_template_reads():
    for task, names in {"a1": {"learning_rate", "conjecture", "fits", "cut_off"},
                        "a2": {"learning_rate", "conjecture", "fits", "cut_off"},
                        "a3": {"constructions"}, "a4": {"constructions"},
                        "a5": {"learning_rate", "paper", "fits"}}.items():
        metrics = json.loads(_metrics_path(FIXTURES, task).read_text())
        assert names <= set(metrics["findings"]), task


@pytest.mark.parametrize("task", ["a1", "a2", "a5"])
def test_learning_rate_sentence_follows_its_finding(runs_copy, task):
    check_branches(runs_copy, task, "learning_rate", {a_identity.LR_FITS: "the largest of them",
                                                      a_identity.LR_NONE_FITS: "No candidate fit x_train"})


@pytest.mark.parametrize("task, f", [("a1", "h"), ("a2", "g")])
def test_conjecture_follows_its_finding(runs_copy, task, f):
    check_branches(runs_copy, task, "conjecture", {
        "constant": f"Conjecture: {f}(x) ≈ x_train —", "identity": f"Conjecture: {f}(x) ≈ x —",
        "neither": "Conjecture: no simple formula", a_identity.MIXED: "no verdict is backed by more than half",
        a_identity.TOO_FEW: "a conjecture needs at least"})


def test_a2_hypothesis_only_under_the_identity_verdict(runs_copy):
    check_branches(runs_copy, "a2", "conjecture", {"identity": "A likely reason, not tested here: a convolution",
                                                   "constant": "memorised x_train"})


def test_a3_cites_a1_only_by_a1_findings(runs_copy):
    for finding, verdict, other, sentence in (
            ("conjecture", "constant", "identity", "were judged to learn"),
            ("cut_off", a_identity.CUT_OFF_LEARNING, a_identity.NO_CUT_OFF, "are exactly constant maps")):
        flip(runs_copy, "a1", finding, verdict)
        assert sentence in sections()["a3"]
        flip(runs_copy, "a1", finding, other)
        assert sentence not in sections()["a3"]


def test_cut_off_sentence_follows_its_finding(runs_copy):
    check_branches(runs_copy, "a1", "cut_off", {a_identity.CUT_OFF_LEARNING: "still learning when training stopped.",
                                                a_identity.CUT_OFF_STALLED: "at least one of them had stalled",
                                                a_identity.NO_CUT_OFF: "Input cut off: in no run"})


@pytest.mark.parametrize("task, failed", [("a1", "failed the fit check and"), ("a2", "failed the fit check and"),
                                          ("a5", "shown as failed and judged nothing")])
def test_fit_sentence_follows_its_finding(runs_copy, task, failed):
    check_branches(runs_copy, task, "fits", {FAILED: failed, FITS: "runs fit x_train."})


@pytest.mark.parametrize("task, verified", [("a3", "checks inside their stated domains are exact"),
                                            ("a4", "claimed checks are exact")])
def test_construction_verdict_follows_its_finding(runs_copy, task, verified):
    check_branches(runs_copy, task, "constructions", {a_identity.VERIFIED: verified,
                                                      a_identity.NOT_VERIFIED: "NOT verified"})


def test_paper_comparison_outcome_follows_its_finding(runs_copy):
    check_branches(runs_copy, "a5", "paper", {a_identity.AGREES: "Outcome: agreement with Fig. 3",
                                              a_identity.PARTLY: "Outcome: partial agreement with Fig. 3",
                                              a_identity.DISAGREES: "Outcome: disagreement with Fig. 3",
                                              NOT_COMPARABLE: "Outcome: not comparable"})


@pytest.mark.parametrize("numbers, reason", [
    ({"monotone": False}, "go back along"),
    ({"monotone": True, "shallow_identity": False, "shallow_verdict": "neither"},
     "is judged neither, not the identity"),
    ({"monotone": True, "shallow_identity": True}, "is still judged the identity")])
def test_disagreement_names_the_part_of_the_rule_that_failed(runs_copy, numbers, reason):
    flip(runs_copy, "a5", "paper", a_identity.DISAGREES, **numbers)
    assert reason in sections()["a5"]


ANSWER_LABELS = ("P1.1", "P1.2", "P1.3", "P2.1", "P2.2", "P2.3", "P3.1", "P3.2", "A5")


def answer_sheet() -> str:
    """The rendered answer sheet as plain text: from its heading to the first task section."""
    from hwkit import cli, report
    out = report.render_html("A", cli.assignments()["A"], cli.discover_tasks("A"), True,
                             facts=cli.report_facts("A"), benchmarks=cli.report_benchmarks())
    text = re.sub(r"<style.*?</style>", " ", out, flags=re.S)
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", text).split()))
    return text[text.index("Answers Each question"):text.index(SECTIONS["a1"])]


def test_answer_sheet_answers_every_question_in_the_assignments_order(runs_copy):
    sheet = answer_sheet()
    positions = [sheet.index(f"{label} [SMOKE run]") for label in ANSWER_LABELS]   # quick fixtures: labelled
    assert positions == sorted(positions)
    assert "not run" not in sheet


def test_answer_sheet_says_not_run_for_a_missing_run(runs_copy):
    shutil.rmtree(runs_copy / "a4")
    (runs_copy / "a4").mkdir()
    sheet = answer_sheet()
    assert "P3.2 not run — no complete full run of a4" in sheet
    assert "P3.1 [SMOKE run]" in sheet


def answer_item(sheet: str, label: str) -> str:
    """One answer of the sheet: from its label to the next one."""
    start = sheet.index(f"{label} ")
    later = [sheet.index(f"{other} ", start) for other in ANSWER_LABELS[ANSWER_LABELS.index(label) + 1:]]
    return sheet[start:min(later, default=len(sheet))]


@pytest.mark.parametrize("task, f, label", [("a1", "h", "P1.3"), ("a2", "g", "P2.3")])
def test_answer_sheet_conjecture_is_the_sections_answer(runs_copy, task, f, label):
    """The sheet and the section print the same macro: each verdict's words appear in both, no other verdict's."""
    markers = {"constant": f"Conjecture: {f}(x) ≈ x_train —", "identity": f"Conjecture: {f}(x) ≈ x —",
               a_identity.MIXED: "no verdict is backed by more than half",
               a_identity.TOO_FEW: "a conjecture needs at least"}
    metrics = _metrics_path(runs_copy, task)
    original = metrics.read_text()
    for verdict, marker in markers.items():
        flip(runs_copy, task, "conjecture", verdict)
        sheet = answer_item(answer_sheet(), label)
        assert marker in sheet and marker in sections()[task], verdict
        assert not [m for v, m in markers.items() if v != verdict and m in sheet], verdict
        metrics.write_text(original)


def test_answer_sheet_paper_outcome_follows_its_finding(runs_copy):
    for verdict in (a_identity.AGREES, a_identity.PARTLY, a_identity.DISAGREES, NOT_COMPARABLE):
        flip(runs_copy, "a5", "paper", verdict)
        assert f"Fig. 3: {verdict}." in answer_sheet()
