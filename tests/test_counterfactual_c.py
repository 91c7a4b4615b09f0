"""Assignment C's report words each result by its finding's verdict, and by nothing else.

From a copy of the fixture runs, one finding's verdict is flipped in a copied metrics.json at a time and
the report's HTML rendered again: the sentence of that finding must change the way the verdict says,
with every number left as it was (so the template cannot be choosing its words from the numbers).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from hwkit import findings as F
from hwkit.assignments import c_coursework as C
from hwkit.assignments.c_convolutions import FASTER, SLOWER

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "runs"
TASKS = ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10")

COMPARISON = {F.BETTER: "better.", F.WORSE: "worse.", F.SAME: "no measurable difference.",
              F.NOT_COMPARABLE: "not compared ("}
GAP = {C.NARROWER: "narrower.", C.WIDER: "wider.", F.SAME: "no measurable change.", F.NOT_COMPARABLE: "not compared ("}

# (task, finding, {verdict: a phrase only that verdict prints})
FLIPS = [
    ("c3", "l2_test", COMPARISON),
    ("c3", "early_stopping_test", COMPARISON),
    ("c3", "l2_gap", GAP),
    ("c3", "early_stopping_gap", GAP),
    ("c3", "l2_choice", {F.BETTER: "measurably better than every other candidate",
                         F.SAME: "so which of these strengths was chosen is within noise",
                         F.NOT_COMPARABLE: "not compared ("}),
    ("c3", "early_stopping_point", {"stopped": "Early stopping stopped after",
                                    "ran to the end": "The patience never ran out"}),
    ("c8", "speedup", {FASTER: "the separable conv is faster in every repeat",
                       SLOWER: "separable conv is slower in every repeat",
                       F.SAME: "the repeats fall on both sides of 1×", F.NOT_COMPARABLE: "too few repeats to compare"}),
    ("c8", "model4_vs_mlp", COMPARISON),
    ("c8", "model5_vs_mlp", COMPARISON),
    ("c8", "setting1_fit", {F.FAILED: "both failed the fit check", F.FITS: "both passed the fit check",
                            C.MIXED: "one of them failed the fit check"}),
    ("c4", "numpy_vs_keras", {F.SAME: "the two implementations cannot be told apart",
                               C.MIXED: "Some settings differ measurably",
                               F.NOT_COMPARABLE: "No setting could be compared"}),
    ("c10", "vs_model4", COMPARISON),
    ("c10", "similar", {C.SIMILAR: "It is: similar or better", C.NOT_SIMILAR: "It is not: worse by more than",
                        F.SAME: "Undecided: the interval straddles", F.NOT_COMPARABLE: "Not compared ("}),
]
CASES = [(task, name, verdict, phrase) for task, name, phrases in FLIPS for verdict, phrase in phrases.items()]


@pytest.fixture(scope="module")
def runs_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("counterfactual") / "runs"
    for task in TASKS:
        shutil.copytree(FIXTURES / task, root / task)
    return root


@pytest.fixture(scope="module")
def unflipped_text(runs_copy):
    with pytest.MonkeyPatch.context() as monkeypatch:
        return render_text(runs_copy, monkeypatch)


def render_text(runs_dir: Path, monkeypatch) -> str:
    from hwkit import cli, report
    from hwkit.task import discover_tasks
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(runs_dir))
    html = report.render_html("C", cli.assignments()["C"], discover_tasks("C"), include_quick=True,
                              facts=cli.report_facts("C"), benchmarks=cli.report_benchmarks())
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def metrics_path(runs_dir: Path, task: str) -> Path:
    (run,) = [p for p in (runs_dir / task).iterdir() if p.is_dir()]
    return run / "metrics.json"


def test_every_finding_the_template_words_is_in_the_fixture_runs(runs_copy):
    for task, name, phrases in FLIPS:
        verdict = json.loads(metrics_path(runs_copy, task).read_text())["findings"][name]["verdict"]
        assert verdict in phrases, f"{task}.{name}: fixture verdict {verdict!r} has no wording in the test"


@pytest.mark.parametrize("task, name, verdict, phrase", CASES, ids=[f"{t}-{n}-{v}" for t, n, v, _ in CASES])
def test_flipping_a_verdict_changes_its_sentence(runs_copy, unflipped_text, monkeypatch, tmp_path, task, name,
                                                 verdict, phrase):
    runs_dir = tmp_path / "runs"
    shutil.copytree(runs_copy, runs_dir)
    path = metrics_path(runs_dir, task)
    metrics = json.loads(path.read_text())
    original = metrics["findings"][name]["verdict"]
    before = unflipped_text.replace(str(runs_copy), str(runs_dir))   # the same report, from the copy's path
    metrics["findings"][name]["verdict"] = verdict
    path.write_text(json.dumps(metrics))
    after = render_text(runs_dir, monkeypatch)
    if verdict == original:
        assert phrase in after and after.count(phrase) == before.count(phrase)
        return
    assert after.count(phrase) > before.count(phrase), f"{task}.{name} = {verdict!r} did not print {phrase!r}"
    old_phrase = next(p for v, p in dict(FLIPS_BY_KEY[(task, name)]).items() if v == original)
    assert after.count(old_phrase) < before.count(old_phrase), f"{task}.{name}: {original!r} wording still there"


FLIPS_BY_KEY = {(task, name): phrases for task, name, phrases in FLIPS}
