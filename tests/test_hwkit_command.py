"""The ``hwkit`` command: one front door over the ``python -m`` programs, the same programs behind it,
``--help`` at every level, one-line errors, and a command reference that is exactly what ``--help`` prints."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import copy_checkout, install_task_package

import hwkit
from hwkit import cli

ROOT = Path(__file__).resolve().parents[1]


def call(main, argv, capsys) -> tuple[int, str, list[str]]:
    """An entry point called as its command would be: (exit status, stdout, non-empty stderr lines)."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]


def assert_one_line_error(result, *fragments):
    code, _, lines = result
    assert code == 2 and len(lines) == 1, (code, lines)
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ----------------------------------------------------------------------------- the front door

def test_help_lists_every_command_and_its_python_m_form(capsys):
    code, out, _ = call(cli.main, ["--help"], capsys)
    assert code == 0
    for name in ("tasks", "run", "report", "submit", "data"):
        assert re.search(rf"^    {name}\s+\S", out, re.M), f"{name} not listed:\n{out}"
        assert f"hwkit {name}" in out and cli.same_as(name) in out
    assert "python -m tasks.<task>" in out and "python -m hwkit.report" in out


def test_version_is_the_package_version(capsys):
    code, out, _ = call(cli.main, ["--version"], capsys)
    assert code == 0 and out.strip() == f"hwkit {hwkit.__version__}"
    setup = (ROOT / "setup.py").read_text()
    assert re.search(r'version="([^"]+)"', setup)[1] == hwkit.__version__, "setup.py and hwkit.__version__ differ"
    assert '"hwkit = hwkit.cli:main"' in setup


BAD_COMMAND_LINES = [
    ([], ["hwkit: error:", "required: COMMAND"]),
    (["bogus"], ["hwkit: error:", "invalid choice: 'bogus'"]),
    (["--bogus"], ["hwkit: error:"]),
    (["run"], ["hwkit run: error:", "required: TASK"]),
    (["run", "zz9"], ["error: unknown task 'zz9'", "`hwkit tasks` lists the tasks"]),
    (["run", "../b1"], ["error: unknown task '../b1'"]),
    (["run", "b1", "--epochs", "0"], ["hwkit run b1: error:", "epochs in 1..10000"]),
    (["run", "b1", "--no-such-flag"], ["hwkit run b1: error:", "unrecognized arguments"]),
    (["tasks", "b1"], ["'hwkit tasks' takes no arguments", "'hwkit run <name>'"]),
    (["tasks", "--bogus"], ["hwkit tasks: error:", "unrecognized arguments"]),
    (["report", "Z"], ["hwkit report: error:", "invalid choice"]),
    (["report", "B", "--rerun-stale"], ["hwkit report: error:", "--rerun-stale goes with --run"]),
    (["submit"], ["hwkit submit: error:", "required"]),
    (["data"], ["hwkit data: error:", "required"]),
    (["data", "export-csv"], ["hwkit data export-csv: error:", "--out"]),
]


@pytest.mark.parametrize("argv, fragments", BAD_COMMAND_LINES,
                         ids=[" ".join(a) or "nothing" for a, _ in BAD_COMMAND_LINES])
def test_errors_are_one_line_with_exit_2(argv, fragments, capsys, runs_dir):
    assert_one_line_error(call(cli.main, argv, capsys), *fragments)
    assert not runs_dir.exists()   # refused before any run directory is made


def test_errors_as_python_m_hwkit_name_that_command(capsys):
    assert_one_line_error(call(lambda a: cli.main(a, prog="python -m hwkit"), ["run", "zz9"], capsys),
                          "`python -m hwkit tasks` lists the tasks")


def test_tasks_is_the_same_listing(capsys):
    code, by_hwkit, _ = call(cli.main, ["tasks"], capsys)
    code_m, by_module, _ = call(cli.tasks_main, [], capsys)
    assert code == code_m == 0
    assert by_hwkit.replace("hwkit run <name>", "python -m tasks.<name>") == by_module
    assert "Run one with: hwkit run <name> [--quick]" in by_hwkit


def test_python_m_hwkit_runs_the_dispatcher(tmp_path):
    """Process boundary: ``python -m hwkit`` (hwkit/__main__.py) is the same command, named as typed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HWKIT_OFFLINE": "1"}
    version = subprocess.run([sys.executable, "-m", "hwkit", "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"python -m hwkit {hwkit.__version__}"
    bad = subprocess.run([sys.executable, "-m", "hwkit", "run", "zz9"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: unknown task 'zz9'; `python -m hwkit tasks` lists the tasks"], bad.stderr


# ----------------------------------------------------------------------------- the same program behind it

def recording_task(monkeypatch, module) -> list:
    """Replace ``module.run`` by one that records (args, run directory) and trains nothing."""
    seen = []
    monkeypatch.setattr(module, "run", lambda args, run: seen.append((vars(args).copy(), run.path)))
    return seen


def test_hwkit_run_is_python_m_task(monkeypatch, capsys, runs_dir):
    """``hwkit run b1 --quick ...`` parses the same flags into the same settings, run key and run directory shape
    as ``python -m tasks.b1 --quick ...`` (b1's own and distribution flags included); its run is not trained here."""
    import tasks.b1
    from hwkit import runs
    seen = recording_task(monkeypatch, tasks.b1)
    flags = ["--quick", "--seed", "3", "--epochs", "2", "--trials", "2", "--fresh"]
    assert call(cli.main, ["run", "b1", *flags], capsys)[0] == 0
    assert call(lambda a: cli.task_main("tasks.b1", a), flags, capsys)[0] == 0
    (by_hwkit, dir_hwkit), (by_module, dir_module) = seen
    assert by_hwkit == by_module and by_hwkit["trials"] == 2 and by_hwkit["seed"] == 3
    assert dir_hwkit.parent == dir_module.parent == runs_dir / "b1" and dir_hwkit != dir_module
    assert re.fullmatch(r"\d{8}T\d{6}Z-s3-quick(\.\d+)?", dir_hwkit.name) and re.fullmatch(
        r"\d{8}T\d{6}Z-s3-quick(\.\d+)?", dir_module.name)
    configs = [json.loads((d / "config.json").read_text()) for d in (dir_hwkit, dir_module)]
    assert configs[0] == configs[1]
    key = [runs.run_key("b1", 3, True, c) for c in configs]
    assert key[0] == key[1]


def test_hwkit_run_resumes_the_run_python_m_left_unfinished(monkeypatch, capsys, runs_dir):
    """Same run key in practice: an interrupted ``python -m`` run is continued by ``hwkit run`` with the same flags."""
    import tasks.b1

    def interrupted(args, run):
        raise KeyboardInterrupt
    monkeypatch.setattr(tasks.b1, "run", interrupted)
    assert call(lambda a: cli.task_main("tasks.b1", a), ["--quick", "--seed", "4"], capsys)[0] == 130
    [first] = (runs_dir / "b1").iterdir()
    seen = recording_task(monkeypatch, tasks.b1)
    assert call(cli.main, ["run", "b1", "--quick", "--seed", "4"], capsys)[0] == 0
    assert [path for _, path in seen] == [first] and len(list((runs_dir / "b1").iterdir())) == 1


def test_hwkit_run_finds_tasks_of_another_package(tmp_path, monkeypatch, capsys, runs_dir):
    install_task_package(tmp_path, monkeypatch, "othertasks", {"Z": "Toy"},
                         {"z1": '"""Toy task."""\ndef run(args, run):\n    run.file("done.txt").write_text("ok")\n'})
    code, out, _ = call(cli.main, ["run", "z1", "--quick"], capsys)
    assert code == 0 and "run written to" in out
    [run] = (runs_dir / "z1").iterdir()
    assert (run / "done.txt").read_text() == "ok"
    assert "python -m othertasks.<task>" in call(cli.main, ["--help"], capsys)[1]   # the package's own name


# ----------------------------------------------------------------------------- the command reference

@pytest.fixture(scope="module")
def reference() -> str:
    return cli.command_reference()


def sections(markdown: str) -> dict[str, str]:
    """``## `command` `` -> the text of its code block."""
    return {m[1]: m[2] for m in re.finditer(r"^## `([^`]+)`\n\n```text\n(.*?)\n```$", markdown, re.M | re.S)}


def test_reference_is_what_help_prints_for_every_command(reference, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(cli.REFERENCE_COLUMNS))
    found = sections(reference)
    assert list(found) == [command for command, _ in cli.reference_parsers()]
    assert {"hwkit", "hwkit tasks", "hwkit run", "hwkit report", "hwkit submit", "hwkit data",
            "hwkit data export-csv"} <= set(found)
    for command, text in found.items():
        if "TASK" in command:
            continue   # not a command one types: checked against real tasks below
        code, out, _ = call(cli.main, [*command.split()[1:], "--help"], capsys)
        assert code == 0 and out.rstrip("\n") == text, f"{command}: the reference differs from --help"


def options_block(help_text: str) -> str:
    """The ``options:`` group of a help text, whitespace made single (its columns depend on the longest flag)."""
    lines = help_text.splitlines()
    start = lines.index("options:")
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return " ".join(" ".join(lines[start:end]).split())


@pytest.mark.parametrize("task", ["a4", "b1", "d4"])   # no flags of its own; own + distribution flags; own flags
def test_reference_common_task_flags_are_those_every_task_help_starts_with(task, reference, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(cli.REFERENCE_COLUMNS))
    common = options_block(sections(reference)["hwkit run TASK"])
    code, out, _ = call(cli.main, ["run", task, "--help"], capsys)
    assert code == 0 and options_block(out).startswith(common)
    assert "--quick" in common and common.endswith("--report render the assignment PDF afterwards")


def test_reference_lists_every_task_with_its_description_and_own_flags(reference):
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `([a-z]\d+)` \| (.*) \|$", reference, re.M)}
    tasks = cli.discover_tasks()
    assert list(rows) == [t.name for t in tasks]
    for t in tasks:
        assert t.description.replace("|", "\\|") in rows[t.name]
    assert "`--trials`" in rows["b1"] and "`--workers`" in rows["b1"] and "`--seed`" not in rows["b1"]


def test_docs_generator_writes_the_reference(tmp_path, monkeypatch, reference):
    """docs/gen_reference.py, as the mkdocs-gen-files plugin runs it, writes reference.md = command_reference()."""
    import contextlib
    import runpy
    import types
    written = {}

    @contextlib.contextmanager
    def open_(name, mode="r"):
        path = tmp_path / name
        with open(path, mode) as f:
            yield f
        written[name] = path.read_text()
    monkeypatch.setitem(sys.modules, "mkdocs_gen_files", types.SimpleNamespace(open=open_))
    runpy.run_path(str(ROOT / "docs" / "gen_reference.py"))
    assert written == {"reference.md": reference}


# ----------------------------------------------------------------------------- installed

@pytest.mark.slow
def test_installed_console_script(tmp_path, data_dir):
    """``pip install`` puts a ``hwkit`` script on the PATH; a run it starts records ``hwkit run ...`` as its command."""
    package = copy_checkout(tmp_path / "checkout")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-build-isolation", str(package)], cwd=tmp_path, check=True,
                   capture_output=True, timeout=600)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HWKIT_RUNS_DIR")}
    env.update(HWKIT_DATA_DIR=str(data_dir), HWKIT_OFFLINE="1")
    hwkit_script = str(env_dir / "bin" / "hwkit")

    def run(*args):
        return subprocess.run([hwkit_script, *args], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert run("--version").stdout.strip() == f"hwkit {hwkit.__version__}"
    assert "report" in run("--help").stdout
    bad = run("run", "zz9")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    done = run("run", "e6", "--quick")
    assert done.returncode == 0, done.stderr[-2000:]
    [record] = (work / "runs" / "e6").iterdir()
    assert json.loads((record / "env.json").read_text())["command"] == "hwkit run e6 --quick"
