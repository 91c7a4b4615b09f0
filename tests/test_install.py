"""The package installs anywhere: installed (not editable) into a fresh virtual environment, from a built wheel
or with `pip install <checkout>`, it lists the tasks, runs a quick task and renders its PDF from an unrelated
folder."""
import os
import subprocess
import sys
import venv
from pathlib import Path

import pypdf
import pytest
from conftest import copy_checkout


def run(args, **kw):
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, args))}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("source", ["wheel", "checkout"])
def test_installed_package_in_a_fresh_venv_runs_a_task_and_renders_its_pdf(source, tmp_path, data_dir):
    package = copy_checkout(tmp_path / "checkout")   # a build writes build/ and *.egg-info beside the sources
    if source == "wheel":
        # --no-build-isolation: the build needs only setuptools, already here (no network in CI)
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(package),
             "-w", str(tmp_path / "wheels")], cwd=tmp_path)
        package, = (tmp_path / "wheels").glob("hwkit-*.whl")
    env_dir = tmp_path / "venv"
    # the heavy dependencies (TensorFlow, WeasyPrint) come from this interpreter; hwkit itself is installed
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = str(env_dir / "bin" / "python")
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-build-isolation",
         str(package)], cwd=tmp_path)

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HWKIT_RUNS_DIR")}
    env.update(HWKIT_DATA_DIR=str(data_dir), HWKIT_OFFLINE="1")
    where = run([python, "-c", "import hwkit, tasks; print(hwkit.__file__); print(tasks.__file__)"],
                cwd=work, env=env).split()
    assert all(Path(p).is_relative_to(env_dir) for p in where), f"not the installed package: {where}"
    assert "d1" in run([python, "-m", "tasks"], cwd=work, env=env)
    run([python, "-m", "tasks.d4", "--quick"], cwd=work, env=env)   # reads its packaged example input
    assert list((work / "runs" / "d4").glob("*-quick/metrics.json"))
    run([python, "-m", "hwkit.report", "D", "--include-quick"], cwd=work, env=env)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(str(work / "reports" / "D.pdf")).pages)
    assert "runs/d4/" in text
