"""End-to-end quick run of D5 (numpy MLP) on the MNIST CSV files: p1_model.npz reload, missing-CSV error, report."""
from __future__ import annotations

import numpy as np
import pytest

from hwkit import data
from hwkit import numpy_nn as nn
from tests.test_c4_c5 import render_sections


@pytest.fixture(scope="module")
def d5_run(tmp_path_factory, mnist_csv_dir):
    from hwkit import runs
    from hwkit.cli import task_main
    root = tmp_path_factory.mktemp("d-runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWKIT_RUNS_DIR", str(root))
        assert task_main("tasks.d5", ["--quick", "--data-dir", str(mnist_csv_dir)]) == 0
        return runs.latest_run("d5", include_quick=True), root


@pytest.mark.slow
def test_d5_quick_run(d5_run):
    run = d5_run[0]
    x = run.metrics
    assert run.quick and 0 <= x["test_error"] < 0.5          # learns even on the quick subset
    assert x["reload_identical"] is True and x["reloaded_test_error"] == x["test_error"]
    assert x["required_met"] == (x["test_error"] < 0.05) and x["aim_met"] == (x["test_error"] < 0.02)
    history = run.table("history")
    assert len(history) == x["epochs"]
    assert {"train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error"} <= set(history[0])
    assert history[-1]["test_error"] == pytest.approx(x["test_error"])
    assert run.table("search") and x["chosen"]["hiddens"]
    assert run.figure("training_plot")


@pytest.mark.slow
def test_p1_model_npz_reloads_to_the_same_test_error(d5_run, mnist_csv_dir):
    run = d5_run[0]
    import tasks.d5 as d5
    _, (x_test, y_test) = data.load_mnist(mnist_csv_dir, formats=("csv",))
    x_test, y_test = data.subset(x_test, y_test, d5.QUICK.test_rows, seed=run.config["seed"])
    x_test = data.to_float(x_test, channel_axis=False).reshape(len(x_test), -1)
    mlp = nn.MLP.load(run.path / "models" / "p1_model.npz")
    mlp.forward(x_test)
    assert mlp.get_error(y_test) / len(y_test) == pytest.approx(run.metrics["test_error"])
    assert isinstance(mlp.activations[0], nn.ACTIVATIONS[run.metrics["chosen"]["activation"]])
    assert np.isfinite(mlp.get_loss(y_test))


def test_d5_without_csv_files_says_how_to_make_them(tmp_path, monkeypatch, capsys):
    from hwkit.cli import task_main
    monkeypatch.setenv("HWKIT_DATA_DIR", str(tmp_path))     # a folder with no CSV files
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)                             # no data/mnist-csv cache either
    with pytest.raises(SystemExit) as exit_info:
        task_main("tasks.d5", ["--quick", "--data-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "python -m hwkit.data export-csv" in capsys.readouterr().err


@pytest.mark.slow
def test_d_report_shows_the_numpy_mlp(d5_run, tmp_path, monkeypatch):
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(d5_run[1]))
    text, images = render_sections("D", {"d5": "D5 — numpy MLP"}, tmp_path)
    assert "Final test error" in text and "p1_model.npz" in text and "random_normal_weight_init" in text
    assert "SMOKE RESULT" in text and images >= 1
