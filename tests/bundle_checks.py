"""Hand-in bundle checks (``python -m hwkit.submit``) made on the quick runs an assignment's end-to-end test has
just written (tests/test_d.py, tests/test_e.py): the bundle is named as the course asks, and it works unpacked."""
import os
import shutil
import subprocess
import sys
import zipfile

import pypdf

from hwkit import cli


def _without_pythonpath() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def check_d_bundle(tmp_path) -> None:
    """D's folder of files: the per-problem PDFs, code and models; unpacked elsewhere, the code imports (problem 1
    with numpy only) and the models load."""
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
    done = subprocess.run([sys.executable, "-c", check, str(fresh)], cwd=fresh, env=_without_pythonpath(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]

    # The per-problem PDFs hold only their problem's sections, and each has the appendix.
    p1_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(bundle / "p1_report.pdf").pages)
    assert "D5" in p1_text and "D6 —" not in p1_text and "Runs behind this report" in p1_text


def check_e_bundle(tmp_path) -> None:
    """E's one zip named after both authors; unpacked, its code imports."""
    out = tmp_path / "submissions"
    assert cli.submit_main(["E", "--include-quick", "--allow-stale", "--out-dir", str(out),   # as in D's check
                            "--authors", "A B <ab1>", "C D <cd2>"]) == 0
    assert [p.name for p in (out / "E").iterdir()] == ["ex2_ab1_cd2.zip"]
    with zipfile.ZipFile(out / "E" / "ex2_ab1_cd2.zip") as z:
        names = set(z.namelist())
        readme = z.read("README.md").decode()
        z.extractall(tmp_path / "fresh")
    assert {"ex2.pdf", "README.md", "tasks/e1.py", "tasks/e8.py", "hwkit/assignments/e_autoencoders.py"} <= names
    assert "| A B | ab1 |" in readme and "| C D | cd2 |" in readme
    code = "import tasks.e1, tasks.e8, hwkit.assignments.e_transfer; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "fresh", env=_without_pythonpath(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]
