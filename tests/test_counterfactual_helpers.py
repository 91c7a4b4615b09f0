"""The shared helpers of the counterfactual tests (tests/conftest.py): copy fixture runs, flip a finding, render."""
import json

import pytest
from conftest import FIXTURE_RUNS, fixture_runs_copy, flip_finding, render_text


def _one_run(root, task):
    (run,) = [d for d in (root / task).iterdir() if (d / "metrics.json").is_file()]
    return run


def test_copy_holds_only_the_named_tasks_and_leaves_the_fixtures_alone(tmp_path):
    root = fixture_runs_copy(tmp_path, ["a1", "a2"])
    assert sorted(p.name for p in root.iterdir()) == ["a1", "a2"]
    run = _one_run(root, "a1")
    original = (FIXTURE_RUNS / "a1" / run.name / "metrics.json").read_text()
    (run / "metrics.json").write_text("{}")
    assert (FIXTURE_RUNS / "a1" / run.name / "metrics.json").read_text() == original
    with pytest.raises(FileNotFoundError, match="no-such-task"):
        fixture_runs_copy(tmp_path, ["no-such-task"])


def test_flip_finding_rewrites_only_that_verdict(tmp_path):
    root = fixture_runs_copy(tmp_path, ["a1"])
    run = _one_run(root, "a1")
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["findings"] = {"x": {"verdict": "better", "difference": 0.1}, "y": {"verdict": "same"}}
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert flip_finding(root / "a1", "x", "worse") == {"verdict": "worse", "difference": 0.1}
    after = json.loads((run / "metrics.json").read_text())
    assert after["findings"] == {"x": {"verdict": "worse", "difference": 0.1}, "y": {"verdict": "same"}}
    assert {k: v for k, v in after.items() if k != "findings"} == {k: v for k, v in metrics.items() if k != "findings"}
    assert not list(run.glob("*.part"))
    with pytest.raises(KeyError, match="no finding 'z'"):
        flip_finding(run, "z", "worse")


def test_render_text_shows_the_copied_runs_numbers_and_not_run_for_the_rest(tmp_path):
    root = fixture_runs_copy(tmp_path, ["a1"])
    text = render_text("A", root)
    assert "not run" in text and "<div" not in text and "<p>" not in text
    html = render_text("A", root, html=True)
    assert html.lstrip().startswith("<")
    run = _one_run(root, "a1")
    assert run.name in text   # the run the section shows is the copy's
