"""B1 end to end on the real data (quick mode) and the B report's PDF."""
import pdf_layout
import pypdf
import pytest

from hwkit import cli, report


@pytest.fixture(scope="module")
def b1_quick(tmp_path_factory, mnist_csv_dir):
    """One quick B1 run shared by the tests below (it takes ~20 s)."""
    import os

    from hwkit import runs
    from hwkit.cli import task_main
    root = tmp_path_factory.mktemp("b1-runs")
    old = os.environ.get("HWKIT_RUNS_DIR")
    os.environ["HWKIT_RUNS_DIR"] = str(root)
    try:
        assert task_main("tasks.b1", ["--quick", "--data-dir", str(mnist_csv_dir)]) == 0
        return root, runs.latest_run("b1", include_quick=True)
    finally:
        os.environ.pop("HWKIT_RUNS_DIR") if old is None else os.environ.__setitem__("HWKIT_RUNS_DIR", old)


def test_b1_quick_run_writes_everything(b1_quick):
    _, run = b1_quick
    assert run.quick and run.metrics["status"] == "complete"
    m = run.metrics
    # Chance is 10%: the quick recipe once scored exactly that (BatchNorm statistics left near their
    # initial values after 15 updates), so a smoke run must clearly beat it.
    assert m["test_accuracy"] > 0.5 and m["test_rows"] == 1000 and m["epochs"] == 1
    assert m["target_reached"] == (m["test_accuracy"] > m["target_accuracy"]) and m["block_filters"][1] == \
        2 * m["block_filters"][0]
    assert set(m["best_hyperparameters"]) == {"filters", "dense_units", "dropout", "learning_rate"}
    trials = run.table("trials")
    assert 1 <= len(trials) <= 2 and all(t["objective"] == "val_accuracy" for t in trials)
    assert (run.figure("curves") and run.figure("test_accuracy")
            and (run.path / "models" / "b1_mnist_cnn.keras").is_file())
    assert run.history() and "val_accuracy" in run.history()[0]


def test_b_report_pdf_from_quick_run(b1_quick, tmp_path, monkeypatch):
    root, run = b1_quick
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(root))
    pdf_path = cli.render_report("B", include_quick=True, out_dir=tmp_path)
    pdf = pypdf.PdfReader(pdf_path)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) >= 2
    assert "Task 1 — MNIST CNN" in text and "SMOKE RESULT" in text and run.name in text
    assert f"{100 * run.metrics['test_accuracy']:.2f}%" in text
    html = report.render_html("B", "B", [report.TaskInfo("b1", "MNIST CNN")], include_quick=True,
                              facts=cli.report_facts("B"))
    assert (run.path / "figures" / "curves.svg").as_uri() in html, "the PDF embeds the vector (SVG) figure"
    assert max(pdf_layout.path_objects_per_page(pdf_path)) > 100, "the figure is drawn as vector paths"


def test_b_report_without_runs_says_not_run(tmp_path, monkeypatch):
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(tmp_path / "empty"))
    pdf_path = cli.render_report("B", out_dir=tmp_path)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf_path).pages)
    assert "not run" in text and "python -m tasks.b1" in text and "%" not in text.split("Task 1")[1][:300]
    assert not (tmp_path / "B.pdf.part").exists()


def test_b_report_ignores_quick_runs_by_default(b1_quick, tmp_path, monkeypatch):
    root, _ = b1_quick
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(root))
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(cli.render_report("B", out_dir=tmp_path)).pages)
    assert "not run" in text and "SMOKE RESULT" not in text
