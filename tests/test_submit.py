"""python -m hwkit.submit: bundles as each course names its files, refusals, and a bundle that works unpacked."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hwkit import cli, runs, submit

ROOT = Path(__file__).resolve().parents[1]


def test_authors_are_parsed_or_refused():
    assert submit.parse_author("Ada King-Lovelace <al_1>") == submit.Author("Ada King-Lovelace", "al_1")
    for bad in ("Ada", "<al1>", "Ada <a l>", "Ada <al1> x"):
        with pytest.raises(submit.HwkitError, match="Full Name <id>"):
            submit.parse_author(bad)


def test_code_files_follow_imports_and_keep_packages_importable():
    files = {p.relative_to(ROOT).as_posix() for p in submit.code_files(["tasks.d5"])}
    assert {"tasks/__init__.py", "tasks/d5.py", "hwkit/__init__.py", "hwkit/cli.py",
            "hwkit/numpy_nn/__init__.py", "hwkit/numpy_nn/layers.py"} <= files
    assert "hwkit/assignments/d_cifar.py" not in files and not any(f.startswith("tasks/e") for f in files)
    d6 = {p.relative_to(ROOT).as_posix() for p in submit.code_files(["tasks.d6"])}
    assert {"hwkit/assignments/__init__.py", "hwkit/assignments/d_cifar.py", "hwkit/models.py"} <= d6


def _fake_run(task, quick, files=()):
    with runs.start_run(task, {}, quick=quick) as run:
        for name in files:
            run.file(*name.split("/")).write_bytes(b"x")
    return run


def test_refuses_with_one_line_naming_every_missing_run(runs_dir, capsys):
    _fake_run("d5", quick=True)
    with pytest.raises(SystemExit) as e:
        cli.submit_main(["D", "--out-dir", str(runs_dir / "out")])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "d5 (only quick runs: `python -m tasks.d5`)" in err and "d6 (no run: `python -m tasks.d6`)" in err
    assert "d1 (no run" in err and not (runs_dir / "out" / "D").exists()


def test_e_needs_two_authors(runs_dir, capsys):
    with pytest.raises(SystemExit):
        cli.submit_main(["E", "--authors", "A B <ab1>", "--out-dir", str(runs_dir / "out")])
    assert "2 authors" in capsys.readouterr().err


@pytest.mark.slow
def test_d_bundle_from_quick_runs_unpacks_imports_and_loads(run_task, runs_dir, tmp_path, capsys):
    for t in ("d1", "d2", "d3", "d4", "d5", "d6"):
        run_task(t, "--quick")
    out = tmp_path / "submissions"
    # --allow-stale: the checkout running the tests may have uncommitted changes (tests/test_provenance.py checks it)
    assert cli.submit_main(["D", "--include-quick", "--allow-stale", "--out-dir", str(out),
                            "--authors", "Ada L <al1>"]) == 0
    bundle = out / "D"
    names = {p.name for p in bundle.iterdir()}
    assert {"p1_report.pdf", "p2_report.pdf", "theory_report.pdf", "p1.py", "p2.py", "p1_model.npz",
            "p2_model.keras", "README.md", "tasks", "hwkit"} <= names
    readme = (bundle / "README.md").read_text()
    assert readme.startswith("**TRIAL BUNDLE — NOT FOR HAND-IN") and "p2_model.pkl" in readme and "al1" in readme
    assert not list(out.glob(".D.*")), "the temporary build folder is gone"

    # Unpacked elsewhere, with no access to the checkout: the code imports and the models load.
    fresh = tmp_path / "fresh"
    shutil.copytree(bundle, fresh)
    check = """
import sys, numpy as np
import p1
assert "tensorflow" not in sys.modules, "problem 1 is numpy only"
mlp = p1.nn.MLP.load("p1_model.npz")
assert mlp.forward(np.zeros((2, 784))).shape == (2, 10)
import keras, p2
model = keras.saving.load_model("p2_model.keras", safe_mode=True)
assert model.output_shape[-1] == 10
assert all(m.__file__.startswith(sys.argv[1]) for n, m in sys.modules.items()
           if n.split(".")[0] in ("hwkit", "tasks") and getattr(m, "__file__", None))
print("ok")
"""
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", check, str(fresh)], cwd=fresh, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]

    # The per-problem PDFs hold only their problem's sections, and each has the appendix.
    import pypdf
    p1_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(bundle / "p1_report.pdf").pages)
    assert "D5" in p1_text and "D6 —" not in p1_text and "Runs behind this report" in p1_text


@pytest.mark.slow
def test_e_bundle_is_one_zip_named_after_the_authors(run_task, tmp_path):
    for t in ("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"):
        run_task(t, "--quick")
    out = tmp_path / "submissions"
    assert cli.submit_main(["E", "--include-quick", "--allow-stale", "--out-dir", str(out),   # as in D's test
                            "--authors", "A B <ab1>", "C D <cd2>"]) == 0
    assert [p.name for p in (out / "E").iterdir()] == ["ex2_ab1_cd2.zip"]
    with zipfile.ZipFile(out / "E" / "ex2_ab1_cd2.zip") as z:
        names = set(z.namelist())
        readme = z.read("README.md").decode()
        z.extractall(tmp_path / "fresh")
    assert {"ex2.pdf", "README.md", "tasks/e1.py", "tasks/e8.py", "hwkit/assignments/e_autoencoders.py"} <= names
    assert "| A B | ab1 |" in readme and "| C D | cd2 |" in readme
    code = "import tasks.e1, tasks.e8, hwkit.assignments.e_transfer; print('ok')"
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "fresh", env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]
