"""End-to-end quick runs of C4 (numpy models 1-3) and C5 (Q2.1 checks) on the real MNIST, and their report sections."""
from __future__ import annotations

import math
from pathlib import Path

import jinja2
import pypdf
import pytest

from hwkit import cli, report

SUMMARY_KEYS = {"model", "setting", "epochs", "learning_rate", "final_train_accuracy", "final_test_accuracy", "seconds"}
CURVE_KEYS = {"model", "setting", "samples", "train_accuracy", "test_accuracy"}


# Used by tests/test_d5.py too: the report check of a task whose assignment page belongs to another engineer.
STAND_IN = """{% extends "base.html" %}{% import "macros.html" as m %}{% block body %}
{% for name, heading in sections.items() %}
{% call(run) m.task_section(name, runs, heading) %}{% include name ~ ".html" %}{% endcall %}
{% endfor %}{% endblock %}"""


def render_sections(assignment: str, sections: dict[str, str], out_dir: Path, stand_in: bool = False,
                    runs_override: dict | None = None) -> tuple[str, int]:
    """Render the assignment's PDF with quick runs allowed; return (its text, its number of figures).

    While templates/<assignment>.html is not in the checkout (or with ``stand_in``), a stand-in page
    includes the given task sections exactly as the assignment pages do (inside ``m.task_section``),
    with ``runs_override`` replacing some of the runs found.
    """
    import weasyprint
    if (report.TEMPLATES / f"{assignment}.html").is_file() and not stand_in:
        html = report.render_html(assignment, cli.assignments()[assignment], cli.discover_tasks(assignment),
                                  include_quick=True, facts=cli.report_facts(assignment))
        pdf = cli.render_report(assignment, include_quick=True, out_dir=out_dir)
    else:
        env = report._environment()
        env.loader = jinja2.ChoiceLoader([jinja2.DictLoader({"stand_in.html": STAND_IN}), env.loader])
        ctx = report.context(assignment, "stand-in", cli.discover_tasks(assignment), include_quick=True,
                             facts=cli.report_facts(assignment))
        ctx["runs"] = {**ctx["runs"], **(runs_override or {})}
        html = env.get_template("stand_in.html").render(sections=sections, **ctx)
        pdf = out_dir / f"{assignment}.pdf"
        weasyprint.HTML(string=html, base_url=str(report.ROOT)).write_pdf(pdf)
    reader = pypdf.PdfReader(str(pdf))
    assert len(reader.pages) >= 1
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())   # line breaks -> spaces
    return text, html.count("<figure><img")   # figures are SVG: vector drawings, not PDF images


pytestmark = pytest.mark.slow   # quick runs of C1, C4 and C5 on the real data, and PDFs


@pytest.fixture(scope="module")
def c_runs(tmp_path_factory, data_dir):
    """C1 (which C4 compares with), C4 and C5 run once (quick) into one runs root, shared by the checks and the
    report test."""
    from hwkit import runs
    from hwkit.cli import task_main
    root = tmp_path_factory.mktemp("c-runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWKIT_RUNS_DIR", str(root))
        for name in ("c1", "c4", "c5"):
            assert task_main(f"tasks.{name}", ["--quick", "--data-dir", str(data_dir)]) == 0
        records = {name: runs.latest_run(name, include_quick=True) for name in ("c4", "c5")}
    return records, root


def test_c4_quick_run_keeps_the_shared_table_contract(c_runs):
    run = c_runs[0]["c4"]
    assert run.quick
    summary, curves = run.table("summary"), run.table("curves")
    assert len(summary) == 9 and all(SUMMARY_KEYS <= set(r) for r in summary)
    assert [(r["model"], r["setting"]) for r in summary] == [(m, s) for m in (1, 2, 3) for s in (1, 2, 3)]
    assert [r["learning_rate"] for r in summary] == [1e-4, 1e-3, 0.1, 1e-4, 5e-3, 0.1, 1e-3, 1e-3, 0.05]
    assert curves and all(CURVE_KEYS <= set(r) for r in curves)
    assert {(r["model"], r["setting"]) for r in curves} == {(m, s) for m in (1, 2, 3) for s in (1, 2, 3)}
    # An accuracy counts whole test images: a multiple of 1 / test_rows (catches a wrong denominator).
    n = run.metrics["test_rows"]
    assert all(math.isclose(r["final_test_accuracy"] * n, round(r["final_test_accuracy"] * n)) for r in summary)
    # Real learning, even on the quick subset: model 1 with lr 1e-3 beats chance by far.
    assert summary[1]["final_test_accuracy"] > 0.6
    assert run.figure("learning_curves") and run.figure("summary_table")
    # The final row of each curve is the end of training, as in the coursework's table.
    last = {(r["model"], r["setting"]): r for r in curves}
    assert all(math.isclose(last[(r["model"], r["setting"])]["test_accuracy"], r["final_test_accuracy"])
               for r in summary)


def test_c5_derivatives_match_finite_differences(c_runs):
    run = c_runs[0]["c5"]
    x = run.metrics
    assert x["all_passed"] is True
    assert max(x[f"rel_error_d{q}"] for q in "zxWb") < 1e-6
    rows = run.table("q21_checks")
    assert [r["derivative"] for r in rows] == ["∂loss/∂z", "∂loss/∂x", "∂loss/∂W", "∂loss/∂b"]
    assert all(r["max_abs_diff_library"] < 1e-10 for r in rows)
    layers = {r["layer"] for r in run.table("layer_checks")}
    assert {"ReLU", "Sigmoid", "Tanh", "SoftmaxCrossEntropy(sum)", "SoftmaxCrossEntropy(mean)"} <= layers


def test_c_report_shows_the_numpy_sections(c_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(c_runs[1]))
    text, images = render_sections("C", {"c4": "C4 — numpy models 1–3", "c5": "C5 — Q2.1 derivatives"}, tmp_path)
    assert "hwkit.numpy_nn" in text and "Numpy (C4) against Keras (C1)" in text
    assert "all checks pass" in text and "∂loss/∂W" in text
    assert "SMOKE RESULT" in text and images >= 2


def test_c4_compares_with_the_keras_c1_run(c_runs, tmp_path, monkeypatch):
    """The numpy-vs-Keras comparison is computed by C4 (from the C1 run of the same kind) and only laid out by
    c4.html."""
    from hwkit import runs
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(c_runs[1]))
    c4 = c_runs[0]["c4"]
    c1 = runs.latest_run("c1", include_quick=True)
    comparison, rows = c4.metrics["keras_comparison"], c4.table("keras_comparison")
    assert comparison["run"] == c1.name and comparison["settings"] == len(rows) == 9
    assert comparison["settings_mean"] == 9 and comparison["window"] == 15
    keras_final = {(r["model"], r["setting"]): r["final_test_accuracy"] for r in c1.table("summary")}
    assert all(r["other_test_accuracy"] == keras_final[(r["model"], r["setting"])] for r in rows)
    assert comparison["agree"] == sum(abs(r["difference_points"]) <= 1.5 for r in rows)
    assert c4.metrics["train_eval_digest"] == c1.metrics["train_eval_digest"]
    text, _ = render_sections("C", {"c4": "C4"}, tmp_path, stand_in=True)
    found = c4.metrics["findings"]["numpy_vs_keras"]["numbers"]    # per-setting paired bootstraps, counted
    assert found["no_measurable_difference"] == sum(r["final_verdict"] == "no measurable difference" for r in rows)
    assert sum(found[k] for k in ("better", "worse", "no_measurable_difference", "not_comparable")) == 9
    assert f"Of 9 settings: {found['no_measurable_difference']} show no measurable difference" in text
