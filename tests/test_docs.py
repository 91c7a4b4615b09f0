"""The docs site: measured numbers come only from benchmarks/results/, the README's block is what they give,
every page is in the nav, the tutorial shows the code the architecture test runs, and the site builds."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "benchmarks"))

import assignment_results  # noqa: E402
import regeneration_time  # noqa: E402
import results  # noqa: E402
import test_suite_time  # noqa: E402


@pytest.fixture
def results_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "results"
    monkeypatch.setenv("HWKIT_RESULTS_DIR", str(d))
    return d


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


# ----------------------------------------------------------------------------- README's block = the results files

def test_readme_results_block_is_what_the_results_files_give():
    text = (ROOT / "README.md").read_text()
    assert text.count(results.BEGIN) == 1 and text.count(results.END) == 1
    assert results.readme_with_block(text) == text, "run: python benchmarks/results.py --write-readme"


def goals_entry(median_99: float) -> dict:
    rows = [{"goal": "99.0% test accuracy, 1-epoch sched.", "goal_s": 30, "repeats": 3, "median_s": median_99,
             "min_s": median_99 - 1, "max_s": median_99 + 1, "ratio": median_99 / 30, "met": median_99 <= 30},
            {"goal": "99.5% test accuracy, 4-epoch sched.", "goal_s": 90, "repeats": 3, "median_s": None,
             "min_s": 80.0, "max_s": None, "ratio": None, "met": False}]
    return {"split": "test", "goals": rows}


def test_a_readme_number_that_differs_from_its_results_file_fails_the_check(results_dir, tmp_path, monkeypatch,
                                                                             capsys):
    results.record("mnist_time_to_accuracy", goals_entry(19.2), "idle", ["--repeat", "3"])
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{results.BEGIN}\nold\n{results.END}\n\nafter\n")
    monkeypatch.setattr(results, "README", readme)
    assert results.main(["--check"]) == 1                       # stale block
    assert results.main(["--write-readme"]) == 0 and results.main(["--check"]) == 0
    text = readme.read_text()
    assert "19.2 s median of 3" in text and "idle" in text and text.endswith("after\n")
    assert "| 99.5% test accuracy (MNIST) | ≤ 40 s | not reached median of 3" in text   # a miss stays a miss
    readme.write_text(text.replace("19.2 s", "18.0 s"))        # a hand edit of a number
    assert results.main(["--check"]) == 1
    assert "--write-readme" in capsys.readouterr().err


# ----------------------------------------------------------------------------- recording

def test_record_needs_a_machine_state_and_appends_provenance(results_dir, capsys):
    assert results.record("thread_scaling", {"networks": {}}, None, []) is None
    assert not (results_dir / "thread_scaling.json").exists() and "not recorded" in capsys.readouterr().out
    for ms in (3.0, 4.0):
        results.record("thread_scaling", {"repeat": 1, "networks": {"b1": {
            "batch": 128, "ms_1_thread": 2 * ms, "ms_2_threads": ms, "speedup": 2.0}}}, "loaded", ["--repeat", "1"])
    data = json.loads((results_dir / "thread_scaling.json").read_text())
    assert [e["results"]["networks"]["b1"]["ms_2_threads"] for e in data["entries"]] == [3.0, 4.0]
    entry = data["entries"][-1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["date"]) and entry["machine_state"] == "loaded"
    assert entry["machine"]["cpus"] and entry["command"] == "python benchmarks/thread_scaling.py --repeat 1"
    assert entry["commit"] is None or re.fullmatch(r"[0-9a-f]{7,10}", entry["commit"])
    section = results.render("thread_scaling")                   # the latest entry, with its provenance
    assert "| b1 | 8 | 4 | 2.00x |" in section and "**loaded**" in section


def test_an_infinite_median_is_written_as_null_and_shown_as_not_reached(results_dir):
    results.record("cifar10_time_to_accuracy", {"split": "test", "goals": [
        {"goal": "90% test accuracy, 6-epoch sched.", "goal_s": 1200, "repeats": 1, "median_s": float("inf"),
         "min_s": float("inf"), "max_s": float("inf"), "ratio": float("inf"), "met": False}]}, "idle", [])
    assert "Infinity" not in (results_dir / "cifar10_time_to_accuracy.json").read_text()
    assert "| not reached | not reached – not reached | — | **no** |" in results.render("cifar10_time_to_accuracy")


def test_a_reduced_run_cannot_be_recorded():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-subset", type=int)
    results.add_machine_state(parser)
    results.refuse_reduced(parser, parser.parse_args(["--train-subset", "512"]), "--train-subset")   # not recorded
    with pytest.raises(SystemExit) as e:
        results.refuse_reduced(parser, parser.parse_args(["--train-subset", "512", "--machine-state", "idle"]),
                               "--train-subset")
    assert e.value.code == 2


def test_every_section_says_not_measured_and_how_when_nothing_is_recorded(results_dir):
    for name in results.SECTIONS:
        text = results.render(name)
        assert "ot measured yet — run `python " in text, name
    with pytest.raises(KeyError, match="unknown results section"):
        results.render("nope")


def test_each_benchmark_section_renders_what_its_script_records(results_dir):
    """Entries shaped as each script writes them (keys copied from the scripts' record calls)."""
    fixture = next((ROOT / "tests" / "fixtures" / "runs" / "cifar10_tricks").iterdir())
    rows = json.loads((fixture / "tables" / "tricks.json").read_text())       # what cifar10_tricks.table_rows reads
    results.record("cifar10_tricks", {"mode": "table", "epochs": 1, "seed": 0, "run": "runs/x", "rows": rows},
                   "idle", [])
    table = results.render("cifar10_tricks")
    assert f"| none: the D6 recipe | {100 * rows[0]['epoch_1']:.1f}% | {100 * rows[0]['val_accuracy_tta']:.2f}% |" \
        in table and f"| {rows[1]['effect_points']:+.1f} |" in table
    results.record("cifar10_tricks", {"mode": "steps", "settings": {"precision": "float32", "batch_size": 1024,
                                                                     "jit": False, "width": None},
                                      "seconds_per_epoch": 152.04}, "idle", ["--steps", "8"])
    assert "| float32 | 1024 | False | default | default | default | 152.0 s |" in results.render("cifar10_steps")
    results.record("numpy_vs_keras_epoch_time", {"model": 2, "lr": 5e-3, "epochs": 3, "seed": 0, "ratio": 0.5,
                                                 "numpy": {"seconds_per_epoch": 1.0, "epoch_seconds": [1, 1],
                                                           "test_accuracy": 0.95},
                                                 "keras": {"seconds_per_epoch": 2.0, "epoch_seconds": [3, 2],
                                                           "test_accuracy": 0.951}}, "loaded", [])
    assert "| numpy | 1.00 s | 95.00% |" in results.render("numpy_vs_keras_epoch_time")
    workers = {"1": {"search_s": 394, "trial_s": 45, "trials_per_hour": 55, "slowdown": 1.0, "repeats": 1},
               "2": {"search_s": 334, "trial_s": 67, "trials_per_hour": 65, "slowdown": 1.49, "repeats": 1}}
    results.record("distributed_search_scaling", {"trials": 6, "order": [1, 2], "same_trials": True,
                                                  "load_average": 1.0, "workers": workers}, "loaded", [])
    assert "| 2 | 334 s | 65 | 67.0 s | 1.49x |" in results.render("distributed_search_scaling")
    results.record("test_suite", {"suite": "fast", "seconds": 114.0, "summary": "456 passed", "command": "x"}, "idle",
                   [], script="benchmarks/test_suite_time.py")
    assert "1.9 min (456 passed)" in results.render("test_suite") and "1.9 min (" in results.readme_block()
    results.record("regeneration", {"tasks": {"d6": 1782.0, "b1": 659.0}, "sum_s": 2441.0, "wall_s": 3317.0,
                                    "not_rerun": [], "source": "log"}, "idle", [])
    assert "**55.3 min**" in results.render("regeneration") and "55.3 min (" in results.readme_block()


# ----------------------------------------------------------------------------- the recorders

def test_regeneration_times_are_read_back_from_the_report_command_output():
    log = ("=== 2 tasks ...\nlots of output\n\ntask     wall s\nb1        659.0\nd6       1782.5  "
           "(complete run found, not re-run)\nsum      2441.5\nwall     1500.0  (runs and PDFs, start to end)\n")
    got = regeneration_time.from_log(log)
    assert got == {"tasks": {"b1": 659.0, "d6": 1782.5}, "sum_s": 2441.5, "wall_s": 1500.0, "not_rerun": ["d6"]}
    with pytest.raises(SystemExit, match="no timing table"):
        regeneration_time.from_log("error: something else")


def test_regeneration_records_which_commit_made_the_runs(tmp_path):
    def run(task, name, commit, dirty=False):
        (tmp_path / task / name).mkdir(parents=True)
        (tmp_path / task / name / "env.json").write_text(json.dumps({"git": {"commit": commit, "dirty": dirty}}))
    run("a1", "r1", "a" * 40)
    run("b6", "r1", "a" * 40)
    run("b6", "r2", "b" * 40)          # a task rerun later, by newer code
    run("b7", "r1", "c" * 40, dirty=True)
    (tmp_path / "b8" / "broken").mkdir(parents=True)
    (tmp_path / "b8" / "broken" / "env.json").write_text("{not json")
    assert regeneration_time.run_commits(tmp_path) == {"a" * 10: 2, "b" * 10: 1,
                                                       "c" * 10 + " with uncommitted changes": 1}


def test_test_suite_time_reads_pytest_summary_line():
    out = "....\n456 passed, 51 deselected in 114.20s (0:01:54)\n"
    assert test_suite_time.summary(out) == "456 passed, 51 deselected"
    assert test_suite_time.summary("=== 3 failed, 2 passed in 1.0s ===") == "3 failed, 2 passed"
    assert test_suite_time.summary("nothing") == "no pytest summary line"


def test_assignment_results_come_from_the_latest_complete_full_runs(results_dir):
    from hwkit import runs
    with runs.start_run("b1", {"x": 1}, seed=0) as run:
        run.log(test_accuracy=0.9912, target_reached=True, unrelated=5)
    with runs.start_run("b2", {"x": 1}, seed=0, quick=True) as run:    # quick: never a measured result
        run.log(narrow_over_wide_error=3.0)
    assert assignment_results.main([]) == 0
    tasks = json.loads((results_dir / "assignments.json").read_text())["tasks"]
    assert list(tasks) == ["b1"] and tasks["b1"]["metrics"] == {"test_accuracy": 0.9912, "target_reached": True}
    assert tasks["b1"]["run"].endswith(runs.latest_run("b1").name)
    page = results.render("assignment:B")
    assert "| B1 | test_accuracy 0.9912; target_reached yes |" in page
    assert "| B2 | not measured yet — run `python -m tasks.b2 && python benchmarks/assignment_results.py`" in page
    assert "99.12% (`" in results.readme_block()


def test_every_task_has_key_metrics_named():
    names = {p.stem for p in (ROOT / "tasks").glob("[a-e]*.py")}
    assert set(assignment_results.KEY_METRICS) == names


# ----------------------------------------------------------------------------- no hand-typed measurements

LAB_NOTEBOOK = [re.compile(r"\b20\d\d-[01]\d-[0-3]\d\b"),       # a date
                re.compile(r"`[0-9a-f]{7,10}`"),                # a commit
                re.compile(r"\b20\d{6}T\d{6}Z"),                # a run directory's time stamp
                re.compile(r"\b\d+(\.\d+)? ?(s|ms|min) (median|per epoch|per batch|of training|in all)\b"),
                re.compile(r"\b\d+\.\d\d%")]                      # an accuracy to the hundredth: measured


def hand_typed(text: str) -> list[str]:
    return [m.group(0) for p in LAB_NOTEBOOK for m in p.finditer(text)]


def test_the_lab_notebook_patterns_catch_what_the_old_readme_had():
    old = ("Measured 2026-11-30 at `b39c9d4`, run `runs/cifar10_tricks/20261130T020630Z-s0`: **99.0% in 19.2 s** "
           "median; bfloat16 114 s per epoch; **90.71% test accuracy**, 1006 s in all")
    assert len(hand_typed(old)) == 6
    assert not hand_typed("goal: 99.0% in <= 30 s with a 1-epoch schedule; batch 1024, 6 epochs")


def test_no_page_and_no_readme_line_outside_the_generated_block_holds_a_measurement():
    readme = (ROOT / "README.md").read_text()
    outside = readme[:readme.index(results.BEGIN)] + readme[readme.index(results.END):]
    found = {"README.md": hand_typed(outside), **{str(p.relative_to(ROOT)): hand_typed(p.read_text()) for p in pages()}}
    hits = {k: v for k, v in found.items() if v}
    assert not hits, f"measured numbers go in benchmarks/results/ (docs/benchmarks.md): {hits}"


def test_every_results_marker_names_a_section_and_every_assignment_page_has_its_own():
    for page in pages():
        for name in results.MARKER.findall(page.read_text()):
            assert name in results.SECTIONS, f"{page}: unknown <!-- results:{name} -->"
    for letter in "ABCDE":
        assert f"<!-- results:assignment:{letter} -->" in (DOCS / "assignments" / f"{letter.lower()}.md").read_text()


# ----------------------------------------------------------------------------- the site

def nav_pages() -> list[str]:
    return re.findall(r":\s*\"?([\w/.-]+\.md)\"?\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists_or_is_generated():
    nav = nav_pages()
    on_disk = {str(p.relative_to(DOCS)) for p in pages()}
    assert on_disk - set(nav) == set(), "pages missing from mkdocs.yml's nav"
    assert set(nav) - on_disk == {"reference.md"}     # written at build time by docs/gen_reference.py
    config = (ROOT / "mkdocs.yml").read_text()
    assert "- docs/gen_reference.py" in config and "- docs/gen_results.py" in config and "strict: true" in config


def test_the_tutorial_shows_the_code_the_architecture_test_runs():
    from test_architecture import F1, F2
    tutorial = (DOCS / "add-a-task.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", tutorial, re.S)
    assert F1.strip("\n") + "\n" in blocks and F2.strip("\n") + "\n" in blocks


@pytest.mark.slow
def test_the_site_builds_strictly_with_generated_results_and_reference(tmp_path):
    pytest.importorskip("mkdocs_gen_files", reason="pip install -e '.[docs]'")
    mkdocs = shutil.which("mkdocs")
    assert mkdocs, "mkdocs not on PATH"
    site = tmp_path / "site"
    done = subprocess.run([mkdocs, "build", "--strict", "-q", "-d", str(site)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"})
    assert done.returncode == 0, done.stderr[-3000:]
    page = (site / "assignments" / "d" / "index.html").read_text()
    assert "Latest measured results" in page and "<table>" in page and "tasks.d6" in page
    assert "usage: hwkit report" in (site / "reference" / "index.html").read_text()
    assert not list(site.rglob("gen_*.py"))
