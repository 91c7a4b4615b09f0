"""Shared fixtures: the real datasets (never copied), an isolated runs root, tasks run in-process."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hwkit import runs


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real MNIST / CIFAR-10 folder ($HWKIT_DATA_DIR, else ../shared/datasets beside the repo)."""
    d = Path(os.environ.get("HWKIT_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
    d = d.resolve()  # tests may chdir; a relative $HWKIT_DATA_DIR must keep pointing at the data
    if not (d / "mnist").is_dir():
        pytest.fail(f"real datasets not found at {d}: set HWKIT_DATA_DIR")
    return d


@pytest.fixture(scope="session")
def mnist_csv_dir(tmp_path_factory, data_dir) -> Path:
    """mnist_train.csv / mnist_test.csv written once per session by the converter command."""
    from hwkit import cli
    out = tmp_path_factory.mktemp("mnist-csv")
    assert cli.data_main(["export-csv", "--out", str(out), "--data-dir", str(data_dir)]) == 0
    return out


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch) -> Path:
    """Each test writes its runs under its own temporary folder."""
    d = tmp_path / "runs"
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(d))
    return d


@pytest.fixture
def run_task():
    """Run ``python -m tasks.<name> <argv...>`` in-process; return the completed RunRecord."""
    import keras

    from hwkit.cli import task_main

    def _run(name: str, *argv: str) -> runs.RunRecord:
        keras.backend.clear_session()
        assert task_main(f"tasks.{name}", list(argv)) == 0
        record = runs.latest_run(name, include_quick=True)
        assert record is not None, f"no completed run of {name}"
        return record

    return _run


def pytest_configure(config):
    # Every figure a test saves (the quick runs of every task included) must keep the house style.
    os.environ.setdefault("HWKIT_STRICT_FIGURES", "1")
    config.addinivalue_line("markers", "slow: end-to-end runs of tasks (quick mode, real data) and rendered PDFs; "
                                       "deselect with -m 'not slow'")
    # Tests may chdir: a relative $HWKIT_DATA_DIR (README's ../shared/datasets) must keep its target.
    if os.environ.get("HWKIT_DATA_DIR"):
        os.environ["HWKIT_DATA_DIR"] = str(Path(os.environ["HWKIT_DATA_DIR"]).resolve())
    # Third-party deprecation notices that say nothing about hwkit (Keras' np.array(copy=...) call,
    # WeasyPrint's future HarfBuzz-Subset requirement).
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword")
    config.addinivalue_line("filterwarnings", "ignore:HarfBuzz-Subset will be required")
    # KerasTuner's @synchronized (used by hwkit's oracle) calls threading.currentThread().getName().
    config.addinivalue_line("filterwarnings", "ignore:currentThread\\(\\) is deprecated")
    config.addinivalue_line("filterwarnings", "ignore:getName\\(\\) is deprecated")


# Module fixtures that run whole tasks in quick mode: every test that reads their runs is end to end.
END_TO_END_FIXTURES = {"b_runs", "b1_quick"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def install_task_package(tmp_path: Path, monkeypatch, name: str, assignments: dict, modules: dict) -> Path:
    """Write a throw-away task package (``HWKIT_TASKS=name``) with the given task modules; return its folder."""
    import sys
    import textwrap
    package = tmp_path / "pkg" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"ASSIGNMENTS = {assignments!r}\n")
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    monkeypatch.setenv("HWKIT_TASKS", name)
    for loaded in [m for m in sys.modules if m.split(".")[0] == name]:
        monkeypatch.delitem(sys.modules, loaded)   # each test imports its own copy of the package
    return package


def load_benchmark(name: str):
    """A script of ``benchmarks/`` as a module (they are scripts, not a package), for its ``main(argv)``."""
    import importlib.util
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy_checkout(dest: Path) -> Path:
    """The repository's tracked files copied to ``dest`` (a clone elsewhere, without its history)."""
    import shutil
    import subprocess
    root = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    return dest


def one_line_exit_2(capsys, call, *fragments) -> str:
    """``call()`` exits 2 with exactly one non-empty stderr line (no traceback) holding every fragment."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        call()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert e.value.code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


# --- Counterfactual renders: copy fixture runs, flip one finding's verdict, render the assignment's text. ---

FIXTURE_RUNS = Path(__file__).resolve().parent / "fixtures" / "runs"


def fixture_runs_copy(tmp_path: Path, tasks=None) -> Path:
    """The fixture runs of ``tasks`` (names like ``"b3"``; None: every task) copied to ``<tmp_path>/fixture-runs``;
    return that runs root. Edit the copies freely (``flip_finding``); the committed fixtures stay as they are."""
    import shutil
    root = tmp_path / "fixture-runs"
    for name in sorted(p.name for p in FIXTURE_RUNS.iterdir()) if tasks is None else tasks:
        if not (FIXTURE_RUNS / name).is_dir():
            raise FileNotFoundError(f"no fixture runs of task {name!r} under {FIXTURE_RUNS}")
        shutil.copytree(FIXTURE_RUNS / name, root / name, dirs_exist_ok=True)
    return root


def flip_finding(run_dir: Path, name: str, verdict: str) -> dict:
    """Set ``findings[name].verdict`` in ``run_dir/metrics.json`` (atomically) and return the new finding.
    ``run_dir`` is one run (``<root>/<task>/<run>``) or a task folder holding exactly one run."""
    import json

    from hwkit.files import atomic_file
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.json").is_file():
        inner = [d for d in run_dir.iterdir() if (d / "metrics.json").is_file()]
        if len(inner) != 1:
            raise FileNotFoundError(f"{run_dir} is not one run: {len(inner)} runs inside")
        run_dir = inner[0]
    path = run_dir / "metrics.json"
    metrics = json.loads(path.read_text())
    findings = metrics.get("findings") or {}
    if name not in findings:
        raise KeyError(f"{path} has no finding {name!r} (it has: {', '.join(findings) or 'none'}); "
                       "regenerate the fixture with python tests/regenerate_fixtures.py <task>")
    findings[name]["verdict"] = verdict
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
    return findings[name]


def render_text(letter: str, runs_dir: Path, html: bool = False) -> str:
    """Assignment ``letter``'s report rendered from the runs under ``runs_dir`` (quick runs included), as
    ``hwkit.cli.render_report`` would, but only to HTML (no PDF: fast). Returns the visible text with
    whitespace collapsed to single spaces, or the HTML itself with ``html=True``."""
    import html as html_module
    import re

    from hwkit import cli, report
    from hwkit.task import discover_tasks
    letter = letter.upper()
    previous = os.environ.get("HWKIT_RUNS_DIR")
    os.environ["HWKIT_RUNS_DIR"] = str(runs_dir)
    try:
        page = report.render_html(letter, cli.assignments()[letter], discover_tasks(letter), include_quick=True,
                                  facts=cli.report_facts(letter), benchmarks=cli.report_benchmarks())
    finally:
        if previous is None:
            del os.environ["HWKIT_RUNS_DIR"]
        else:
            os.environ["HWKIT_RUNS_DIR"] = previous
    if html:
        return page
    page = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", page)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# Untrusted-figure tests (PDF and HTML): a tiny SVG frame, a 1x1 PNG, and a run holding given files.
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">{}</svg>'
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201b2a1c5e40000000049454e44ae426082")


def toy_run(files: dict, task: str = "z1"):
    """A complete full run of ``task`` holding ``files`` (path inside the run -> text or bytes)."""
    from hwkit import runs
    with runs.start_run(task, {}) as run:
        for name, content in files.items():
            p = run.file(*name.split("/"))
            p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)
    return runs.latest_run(task)


def recorded(path) -> str:
    """``path`` as a run records it (``hwkit.files.portable_path``: ``$HWKIT_RUNS_DIR/...``, project-relative ...)."""
    from hwkit import files, runs
    return files.portable_path(Path(path).resolve(), **runs.path_roots())


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


@pytest.fixture
def secret(tmp_path) -> Path:
    """Files outside every run directory that a figure must not pull into a PDF or HTML page."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "secret.svg").write_text(SVG.format('<text x="5" y="50" font-size="20">SECRET-MARKER-26</text>'))
    (folder / "secret.png").write_bytes(PNG)
    return folder
