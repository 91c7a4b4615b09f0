"""Reproducible reports: provenance in env.json, the appendix, vector figures with their data, TensorBoard logs."""
import csv
import json
import os
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np

from hwkit import plots, runs, training, tuning

ROOT = Path(__file__).resolve().parents[1]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_save_figure_writes_svg_png_and_the_data_drawn(runs_dir):
    fig, ((a, b, c),) = plots.figure(1, 3, width="full")
    a.plot([1, 2, 3], [4, 5, 6], label="loss")
    a.set_title("curves")
    b.bar(["x", "y"], [0.25, 0.75])
    for ax in (a, b):
        ax.set(xlabel="x", ylabel="y")
    plots.heatmap(c, np.arange(6.0).reshape(2, 3), label="value")
    with runs.start_run("x1", {}) as run:
        svg = run.save_figure(fig, "panel")
    assert svg.suffix == ".svg" and svg.read_text().lstrip().startswith("<?xml")
    assert (svg.with_suffix(".png")).stat().st_size > 0
    rows = read_csv(svg.with_suffix(".csv"))
    line = [r for r in rows if r["kind"] == "line"]
    assert [(float(r["x"]), float(r["y"])) for r in line] == [(1, 4), (2, 5), (3, 6)]
    assert line[0]["series"] == "loss" and line[0]["title"] == "curves"
    assert [float(r["y"]) for r in rows if r["kind"] == "bar"] == [0.25, 0.75]
    image = [r for r in rows if r["kind"] == "image"]
    assert len(image) == 6 and float(image[-1]["value"]) == 5.0 and image[-1]["x"] == "2"
    assert not list(svg.parent.glob("*.part"))
    record = runs.latest_run("x1")
    assert record.figure("panel") == svg and record.figures == {"panel": svg}  # the PDF embeds the SVG


def test_large_scatter_is_rasterized_inside_the_svg(tmp_path):
    fig, axes = plots.figure(1, 1, width="half")
    axes[0, 0].scatter(np.random.default_rng(0).normal(size=5000), np.zeros(5000))
    axes[0, 0].set(xlabel="x", ylabel="y")
    svg = plots.save_figure(fig, tmp_path / "cloud")
    assert "<image" in svg.read_text() and svg.stat().st_size < 400_000
    assert len([r for r in read_csv(tmp_path / "cloud.csv") if r["kind"] == "scatter"]) == 5000


def test_appendix_shows_commit_and_dirty_flag(runs_dir):
    with runs.start_run("x2", {"lr": 0.1}, seed=7):
        pass
    record = runs.latest_run("x2")
    record.env["git"] = {"commit": "a" * 40, "dirty": True, "diff_sha256": "b" * 64}
    assert (dict(record.appendix()["rows"])["commit"]
            == "aaaaaaaaaaaa + uncommitted changes (dirty; diff sha256 bbbbbbbbbbbb)")
    record.env["git"] = {"commit": "a" * 40, "dirty": False, "diff_sha256": None}
    assert dict(record.appendix()["rows"])["commit"] == "aaaaaaaaaaaa (clean)"
    record.env["git"] = {}
    assert dict(record.appendix()["rows"])["commit"] == "not recorded"


def test_appendix_rows_and_shared_rows(runs_dir, tmp_path):
    for task in ("x3", "x4"):
        with runs.start_run(task, {"lr": 0.1}, seed=7) as run:
            pass
    search = run.path / "tuner" / "search_summary.json"
    search.parent.mkdir()
    runs.write_json(search, {"objective": "val_accuracy", "space": [], "trials": [], "failed": []})
    records = [runs.latest_run("x3"), runs.latest_run("x4")]
    entry = records[0].appendix()
    rows = dict(entry["rows"])
    assert rows["seed"] == 7 and rows["mode"] == "full" and rows["wall time"].endswith(" s")
    assert rows["run directory"].endswith(records[0].name) and "python" in rows["versions"].lower()
    assert ("lr", "0.1") in entry["config"] and not entry["searches"]
    assert records[1].appendix()["searches"][0]["objective"] == "val_accuracy"
    both = runs.appendix(records)
    assert {label for label, _ in both["common"]} == {"commit", "versions", "hardware"}
    assert all("versions" not in dict(e["rows"]) for e in both["entries"])


def test_command_line_of_a_module_run_is_read_from_the_record_alone(tmp_path):
    # made in a folder that does not exist here: the answer must not depend on this machine's files
    gone = "/nowhere/clone-4f2a"
    assert runs.command_line([f"{gone}/tasks/d1.py", "--quick", "--seed", "1"], gone) == \
        "python -m tasks.d1 --quick --seed 1"
    assert runs.command_line(["/usr/lib/python3/site-packages/pytest/__main__.py", "-q", "tests"], gone) == \
        "python -m pytest -q tests"
    assert runs.command_line(["benchmarks/x.py", "--a b"], gone) == "benchmarks/x.py '--a b'"
    # a run records its command when it starts; that wins over anything worked out from argv
    env = {"command": "python -m tasks.d1 --quick", "argv": ["/elsewhere/d1.py"], "cwd": "/"}
    assert runs.recorded_command(env) == "python -m tasks.d1 --quick"
    assert runs.recorded_command({"argv": "not a list"}) == "not recorded"


def test_a_run_records_the_module_it_was_started_as(tmp_path):
    import subprocess
    import sys
    code = ("import sys; from hwkit import runs; print(runs.invoked_command())")
    script = tmp_path / "show.py"
    script.write_text(code)
    as_script = subprocess.run([sys.executable, str(script), "--x", "a b"], capture_output=True, text=True,
                               cwd=ROOT, check=True).stdout.strip()
    assert as_script == f"{script} --x 'a b'"
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    as_module = subprocess.run([sys.executable, "-m", "pkg.mod", "--quick"], capture_output=True, text=True,
                               cwd=tmp_path, env=env, check=True).stdout.strip()
    assert as_module == "python -m pkg.mod --quick"


def _tensors(log_dir):
    """{tag: [(step, value)]} of the scalars in a TensorBoard log folder, read with TensorBoard's own reader."""
    import tensorflow as tf
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(str(log_dir))
    acc.Reload()
    return {tag: [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}


def _tiny_model(units=2):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, "relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_standard_callbacks_write_tensorboard_scalars_per_epoch(tmp_path):
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    _tiny_model().fit(x, y, validation_data=(x, y), epochs=3, verbose=0,
                      callbacks=training.standard_callbacks(tmp_path))
    train = _tensors(tmp_path / "tensorboard" / "train")
    assert [step for step, _ in train["epoch_loss"]] == [0, 1, 2] and "epoch_accuracy" in train
    assert len(_tensors(tmp_path / "tensorboard" / "validation")["epoch_loss"]) == 3
    assert not list((tmp_path / "tensorboard").rglob("*.trace.json.gz"))   # no profiling by default


class FlakyHyperModel(kt.HyperModel):
    """Fails in the first trial (build 1 only declares the space to KerasTuner): the search goes on and the
    failure is recorded with its error."""

    def __init__(self):
        super().__init__()
        self.builds = 0

    def build(self, hp):
        self.builds += 1
        units = hp.Int("units", 2, 8, step=2)
        hp.Choice("unused", ["a", "b"])
        if self.builds == 2:
            raise ValueError("deliberate failure of the first trial")
        return _tiny_model(units)


def test_search_writes_summary_with_space_failed_trials_and_tensorboard(tmp_path):
    x = np.random.default_rng(0).normal(size=(200, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    tuning.search(FlakyHyperModel(), x[:150], y[:150], validation_data=(x[150:], y[150:]), directory=tmp_path,
                  max_trials=2, epochs=1, verbose=0)
    summary = json.loads((tmp_path / "search_summary.json").read_text())
    assert summary["objective"] == "val_accuracy" and summary["stop_reason"]
    space = {row["name"]: row for row in summary["space"]}
    assert space["units"]["values"].startswith("[2, 8], step 2") and space["unused"]["values"] == "a, b"
    assert len(summary["failed"]) == 1 and "deliberate failure" in summary["failed"][0]["error"]
    assert summary["completed"] >= 1
    logged = [p for p in (tmp_path / "tensorboard").iterdir() if (p / "execution0" / "train").is_dir()
              or (p / "train").is_dir()]
    assert logged, "each completed trial writes TensorBoard logs in a sub-folder of its own"
