"""Run directories are untrusted input: each file a run is read from is checked once against the shape hwkit
writes (``hwkit.runs``' schemas). A damaged run is skipped by ``report`` with one warning line naming the
file; a task whose prerequisite run is damaged stops before it trains with one ``error:`` line; a
prerequisite's model of the wrong shape is one ``error:`` line naming the run and the command that remakes it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import install_task_package, one_line_exit_2

from hwkit import HwkitError, cli, runs
from hwkit import task as hwkit_task

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "runs"

T1 = '''
"""T1: writes a table and a model, logs a number."""
from hwkit.cli import task_main


def run(args, run):
    import keras
    run.save_table("rows", [{"a": 1, "b": 2.5}, {"a": 2, "b": 3.5}])
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(run.model_path("m.keras"))
    run.log(answer=42)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''

T2 = '''
"""T2: "trains" (leaves a mark), then reads T1's table - as C4 and C10 read their prerequisite after training."""
from hwkit import runs
from hwkit.cli import task_main

REQUIRES = {"t1": {"tables/rows.json": [{"a": runs.NUMBER}]}}
TRAINED = []


def run(args, run):
    TRAINED.append(run.path)
    source = runs.require_run("t1", args.quick, needs=REQUIRES["t1"], reader=run.task)
    run.log(total=sum(r["a"] for r in source.table("rows")))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''

T3 = '''
"""T3: builds on T1's model, which must take 4 numbers and give 2."""
from hwkit import runs
from hwkit.cli import task_main

REQUIRES = {"t1": {"models/m.keras": None}}


def run(args, run):
    source = runs.require_run("t1", args.quick, needs=REQUIRES["t1"], reader=run.task)
    model = runs.load_model(source, "m.keras", shapes=((4,), (2,)))
    run.log(parameters=model.count_params())


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    return install_task_package(tmp_path, monkeypatch, "schematasks", {"T": "schema"}, {"t1": T1, "t2": T2, "t3": T3})


@pytest.fixture
def t1_run(toy, runs_dir) -> Path:
    assert cli.task_main("schematasks.t1", []) == 0
    [path] = (runs_dir / "t1").iterdir()
    return path


def edit_json(path: Path, change) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def truncate(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def set_key(name: str, key: str, value):
    return name, lambda run: edit_json(run / name, lambda d: {**d, key: value})


def drop_key(name: str, key: str):
    return name, lambda run: edit_json(run / name, lambda d: {k: v for k, v in d.items() if k != key})


# id -> (the file named in the message, how it is damaged, what the message says is wrong)
DAMAGE = {
    "metrics-is-a-list": ("metrics.json", lambda run: (run / "metrics.json").write_text('["complete"]'),
                          "is a list, not an object"),
    "config-is-an-empty-list": ("config.json", lambda run: (run / "config.json").write_text("[]"),
                                "is a list, not an object"),
    "env-truncated": ("env.json", lambda run: truncate(run / "env.json"), "is not valid JSON"),
    "table-truncated": ("tables/rows.json", lambda run: truncate(run / "tables" / "rows.json"), "is not valid JSON"),
    "table-row-not-an-object": ("tables/rows.json", lambda run: (run / "tables" / "rows.json").write_text("[1, 2]"),
                                "[0] is 1, not an object"),
    "status-missing": (*drop_key("metrics.json", "status"), "has no 'status'"),
    "wall-time-not-a-number": (*set_key("metrics.json", "wall_time_s", "fast"),
                               "['wall_time_s'] is 'fast' (a string), not a number"),
    "seed-not-an-integer": (*set_key("config.json", "seed", "zero"), "['seed'] is 'zero' (a string), not an integer"),
    "quick-not-a-flag": (*set_key("config.json", "quick", "no"), "['quick'] is 'no' (a string), not true or false"),
    "git-not-an-object": (*set_key("env.json", "git", "abc123"), "['git'] is 'abc123' (a string), not an object"),
}


# ----------------------------------------------------------------------------- report: one warning, task not run

@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_report_skips_a_damaged_run_with_one_warning(case, t1_run, tmp_path, capsys):
    from hwkit import report
    name, damage, problem = DAMAGE[case]
    damage(t1_run)
    capsys.readouterr()
    assert cli.report_main(["T", "--out-dir", str(tmp_path / "reports")]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("warning: ") and f"{t1_run}" in lines[0] and name in lines[0], lines[0]
    assert problem in lines[0], lines[0]
    assert (tmp_path / "reports" / "T.pdf").is_file()
    html = report.render_html("T", "schema", cli.discover_tasks("T"))
    assert "no complete full run of <code>t1</code>" in html       # shown as not run
    assert capsys.readouterr().err == ""                            # said once per process


def test_an_older_good_run_stands_in_for_a_damaged_newer_one(t1_run, runs_dir, capsys):
    newer = t1_run.with_name(t1_run.name + ".1")
    shutil.copytree(t1_run, newer)
    truncate(newer / "metrics.json")
    assert runs.latest_run("t1").path == t1_run
    assert "metrics.json is not valid JSON" in capsys.readouterr().err
    with pytest.raises(runs.DamagedRun, match="metrics.json is not valid JSON"):   # a task would read an older run
        runs.latest_run("t1", strict=True)


def test_a_damaged_run_older_than_the_one_used_is_not_read(t1_run, capsys):
    older = t1_run.with_name("20000101T000000Z-s0")
    shutil.copytree(t1_run, older)
    (older / "metrics.json").write_text("[]")
    assert runs.latest_run("t1", strict=True).path == t1_run
    assert capsys.readouterr().err == ""


def test_unfinished_failed_and_damaged_runs_are_told_apart(t1_run):
    (t1_run / "metrics.json").unlink()                   # killed: unfinished, not damaged
    assert runs.load_run(t1_run) is None
    (t1_run / "metrics.json").write_text(json.dumps({"status": "failed", "error": "boom"}))
    assert runs.load_run(t1_run) is None
    (t1_run / "metrics.json").write_text(json.dumps({"status": 3}))
    with pytest.raises(runs.DamagedRun, match=r"metrics.json\['status'\] is 3, not a string"):
        runs.load_run(t1_run)


@pytest.mark.parametrize("name", ["metrics.json", "config.json"])
def test_a_damaged_interrupted_run_is_not_resumed(name):
    """A resume reads config.json and metrics.json too: a damaged run is left alone and a new one starts."""
    with pytest.raises(KeyboardInterrupt):
        with runs.start_run("x1", {"lr": 0.1}) as interrupted:
            raise KeyboardInterrupt
    (interrupted.path / name).write_text("[]")
    with runs.start_run("x1", {"lr": 0.1}) as run:
        pass
    assert run.path != interrupted.path


def test_every_fixture_run_passes_the_schema():
    paths = [p for p in sorted(FIXTURES.glob("*/*")) if p.is_dir()]
    assert len(paths) >= 38
    for path in paths:
        record = runs.load_run(path)
        assert record is not None and record.tables, path


def test_history_csv_with_a_bad_cell_is_one_error(t1_run):
    (t1_run / "history.csv").write_text("epoch,loss\n0,0.5\n1,oops\n")
    with pytest.raises(runs.DamagedRun, match=r"history.csv line 3: 'loss' is 'oops' \(a string\), not a number"):
        runs.load_run(t1_run).history()


def test_schema_messages():
    assert runs.mismatch({"a": [{"b": 1.5}]}, {"a": [{"b": runs.NUMBER}]}, "f") is None
    assert (runs.mismatch({"a": [{"b": True}]}, {"a": [{"b": runs.NUMBER}]}, "f")
            == "f['a'][0]['b'] is true, not a number")                  # true is no number, though Python says so
    assert runs.mismatch(2, (*runs.NUMBER, runs.NULL), "f") is None
    assert runs.mismatch("2", (*runs.NUMBER, runs.NULL), "f") == "f is '2' (a string), not a number or null"
    assert runs.mismatch({}, {"a?": int}, "f") is None
    assert runs.mismatch({"a": None}, {"a?": int}, "f") == "f['a'] is null, not an integer"
    assert runs.mismatch({"a": None}, {"a": (int, type(None))}, "f") is None
    assert runs.mismatch("x" * 100, int, "f").startswith("f is 'xxxxxxxx")


# ----------------------------------------------------------------------------- a task reading a damaged prerequisite


PREREQUISITE_DAMAGE = {**DAMAGE, "table-field-not-a-number": (
    "tables/rows.json", lambda run: edit_json(run / "tables" / "rows.json", lambda rows: [rows[0], {"a": "two"}]),
    "tables/rows.json[1]['a'] is 'two' (a string), not a number")}


@pytest.mark.parametrize("case", PREREQUISITE_DAMAGE, ids=list(PREREQUISITE_DAMAGE))
def test_a_damaged_prerequisite_stops_the_task_before_it_trains(case, t1_run, runs_dir, capsys):
    name, damage, problem = PREREQUISITE_DAMAGE[case]
    damage(t1_run)
    one_line_exit_2(capsys, lambda: cli.task_main("schematasks.t2", []),
                    "error: task t2 reads", f"{t1_run}/{name}", problem, "`python -m schematasks.t1`")
    import schematasks.t2
    assert schematasks.t2.TRAINED == [] and not (runs_dir / "t2").exists()


def test_a_missing_table_of_a_prerequisite_stops_the_task_before_it_trains(t1_run, runs_dir, capsys):
    (t1_run / "tables" / "rows.json").unlink()
    one_line_exit_2(capsys, lambda: cli.task_main("schematasks.t2", []), "lacks tables/rows.json")
    assert not (runs_dir / "t2").exists()


def test_prerequisite_model_of_the_wrong_shape(t1_run, capsys):
    one_line_exit_2(capsys, lambda: cli.task_main("schematasks.t3", []),
                    f"{t1_run}", "models/m.keras", "takes (3,) and gives (2,)", "needs (4,) -> (2,)",
                    "`python -m schematasks.t1`")
    record = runs.latest_run("t1")
    assert runs.load_model(record, "m.keras", shapes=((3,), (2,))).output_shape == (None, 2)


# ----------------------------------------------------------------------------- the real tasks that read other runs

DEPENDENT = ["b8", "c2", "c3", "c4", "c7", "c8", "c10", "e3", "e5"]


def copy_fixture_runs(runs_dir: Path, *tasks: str) -> dict[str, Path]:
    """The fixture runs of ``tasks`` under ``runs_dir``; e1/e2 get stand-ins for the models they do not ship."""
    out = {}
    for task in tasks:
        [src] = (FIXTURES / task).iterdir()
        out[task] = shutil.copytree(src, runs_dir / task / src.name)
    for task, names in {"e1": ("e1_encoder", "e1_decoder"), "e2": ("e2_encoder",)}.items():
        for name in names if task in out else ():
            (out[task] / "models").mkdir(exist_ok=True)
            (out[task] / "models" / f"{name}.keras").write_bytes(b"stand-in")
    return out


@pytest.mark.parametrize("task", DEPENDENT)
def test_real_dependent_tasks_check_their_prerequisites_up_front(task, runs_dir):
    info = hwkit_task.task_info(task)
    assert info.requires and set(info.needs) == set(info.requires)
    prerequisites = copy_fixture_runs(runs_dir, *info.requires)
    cli.check_requirements(info, quick=True)                        # the fixture runs pass
    for source, needs in info.needs.items():
        for name, schema in needs.items():
            if schema is None:
                continue
            path = prerequisites[source] / name
            saved = path.read_text()
            path.write_text(saved[: len(saved) // 2])
            with pytest.raises(HwkitError, match=rf"task {task} reads .*{name} is not valid JSON.*"
                                                 rf"run `python -m tasks.{source} --quick`"):
                cli.check_requirements(info, quick=True)
            path.write_text(saved)


def test_c4_stops_before_training_on_a_non_numeric_c1_accuracy(runs_dir, capsys):
    c1 = copy_fixture_runs(runs_dir, "c1")["c1"]
    edit_json(c1 / "tables" / "summary.json", lambda rows: [{**rows[0], "final_test_accuracy": "n/a"}, *rows[1:]])
    one_line_exit_2(capsys, lambda: cli.task_main("tasks.c4", ["--quick"]),
                    "error: task c4 reads", "summary.json[0]['final_test_accuracy'] is 'n/a' (a string), not a number")
    assert not (runs_dir / "c4").exists()


def test_e3_with_an_e1_encoder_of_the_wrong_shape(runs_dir, capsys, data_dir, monkeypatch):
    import keras
    monkeypatch.setenv("HWKIT_DATA_DIR", str(data_dir))
    prerequisites = copy_fixture_runs(runs_dir, "e1", "e2")
    wrong = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(16)])
    for run, name in ((prerequisites["e1"], "e1_encoder"), (prerequisites["e2"], "e2_encoder")):
        wrong.save(run / "models" / f"{name}.keras")
    keras.Sequential([keras.Input((12,)), keras.layers.Dense(784), keras.layers.Reshape((28, 28, 1))]).save(
        prerequisites["e1"] / "models" / "e1_decoder.keras")
    one_line_exit_2(capsys, lambda: cli.task_main("tasks.e3", ["--quick"]),
                    f"{prerequisites['e1']}", "e1_encoder.keras takes (28, 28, 1) and gives (16,)",
                    "needs (28, 28, 1) -> (12,)", "`python -m tasks.e1 --quick`")
    assert runs.latest_run("e3", include_quick=True) is None
