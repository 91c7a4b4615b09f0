"""Run records, golden texts and PDFs name no folder of the machine that made them (issue 21, item 5c).

A run directory travels (fixtures, hand-ins): ``/root/...``, ``/work/...`` or ``C:\\...`` in it says where one
machine kept things and nothing useful to the next. Run records write paths with ``hwkit.files.portable_path``.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hwkit import data, runs
from hwkit.files import OUTSIDE, is_machine_path, portable_path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"
GOLDEN = ROOT / "tests" / "fixtures" / "golden"

# A folder of some machine: the usual top-level folders of Linux and macOS, a Windows drive or share.
MACHINE_PATH = re.compile(r"(?<![\w.~$>-])/(?:root|work|tmp|home|Users|usr|opt|var|private|mnt|srv|scratch|nix)/"
                          r"|(?<![\w])[A-Za-z]:\\|\\\\\\\\[\w.-]+\\")


def machine_paths(text: str) -> list[str]:
    """Each line of ``text`` holding a machine path, cut short."""
    return [line.strip()[:160] for line in text.splitlines() if MACHINE_PATH.search(line)]


# ----------------------------------------------------------------------------- the pure helper

def test_portable_path_names_each_place_by_the_root_that_holds_it():
    roots = dict(project_root="/w/proj", data_dir="/data/sets", home="/home/me", runs_dir="/scratch/runs")
    assert portable_path("/w/proj/tasks/b3.py", **roots) == "tasks/b3.py"
    assert portable_path("/w/proj", **roots) == "."
    assert portable_path("/data/sets/mnist/t10k-labels-idx1-ubyte.gz", **roots) == \
        "$HWKIT_DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz"
    assert portable_path("/data/sets", **roots) == "$HWKIT_DATA_DIR"
    assert portable_path("/scratch/runs/c1/20261129T163119Z-s0", **roots) == "$HWKIT_RUNS_DIR/c1/20261129T163119Z-s0"
    assert portable_path("/home/me/.pyenv/lib/pytest/__main__.py", **roots) == "~/.pyenv/lib/pytest/__main__.py"
    assert portable_path("/usr/lib/python3/x.py", **roots) == f"{OUTSIDE}/x.py"
    assert portable_path("C:\\Users\\me\\data\\mnist.npz", **roots) == f"{OUTSIDE}/mnist.npz"
    assert portable_path("/w/proj/../other/f.csv", **roots) == f"{OUTSIDE}/f.csv"   # normalised first
    assert portable_path("/w/projection/f.csv", **roots) == f"{OUTSIDE}/f.csv"      # a prefix is not a parent


def test_the_project_wins_over_home_and_missing_or_odd_roots_are_ignored():
    assert portable_path("/home/me/proj/data/x.csv", "/home/me/proj", home="/home/me") == "data/x.csv"
    assert portable_path("/home/me/proj/data/x.csv", "/home/me/proj", data_dir="/home/me/proj/data") == "data/x.csv"
    assert portable_path("/a/b/x.csv", "/", data_dir="relative/dir") == f"{OUTSIDE}/x.csv"


def test_what_is_not_an_absolute_path_is_kept_as_it_is():
    for text in ["tasks/d1.py", "-m", "--seed", "/device:CPU:0", "/job:worker/replica:0/task:0/device:GPU:0",
                 "1/2", "/2", "a line\n/with/newline", ""]:
        assert portable_path(text, "/w/proj") == text
        assert not is_machine_path(text) or "\n" in text
    assert is_machine_path("/tmp/x") and is_machine_path("C:\\x") and is_machine_path("\\\\host\\share")


def test_a_record_made_portable_keeps_devices_words_and_numbers():
    roots = {"project_root": Path("/w/proj"), "data_dir": Path("/data/sets"), "runs_dir": None,
             "home": Path("/home/me")}
    record = {"devices": ["/device:CPU:0"], "n": 3, "ok": True, "none": None, "note": "read /w/proj/x in a sentence",
              "files": [{"path": "/data/sets/mnist/a.gz", "sha256": "0" * 64}], "out": "--out=/w/proj/reports",
              "where": Path("/w/proj/runs")}
    assert runs.portable(record, roots) == {
        "devices": ["/device:CPU:0"], "n": 3, "ok": True, "none": None, "note": "read /w/proj/x in a sentence",
        "files": [{"path": "$HWKIT_DATA_DIR/mnist/a.gz", "sha256": "0" * 64}], "out": "--out=reports",
        "where": "runs"}
    assert runs.portable_command("/home/me/.venv/bin/x.py --data-dir /data/sets -q", roots) == \
        "'~/.venv/bin/x.py' --data-dir '$HWKIT_DATA_DIR' -q"
    assert runs.portable_command("python -m tasks.d1 --quick", roots) == "python -m tasks.d1 --quick"


def test_machine_path_pattern_finds_the_paths_of_todays_fixtures_and_not_device_names():
    assert machine_paths('"argv": ["/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/pytest/__main__.py"]')
    assert machine_paths("input=/work/clean-check/tasks/examples/ d4_example.json;")
    assert machine_paths('"path": "C:\\\\Users\\\\me\\\\x"') and machine_paths("C:\\Users\\me")
    assert not machine_paths('"devices": ["/device:CPU:0"], "x": "$HWKIT_DATA_DIR/mnist/a.gz", "y": "~/work/x"')
    assert not machine_paths("tests/fixtures/runs/tmp/work/x and <outside the project>/x.py")


# ----------------------------------------------------------------------------- what a run writes

def test_a_new_run_records_no_machine_path(tmp_path, monkeypatch, data_dir, runs_dir):
    """A run started outside the project, reading the real data, logging and tabling paths of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HWKIT_DATA_DIR", str(data_dir))
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "tool.py"), "--data-dir", str(data_dir), f"--out={tmp_path}/x"])
    config = {"data_dir": str(data_dir), "out": str(tmp_path / "reports")}
    with runs.start_run("pp", config, code_module="hwkit.files") as run:
        data.read_idx(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
        run.log(source_run=str(runs_dir / "other" / "20261129T163119Z-s0"), devices=["/device:CPU:0"])
        run.save_table("inputs", [{"file": str(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")}])
        run.save_json("input.json", {"path": str(tmp_path / "example.json")})
    record = runs.latest_run("pp")
    assert json.loads((record.path / "input.json").read_text()) == {"path": f"{OUTSIDE}/example.json"}
    for name in ("config.json", "env.json", "metrics.json", "tables/inputs.json", "input.json"):
        text = (record.path / name).read_text()
        assert str(tmp_path) not in text and str(data_dir) not in text and not machine_paths(text), (name, text)
    # the project is the folder holding the task's package (here hwkit's checkout), not the working directory
    assert record.config["data_dir"] == "$HWKIT_DATA_DIR" and record.config["out"] == f"{OUTSIDE}/reports"
    assert record.config["code"]["file"] == "hwkit/files.py"   # relative to the folder holding the package
    assert record.metrics["data_files"] == record.config["data_files"] == [
        {"path": "$HWKIT_DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz",
         "sha256": runs.sha256_file(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")}]
    assert record.metrics["source_run"] == "$HWKIT_RUNS_DIR/other/20261129T163119Z-s0"
    assert record.metrics["devices"] == ["/device:CPU:0"]
    assert record.table("inputs") == [{"file": "$HWKIT_DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz"}]
    assert record.env["argv"][1:] == ["--data-dir", "$HWKIT_DATA_DIR", f"--out={OUTSIDE}/x"]
    assert record.env["argv"][0] == f"{OUTSIDE}/tool.py" and record.env["cwd"] == f"{OUTSIDE}/{tmp_path.name}"
    assert not machine_paths(record.env["command"])
    # the run key is of the real settings: another data folder is another run, never resumed into this one
    assert record.config["run_key"] == runs.run_key("pp", 0, False, config)


def test_a_record_written_with_absolute_paths_still_reads_and_renders_its_command():
    env = {"argv": ["/gone/clone/tasks/d1.py", "--quick"], "cwd": "/gone/clone"}
    assert runs.recorded_command(env) == "python -m tasks.d1 --quick"


def test_a_run_directory_outside_the_working_directory_is_shown_by_its_runs_root(tmp_path, monkeypatch, runs_dir):
    with runs.start_run("pp", {}) as run:
        pass
    monkeypatch.chdir(ROOT)
    record = runs.latest_run("pp")
    assert record.relative_path == f"$HWKIT_RUNS_DIR/pp/{run.path.name}"
    assert dict(record.appendix()["rows"])["run directory"] == record.relative_path


# ----------------------------------------------------------------------------- the committed fixtures and PDFs

def _fixture_files():
    return sorted(p for p in FIXTURE_RUNS.rglob("*") if p.is_file()) + sorted(GOLDEN.glob("*.txt"))


def test_fixture_runs_and_golden_texts_name_no_machine_path():
    found = {str(p.relative_to(ROOT)): machine_paths(p.read_text(errors="replace")) for p in _fixture_files()}
    found = {k: v for k, v in found.items() if v}
    for name, lines in found.items():
        print(f"{name}: {len(lines)} line(s), first: {lines[0]}")
    assert not found, (f"{len(found)} fixture files name a folder of the machine that made them; regenerate them: "
                       "python tests/regenerate_fixtures.py <task>, then HWKIT_UPDATE_GOLDEN=1 python -m pytest "
                       "tests/test_same_numbers.py")


@pytest.mark.slow
def test_a_pdf_rendered_from_the_fixtures_names_no_machine_path(tmp_path):
    """Rendered in a subprocess from the checkout, as a user would (``HWKIT_RUNS_DIR=tests/fixtures/runs``)."""
    import os

    import pypdf
    script = "import sys; from hwkit import cli; print(cli.render_report('C', include_quick=True, out_dir=sys.argv[1]))"
    env = {**os.environ, "HWKIT_RUNS_DIR": "tests/fixtures/runs", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out.stdout.strip().splitlines()[-1]).pages)
    lines = machine_paths(text)
    print("\n".join(lines))
    assert not lines, f"C.pdf names {len(lines)} folder(s) of the machine that made its runs"


def test_each_fixture_file_is_read_by_the_scan():
    assert any(p.name == "env.json" for p in _fixture_files()) and any(p.suffix == ".txt" for p in _fixture_files())
    assert json.loads(next(p for p in _fixture_files() if p.name == "config.json").read_text())
