"""The fixture runs were made by today's code of their tasks (issue 21, item 5c).

``tests/fixtures/runs/<task>/`` feeds the golden texts and the counterfactual tests: a fixture made by older
code shows numbers (and findings) today's code would not produce. Each fixture run's fingerprint (config.json
``code.files``, see ``hwkit.sources``) must match the files of today's checkout; the message says which
files changed and the one command that remakes the fixture.
"""
import hashlib
from pathlib import Path

import pytest

from hwkit import runs, sources
from hwkit.task import discover_tasks

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"


def fixture_problem(task: str, record: runs.RunRecord | None) -> str | None:
    """Why the fixture run of ``task`` is not the work of today's code (None: it is)."""
    remake = f"regenerate it: python tests/regenerate_fixtures.py {task}"
    if record is None:
        return f"no complete fixture run of {task} under tests/fixtures/runs/{task}; {remake}"
    files = (record.config.get("code") or {}).get("files")
    if not isinstance(files, dict) or not files:
        return (f"the fixture run {task}/{record.name} records no code fingerprint (made before runs kept one); "
                f"{remake}")
    if record.stale:
        return (f"the fixture run {task}/{record.name} was made by older code: "
                f"{runs.file_list(record.changed_files)} changed since; {remake}")
    return None


def _record(path: Path, files: dict | None) -> runs.RunRecord:
    code = {"module": "hwkit.files"} | ({"files": files} if files is not None else {})
    return runs.RunRecord(task="t1", path=path / "t1" / "20261129T162845Z-s0-quick",
                          config={"task": "t1", "code": code}, metrics={"status": "complete"}, env={})


def test_a_fixture_made_by_todays_code_passes(tmp_path):
    assert fixture_problem("t1", _record(tmp_path, sources.keep(["hwkit.files"], tmp_path / "_sources"))) is None


def test_a_fixture_made_by_older_code_names_the_files_and_the_command(tmp_path):
    files = sources.keep(["hwkit.files"], tmp_path / "_sources")
    files["hwkit/files.py"] = hashlib.sha256(b"older code").hexdigest()
    problem = fixture_problem("t1", _record(tmp_path, files))
    assert problem == ("the fixture run t1/20261129T162845Z-s0-quick was made by older code: hwkit/files.py "
                       "changed since; regenerate it: python tests/regenerate_fixtures.py t1")


def test_a_fixture_without_a_fingerprint_or_without_a_run_fails(tmp_path):
    assert "records no code fingerprint" in fixture_problem("t1", _record(tmp_path, None))
    assert "records no code fingerprint" in fixture_problem("t1", _record(tmp_path, {}))
    assert fixture_problem("t1", None) == ("no complete fixture run of t1 under tests/fixtures/runs/t1; "
                                           "regenerate it: python tests/regenerate_fixtures.py t1")


TASKS = sorted(t.name for t in discover_tasks())


def test_every_task_has_a_fixture_and_other_fixture_folders_are_benchmark_runs():
    """Benchmark runs (``REPORT_BENCHMARKS``: made by scripts of benchmarks/, not by a task module) record no
    task code, so they are left out of the fingerprint check below; nothing else may be."""
    from hwkit.cli import report_benchmarks
    folders = {p.name for p in FIXTURE_RUNS.iterdir() if p.is_dir()}
    assert set(TASKS) <= folders, f"tasks without a fixture run: {sorted(set(TASKS) - folders)}"
    benchmarks = {name for names in report_benchmarks().values() for name in names}
    others = folders - set(TASKS)
    assert others <= benchmarks, f"fixture folders of no task: {sorted(others - benchmarks)}"


@pytest.mark.parametrize("task", TASKS)
def test_fixture_run_was_made_by_todays_code(task, monkeypatch):
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(FIXTURE_RUNS))
    problem = fixture_problem(task, runs.latest_run(task, include_quick=True))
    assert problem is None, problem
