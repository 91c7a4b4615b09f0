"""python -m hwkit.submit: bundles as each course names its files and refusals (the bundles of real quick runs,
unpacked: tests/bundle_checks.py, called by the D and E end-to-end tests)."""
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
