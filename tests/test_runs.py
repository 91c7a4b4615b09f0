"""hwkit.runs: run directories are complete or marked failed, never overwritten, found by the reports."""
import json

import pytest

from hwkit import HwkitError, runs


def test_run_directory_contents_and_lookup(runs_dir):
    with runs.start_run("x1", {"lr": 0.1}, seed=3) as run:
        run.log(accuracy=0.5)
        run.save_table("t", [{"a": 1}])
    assert run.path.parent == runs_dir / "x1" and run.path.name.endswith("-s3")
    assert json.loads((run.path / "config.json").read_text())["lr"] == 0.1
    assert "tensorflow" in json.loads((run.path / "env.json").read_text())
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics["status"] == "complete" and metrics["accuracy"] == 0.5 and metrics["wall_time_s"] >= 0
    record = runs.latest_run("x1")
    assert record.path == run.path and record.table("t") == [{"a": 1}] and not record.quick


def test_never_overwritten_and_latest_wins():
    paths = []
    for i in range(3):  # same second, same seed: distinct folders
        with runs.start_run("x2", {}, seed=0) as run:
            run.log(i=i)
        paths.append(run.path)
    assert len(set(paths)) == 3
    assert runs.latest_run("x2").metrics["i"] == 2


def test_failed_run_is_marked_and_ignored():
    with runs.start_run("x3", {}) as good:
        good.log(v=1)
    with pytest.raises(RuntimeError):
        with runs.start_run("x3", {}) as bad:
            raise RuntimeError("boom")
    assert json.loads((bad.path / "metrics.json").read_text())["status"] == "failed"
    assert runs.latest_run("x3").path == good.path


def test_quick_runs_only_when_asked():
    with runs.start_run("x4", {}, quick=True) as quick:
        pass
    assert quick.path.name.endswith("-quick")
    assert runs.latest_run("x4") is None
    assert runs.latest_run("x4", include_quick=True).quick
    with runs.start_run("x4", {}) as full:
        pass
    assert runs.latest_run("x4", include_quick=True).path == full.path  # a full run is preferred


def test_require_run_names_the_command_and_checks_the_files(monkeypatch):
    with pytest.raises(HwkitError, match=r"task x6 reads the latest complete full run of x5, and there is none .*"
                                         r"run `python -m tasks.x5` first"):
        runs.require_run("x5", quick=False, reader="x6")
    with runs.start_run("x5", {}, quick=True) as quick:
        quick.save_table("summary", [{"a": 1}])
    with pytest.raises(HwkitError, match=r"run `python -m tasks.x5` first"):   # a quick run is no full run
        runs.require_run("x5", quick=False)
    assert runs.require_run("x5", quick=True, needs=("tables/summary.json",)).path == quick.path
    with pytest.raises(HwkitError, match=r"lacks models/m.keras: run `python -m tasks.x5 --quick` first"):
        runs.require_run("x5", quick=True, needs=("tables/summary.json", "models/m.keras"))
    monkeypatch.setenv("HWKIT_TASKS", "mytasks")
    with pytest.raises(HwkitError, match=r"run `python -m mytasks.x5` first"):
        runs.require_run("x5", quick=False)


def test_load_model_round_trip_and_safe_mode():
    import keras
    with runs.start_run("x7", {}) as run:
        keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(run.model_path("ok.keras"))
        lam = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2)])
        lam.save(run.model_path("lambda.keras"))
    record = runs.require_run("x7", quick=False, needs=("models/ok.keras",))
    assert runs.load_model(record, "ok.keras").output_shape == (None, 2)
    with pytest.raises(HwkitError, match="cannot load .*arbitrary code execution"):   # no code from a file runs
        runs.load_model(record, "lambda.keras")
    with pytest.raises(HwkitError, match="has no models/missing.keras"):
        runs.load_model(record, "missing.keras")
