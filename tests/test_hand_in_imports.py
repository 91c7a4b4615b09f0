"""D's hand-in imports what the course allows: problem 1 may import only os, numpy and matplotlib.

The D bundle is built from the fixture runs (``--include-quick``), unpacked elsewhere, and its ``p1.py
--quick`` re-runs D5 in a Python where any import the bundle's own code makes of a package outside
the standard library, numpy and matplotlib raises ImportError (numpy and matplotlib may still load
their own dependencies).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"

# argv: [-c, bundle folder, script, script args...]. Runs the script as `python script args` would, with
# a meta-path finder in front that refuses, to code inside the bundle folder, every module that is not
# the standard library, numpy, matplotlib or the bundle's own; it prints what it refused at the end.
BLOCKING_PYTHON = r'''
import atexit, importlib.abc, os, runpy, sys

BUNDLE = os.path.realpath(sys.argv[1])
OWN = {os.path.splitext(n)[0] for n in os.listdir(BUNDLE)}
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "matplotlib"} | OWN
refused = []


def asked_by_the_bundle():
    """Whether the code asking for this import (importlib's own frames skipped) is a file of the bundle."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen_importlib")):
        frame = frame.f_back
    return frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(BUNDLE + os.sep)


class RefuseOtherPackages(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] not in ALLOWED and asked_by_the_bundle():
            refused.append(fullname)
            raise ImportError(f"{fullname} is not allowed here: problem 1 may import only os, numpy and matplotlib")
        return None


sys.meta_path.insert(0, RefuseOtherPackages())
atexit.register(lambda: print("refused imports:", sorted(set(refused))))
atexit.register(lambda: print("modules from outside the bundle:", sorted(
    n for n, m in list(sys.modules.items()) if n.partition(".")[0] in ("hwkit", "tasks")
    and getattr(m, "__file__", None) and not os.path.realpath(m.__file__).startswith(BUNDLE + os.sep))))
sys.argv = sys.argv[2:]
sys.path.insert(0, BUNDLE)
runpy.run_path(sys.argv[0], run_name="__main__")
'''


@pytest.fixture(scope="module")
def d_bundle(tmp_path_factory) -> Path:
    """``python -m hwkit.submit D --include-quick --allow-stale`` from a copy of the fixture runs (made by older
    code), unpacked in a fresh folder."""
    from hwkit import cli
    root = tmp_path_factory.mktemp("d-bundle")
    runs_dir = root / "runs"
    for name in ("d1", "d2", "d3", "d4", "d5", "d6", "cifar10_tricks"):
        shutil.copytree(FIXTURE_RUNS / name, runs_dir / name)
    # The fixture runs keep no models; the bundle only copies them, so stand-ins do.
    for task, model in (("d5", "p1_model.npz"), ("d6", "d6_cifar10_net.keras")):
        [run] = (runs_dir / task).iterdir()
        (run / "models").mkdir()
        (run / "models" / model).write_bytes(b"stand-in")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWKIT_RUNS_DIR", str(runs_dir))
        assert cli.submit_main(["D", "--include-quick", "--allow-stale", "--out-dir", str(root / "submissions")]) == 0
    fresh = root / "fresh"
    shutil.copytree(root / "submissions" / "D", fresh)
    return fresh


def blocked_python(bundle: Path, *argv: str, runs_dir: Path, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HWKIT_TASKS")}
    env.update(HWKIT_DATA_DIR=str(data_dir), HWKIT_RUNS_DIR=str(runs_dir), HWKIT_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", BLOCKING_PYTHON, str(bundle), *argv], cwd=bundle, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_blocking_python_refuses_what_the_bundle_may_not_import(d_bundle, tmp_path, data_dir):
    (d_bundle / "probe.py").write_text("import numpy, matplotlib.pyplot\nimport jinja2\n")
    try:
        done = blocked_python(d_bundle, "probe.py", runs_dir=tmp_path / "runs", data_dir=data_dir)
    finally:
        (d_bundle / "probe.py").unlink()
    assert done.returncode == 1 and "ImportError: jinja2 is not allowed here" in done.stderr, done.stderr[-2000:]


@pytest.mark.slow
def test_p1_quick_runs_with_only_the_standard_library_numpy_and_matplotlib(d_bundle, tmp_path, data_dir):
    runs_dir = tmp_path / "runs"
    done = blocked_python(d_bundle, "p1.py", "--quick", runs_dir=runs_dir, data_dir=data_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "run written to" in done.stdout, done.stdout[-2000:]
    lines = done.stdout.splitlines()
    # threadpoolctl (BLAS threads) is optional: asked for, refused, and the run went on without it.
    assert "refused imports: ['threadpoolctl']" in lines, lines[-5:]
    assert "modules from outside the bundle: []" in lines, lines[-5:]
    [run] = (runs_dir / "d5").iterdir()
    assert json.loads((run / "metrics.json").read_text())["status"] == "complete"
    assert (run / "models" / "p1_model.npz").is_file() and (run / "figures" / "training_plot.svg").is_file()
    env = json.loads((run / "env.json").read_text())
    assert env["tensorflow"] is None and env["numpy"]          # TensorFlow was not even imported to describe it
