"""Provenance of a run: the fingerprint of all its code, stale runs found and refused, the code and the
console output kept (issue 22, items 1 and 2). A toy task package: v1 imports a science module of its
own (``science.py``), v2 does not."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from conftest import install_task_package

from hwkit import cli, runs, sources

ROOT = Path(__file__).resolve().parents[1]

SCIENCE = '''
"""The science v1 uses."""
FACTOR = 2


def answer():
    return 21 * FACTOR
'''

V1 = '''
"""V1: a toy task whose science lives in another module."""
import sys

from hwkit.cli import task_main
from provtasks import science


def run(args, run):
    print("v1 says hello on stdout")
    print("v1 warns on stderr", file=sys.stderr)
    if args.crash:
        raise RuntimeError("v1 crashed on purpose")
    run.log(answer=science.answer())


def add_arguments(parser):
    parser.add_argument("--crash", action="store_true")


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''

V2 = '''
"""V2: a toy task that imports no science."""
from hwkit.cli import task_main


def run(args, run):
    run.log(answer=1)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch, runs_dir):
    package = install_task_package(tmp_path, monkeypatch, "provtasks", {"V": "provenance"},
                                   {"science": SCIENCE, "v1": V1, "v2": V2})
    monkeypatch.chdir(tmp_path)   # runs made outside any git checkout: never dirty unless a test makes them so
    return package


def run_tasks(*names: str) -> None:
    for name in names:
        assert cli.task_main(f"provtasks.{name}", []) == 0


def edit_science(package, monkeypatch) -> None:
    """Change the science v1 imports, as a later process would see it (no module of the package loaded yet)."""
    package.joinpath("science.py").write_text(SCIENCE.replace("FACTOR = 2", "FACTOR = 3"))
    for loaded in [m for m in sys.modules if m.split(".")[0] == "provtasks"]:
        monkeypatch.delitem(sys.modules, loaded)


def run_dirs(runs_dir, task: str) -> list:
    return sorted(p for p in (runs_dir / task).iterdir() if p.is_dir())


def test_fingerprint_covers_imported_modules_and_an_edit_of_one_marks_the_run_stale(toy, monkeypatch, tmp_path):
    run_tasks("v1", "v2")
    record = runs.latest_run("v1")
    files = record.config["code"]["files"]
    assert {"provtasks/__init__.py", "provtasks/v1.py", "provtasks/science.py", "hwkit/__init__.py",
            "hwkit/cli.py", "hwkit/runs.py"} <= set(files)
    assert ("provtasks/v2.py" not in files
            and "provtasks/science.py" not in runs.latest_run("v2").config["code"]["files"])
    assert files["provtasks/science.py"] == hashlib.sha256(toy.joinpath("science.py").read_bytes()).hexdigest()
    assert files == sources.keep(["provtasks.v1"], tmp_path / "elsewhere")
    # what submit ships, less the modules that only read finished runs (an edit of the PDF layout stales nothing)
    assert set(files) == set(sources.module_files(["provtasks.v1"])) - {"hwkit/report.py", "hwkit/submit.py",
                                                                         "hwkit/regenerate.py", "hwkit/typeset.py"}
    assert not record.stale and record.changed_files == []

    edit_science(toy, monkeypatch)
    v1, v2 = runs.latest_run("v1"), runs.latest_run("v2")
    assert v1.stale and v1.changed_files == ["provtasks/science.py"]
    assert not v2.stale                                    # v2 does not import the science
    pdf = cli.render_report("V", out_dir=tmp_path / "reports")
    text = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages).split())
    assert text.count("made by older code: provtasks/science.py changed since this run — rerun it") == 1
    assert "changed since this run: provtasks/science.py" in text        # the appendix says it too


def test_report_run_lists_stale_tasks_and_reruns_them_only_with_rerun_stale(toy, monkeypatch, runs_dir, capsys,
                                                                           tmp_path):
    run_tasks("v1", "v2")
    edit_science(toy, monkeypatch)
    capsys.readouterr()
    out = ["--out-dir", str(tmp_path / "reports"), "--jobs", "1"]
    assert cli.report_main(["V", "--run", *out]) == 0
    listed = capsys.readouterr().out
    assert "stale: v1's run" in listed and "(provtasks/science.py changed since)" in listed
    assert "--rerun-stale runs it again" in listed and "stale: v2" not in listed
    assert len(run_dirs(runs_dir, "v1")) == 1                # listed, not rerun

    assert cli.report_main(["V", "--run", "--rerun-stale", *out]) == 0
    assert "stale: v1's run" in capsys.readouterr().out
    assert len(run_dirs(runs_dir, "v1")) == 2 and len(run_dirs(runs_dir, "v2")) == 1
    rerun = runs.latest_run("v1")
    assert not rerun.stale and rerun.metrics["answer"] == 63    # made by the edited science


def one_error_line(capsys, argv) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli.submit_main(argv)
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def test_submit_refuses_stale_runs_unless_allow_stale(toy, monkeypatch, tmp_path, capsys):
    run_tasks("v1", "v2")
    edit_science(toy, monkeypatch)
    out = tmp_path / "submissions"
    err = one_error_line(capsys, ["V", "--out-dir", str(out)])
    assert "v1 made by older code (provtasks/science.py changed since)" in err and "`python -m provtasks.v1`" in err
    assert "v2" not in err and "--allow-stale" in err and not (out / "V").exists()

    assert cli.submit_main(["V", "--out-dir", str(out), "--allow-stale"]) == 0
    readme = (out / "V" / "README.md").read_text()
    assert readme.startswith("**Built with --allow-stale: the code in this bundle did not make every run — "
                             "v1: made by older code (provtasks/science.py changed since).**")


def git(cwd, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_dirty_tree_run_reads_back_its_sources_and_submit_refuses_it(toy, monkeypatch, runs_dir, tmp_path,
                                                                     capsys):
    checkout = toy.parent
    git(checkout, "init", "-q")
    git(checkout, "add", ".")
    git(checkout, "commit", "-q", "-m", "toy")
    edit_science(toy, monkeypatch)                           # uncommitted
    made_from = {name: path.read_bytes() for name, path in sources.fingerprint_files(["provtasks.v1"]).items()}
    run_tasks("v1", "v2")
    record = runs.latest_run("v1")
    assert record.dirty and record.env["git"]["diff_sha256"]
    toy.joinpath("science.py").write_text("FACTOR = 4\n")     # the working tree moves on

    kept = record.sources()
    assert kept == made_from and b"FACTOR = 3" in kept["provtasks/science.py"]
    store = runs_dir / sources.SOURCES_DIR
    assert {p.name for p in store.iterdir()} == set(record.config["code"]["files"].values()) | set(
        runs.latest_run("v2").config["code"]["files"].values())   # one copy per distinct file, named by its hash
    assert runs.latest_run("_sources") is None and runs.latest_run("v1").path == record.path

    err = one_error_line(capsys, ["V", "--out-dir", str(tmp_path / "submissions")])
    assert "v1 made by older code (provtasks/science.py changed since), made from a dirty tree" in err
    assert "v2 made from a dirty tree (uncommitted changes)" in err


def test_output_log_holds_what_the_task_printed(toy, capsys):
    run_tasks("v1")
    log = (runs.latest_run("v1").path / runs.OUTPUT_LOG).read_text()
    assert "v1 says hello on stdout\n" in log and "v1 warns on stderr\n" in log
    terminal = capsys.readouterr()
    assert "v1 says hello on stdout" in terminal.out and "v1 warns on stderr" in terminal.err   # still shown

    with pytest.raises(RuntimeError):
        cli.task_main("provtasks.v1", ["--crash"])
    [failed] = [p for p in run_dirs(runs.runs_root(), "v1")
                if json.loads((p / "metrics.json").read_text())["status"] == "failed"]
    log = (failed / runs.OUTPUT_LOG).read_text()
    assert "v1 says hello on stdout" in log and "RuntimeError: v1 crashed on purpose" in log and "Traceback" in log


def test_output_log_survives_kill_9(toy, runs_dir):
    """Line by line: what was printed before the process was killed outright is in the log."""
    script = ("import os, signal\nfrom hwkit import runs\nwith runs.start_run('k1', {}) as run:\n"
              "    print('before the kill')\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]
    [path] = run_dirs(runs_dir, "k1")
    assert (path / runs.OUTPUT_LOG).read_text() == "before the kill\n"


def test_an_edit_of_code_that_only_reads_runs_leaves_runs_current(toy, monkeypatch, tmp_path):
    """The report, submit and scheduling modules take no part in making a run: editing them marks no run stale,
    while an edit of the run machinery does (both seen through a copy of hwkit, so the checkout stays as it is)."""
    import shutil
    hwkit_copy = tmp_path / "hwkit-copy"
    shutil.copytree(ROOT / "hwkit", hwkit_copy / "hwkit")
    run_tasks("v1")
    record = runs.latest_run("v1")
    assert "hwkit/report.py" not in record.config["code"]["files"] and "hwkit/runs.py" in record.config["code"]["files"]
    real_root = sources.package_root
    monkeypatch.setattr(sources, "package_root", lambda top: hwkit_copy if top == "hwkit" else real_root(top))
    assert not runs.latest_run("v1").stale   # the copy is the same code
    for name in ("report.py", "submit.py", "regenerate.py"):
        with (hwkit_copy / "hwkit" / name).open("a") as f:
            f.write("\n# a layout edit\n")
    assert not runs.latest_run("v1").stale
    with (hwkit_copy / "hwkit" / "training.py").open("a") as f:
        f.write("\n# an edit of code that makes runs\n")
    assert runs.latest_run("v1").changed_files == ["hwkit/training.py"]
