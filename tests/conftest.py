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
