"""The layering issue 9 asks for, checked on the source: one-way imports, a cheap ``import hwkit``,
a core that never names an assignment, and a new assignment added without touching ``hwkit``."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted(p for p in (ROOT / "hwkit").rglob("*.py") if "assignments" not in p.parts)
ASSIGNMENT_SCIENCE = sorted((ROOT / "hwkit" / "assignments").glob("*.py"))
TASKS = sorted((ROOT / "tasks").glob("*.py"))
NAMES_AN_ASSIGNMENT = re.compile(r"\b(?:[A-Ea-e](?:10|[1-9])\b|[Aa]ssignment [A-E]\b|tasks\.[a-e]\d)")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_main_block(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``"""
    test = getattr(node, "test", None) if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def imported_modules(path: Path, main_block: bool = True) -> set[str]:
    """Every module ``path`` imports, anywhere in it: at the top, inside functions and classes, and (unless
    ``main_block`` is False) in its ``if __name__ == "__main__":`` block."""
    found = set()

    def visit(node: ast.AST) -> None:
        if not main_block and is_main_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def test_import_hwkit_and_numpy_nn_load_no_tensorflow():
    code = ("import hwkit, hwkit.numpy_nn, hwkit.runs, hwkit.data, hwkit.assignments, hwkit.submit, sys; "
            "assert 'tensorflow' not in sys.modules, 'TF'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_core_never_imports_tasks_or_assignment_science():
    offenders = {module_name(p): sorted(m for m in imported_modules(p)
                                        if m == "tasks" or m.startswith(("tasks.", "hwkit.assignments")))
                 for p in CORE}
    assert not {k: v for k, v in offenders.items() if v}


def test_assignment_science_never_imports_tasks_or_another_assignment():
    def assignment(module: str) -> str:   # hwkit.assignments.b_wgan_cost -> "b"
        return module.split(".")[2].split("_")[0]
    for p in ASSIGNMENT_SCIENCE:
        own = module_name(p)
        bad = [m for m in imported_modules(p) if m == "tasks" or m.startswith("tasks.")
               or (m.startswith("hwkit.assignments.") and assignment(m) != assignment(own))]
        assert not bad, f"{own} imports {bad}"


def test_no_task_imports_another_task():
    for p in TASKS:
        bad = [m for m in imported_modules(p) if m == "tasks" or m.startswith("tasks.")]
        assert not bad, f"{p.name} imports {bad}"


def import_cycle(paths: dict[str, Path]) -> list[str] | None:
    """The first import cycle among these modules (``a -> b -> a``), else None.

    An import inside a function counts as much as one at the top: it is a dependency all the same, and
    a cycle through it breaks as soon as someone moves the import up. Left out is a module's
    ``if __name__ == "__main__":`` block: it runs only when the file is the program (``python -m
    hwkit.report``), as module ``__main__``, and the command line it calls then imports the module anew.
    """
    graph = {name: {m for m in imported_modules(p, main_block=False) if m in paths and m != name}
             for name, p in paths.items()}
    state: dict[str, str] = {}

    def visit(node: str, stack: tuple[str, ...]) -> list[str] | None:
        if node in stack:
            return [*stack[stack.index(node):], node]
        if state.get(node) == "done":
            return None
        for nxt in sorted(graph[node]):
            cycle = visit(nxt, stack + (node,))
            if cycle:
                return cycle
        state[node] = "done"
        return None

    return next((c for c in (visit(name, ()) for name in sorted(graph)) if c), None)


def test_import_graph_has_no_cycle_even_through_imports_inside_functions():
    cycle = import_cycle({module_name(p): p for p in [*CORE, *ASSIGNMENT_SCIENCE, *TASKS]})
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_cycle_check_sees_an_import_inside_a_function(tmp_path):
    (tmp_path / "one.py").write_text("import two\n")
    (tmp_path / "two.py").write_text("def later():\n    from one import x\n")
    (tmp_path / "three.py").write_text("import one\n\nif __name__ == '__main__':\n    import three\n")
    assert import_cycle({n: tmp_path / f"{n}.py" for n in ("one", "two")}) == ["one", "two", "one"]
    assert import_cycle({n: tmp_path / f"{n}.py" for n in ("two", "three")}) is None


# ----------------------------------------------------------------------------- the task API apart from the CLI

TASK_MODULES = sorted(p for p in TASKS if p.stem == "__init__" or re.fullmatch(r"[a-z]\d+", p.stem))


def test_tasks_use_the_task_api_never_the_command_line():
    """Task modules (and their package's ``__init__``, which every one of them imports) import ``hwkit.task``
    or science, never ``hwkit.cli``; only ``tasks/__main__.py``, the ``python -m tasks`` listing, is a command."""
    assert len(TASK_MODULES) > 30
    offenders = {p.name: sorted(m for m in imported_modules(p) if m == "hwkit.cli" or m.startswith("hwkit.cli."))
                 for p in TASK_MODULES}
    assert not {k: v for k, v in offenders.items() if v}
    assert all("hwkit.task" in imported_modules(p) for p in TASK_MODULES if p.stem != "__init__")


def test_the_task_api_loads_no_command_line_grpc_or_pdf_code():
    """Importing ``hwkit.task`` (and a task module with it) loads neither the command line, nor distributed
    search (gRPC), nor the PDF code (Jinja2, WeasyPrint)."""
    forbidden = ("hwkit.cli", "hwkit.distribute", "hwkit.regenerate", "hwkit.report", "grpc", "weasyprint",
                 "jinja2", "keras_tuner")
    code = ("import sys, importlib; importlib.import_module(sys.argv[1]); "
            f"print([m for m in sys.modules if m in {forbidden!r} or m.split('.')[0] in {forbidden!r}])")
    for module in ("hwkit.task", "tasks.d5"):
        result = subprocess.run([sys.executable, "-c", code, module], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "[]", f"importing {module} loads {result.stdout.strip()}"
    # Nor later, inside a function: hwkit.task names none of them anywhere (main finds hwkit.cli by name).
    named = imported_modules(ROOT / "hwkit" / "task.py")
    assert not [m for m in named if any(m == f or m.startswith(f + ".") for f in forbidden)]


BROKEN_TASKS = {
    "no docstring": ("def run(args, run):\n    pass\n", "has no docstring"),
    "no run": ('"""Q1: toy."""\n', "defines no run(args, run)"),
    "run takes one argument": ('"""Q1: toy."""\ndef run(args):\n    pass\n', "does not take (args, run)"),
    "REQUIRES a string": ('"""Q1: toy."""\nREQUIRES = ("q0")\ndef run(args, run):\n    pass\n',
                          "REQUIRES = 'q0'"),
    "SEARCHES not a flag": ('"""Q1: toy."""\nSEARCHES = "yes"\ndef run(args, run):\n    pass\n',
                            "SEARCHES = 'yes'"),
    "add_arguments without parser": ('"""Q1: toy."""\ndef add_arguments():\n    pass\n'
                                     "def run(args, run):\n    pass\n", "add_arguments that does not take (parser)"),
}


@pytest.mark.parametrize("source, fragment", BROKEN_TASKS.values(), ids=list(BROKEN_TASKS))
def test_a_task_that_breaks_the_contract_is_one_error_line_naming_it(source, fragment, tmp_path, monkeypatch, capsys):
    from conftest import install_task_package

    from hwkit import cli
    install_task_package(tmp_path, monkeypatch, "brokentasks", {"Q": "broken"}, {"q1": source})
    for command in (lambda: cli.tasks_main([]), lambda: cli.task_main("brokentasks.q1", []),
                    lambda: cli.report_main(["Q", "--out-dir", str(tmp_path)])):
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            command()
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert e.value.code == 2 and len(err) == 1, err
        assert err[0].startswith("error: task module brokentasks.q1 ") and fragment in err[0], err[0]


def test_a_task_module_is_checked_once(tmp_path, monkeypatch):
    from conftest import install_task_package

    from hwkit import task
    install_task_package(tmp_path, monkeypatch, "checkedtasks", {"Q": "checked"},
                         {"q1": '"""Q1: toy."""\nREQUIRES = ["q0"]\ndef run(args, run):\n    pass\n'})
    calls = []
    monkeypatch.setattr(task, "check", lambda *a: calls.append(a) or task.TaskModule(a[0], "q1", "Q1", a[0].run))
    first = task.load("checkedtasks.q1")
    assert task.discover_tasks("Q") and task.load("checkedtasks.q1") is first and len(calls) == 1


def prose(path: Path) -> list[tuple[int, str]]:
    """The comments and string literals of a module (docstrings included), with their line numbers."""
    with path.open("rb") as f:
        return [(tok.start[0], tok.string) for tok in tokenize.tokenize(f.readline)
                if tok.type in (tokenize.COMMENT, tokenize.STRING)]


def test_core_never_names_an_assignment_or_task():
    """No task id (b1, e3, c10 ...) or 'Assignment X' in the core's comments, docstrings and strings."""
    hits = [f"{p.relative_to(ROOT)}:{line}: {text.strip()[:80]}" for p in CORE
            for line, text in prose(p) if NAMES_AN_ASSIGNMENT.search(text)]
    assert not hits, "\n".join(hits)


def test_the_pattern_above_does_catch_a_task_name():
    assert NAMES_AN_ASSIGNMENT.search("used by E3's decoder") and NAMES_AN_ASSIGNMENT.search("see tasks.b1")
    assert NAMES_AN_ASSIGNMENT.search("assignment C's loss")
    assert not NAMES_AN_ASSIGNMENT.search("learning_rate = 1e-3, width 32, a 3x3 grid")


# ----------------------------------------------------------------------------- REQUIRES and ordering

def test_execution_order_puts_prerequisites_first():
    from hwkit.task import TaskInfo, execution_order
    tasks = [TaskInfo("e3", "", ("e1", "e2")), TaskInfo("e1", ""), TaskInfo("e2", "", ("e1",))]
    assert [t.name for t in execution_order(tasks)] == ["e1", "e2", "e3"]
    with pytest.raises(Exception, match="cycle"):
        execution_order([TaskInfo("x1", "", ("x2",)), TaskInfo("x2", "", ("x1",))])


def test_real_tasks_declare_what_they_read():
    from hwkit.task import discover_tasks, execution_order
    order = [t.name for t in execution_order(discover_tasks())]
    for later, earlier in [("e3", "e1"), ("e3", "e2"), ("e5", "e4"), ("b8", "b7"), ("c10", "c6"), ("c2", "c1")]:
        assert order.index(earlier) < order.index(later)


# ----------------------------------------------------------------------------- a new assignment, no hwkit change

F1 = '''
"""F1: a toy task living outside hwkit: fits a line with numpy and reports its slope."""
import numpy as np

from hwkit.task import main

SLOPE = 2.5


def run(args, run):
    x = np.linspace(0, 1, 50)
    y = SLOPE * x + np.random.default_rng(args.seed).normal(0, 0.01, x.shape)
    slope = float(np.polyfit(x, y, 1)[0])
    from hwkit import plots
    fig, axes = plots.figure(1, 1, width="half")
    axes[0, 0].plot(x, y, label="data")
    axes[0, 0].set(xlabel="x", ylabel="y")
    run.save_figure(fig, "fit")
    run.save_table("points", [{"x": float(a), "y": float(b)} for a, b in zip(x[:3], y[:3])])
    run.log(fitted_slope=round(slope, 3), points=len(x))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
'''

F2 = '''
"""F2: reads F1's run."""
from hwkit import runs
from hwkit.task import main

REQUIRES = ("f1",)


def run(args, run):
    run.log(slope_seen=runs.latest_run("f1", include_quick=args.quick).metrics["fitted_slope"])


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
'''


@pytest.mark.slow
def test_new_assignment_runs_and_renders_with_the_generic_template(tmp_path, monkeypatch):
    import pypdf

    from hwkit import HwkitError, cli
    package = tmp_path / "coursef"
    package.mkdir()
    (package / "__init__.py").write_text('ASSIGNMENTS = {"F": "A course hwkit has never seen"}\n')
    (package / "f1.py").write_text(textwrap.dedent(F1))
    (package / "f2.py").write_text(textwrap.dedent(F2))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HWKIT_TASKS", "coursef")

    assert [t.name for t in cli.discover_tasks("F")] == ["f1", "f2"]
    with pytest.raises(SystemExit) as missing:      # f2 before f1: one clear line naming the command
        cli.task_main("coursef.f2", [])
    assert missing.value.code == 2
    assert cli.task_main("coursef.f1", ["--seed", "3"]) == 0
    assert cli.task_main("coursef.f2", []) == 0

    pdf = cli.render_report("F", out_dir=tmp_path / "reports")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages)
    assert "A course hwkit has never seen" in text and "F1 — F1: a toy task" in text
    assert "fitted_slope" in text and "2.5" in text and "slope_seen" in text
    assert "not run" not in text
    with pytest.raises(HwkitError, match="unknown assignment"):
        cli.render_report("Q")


def test_missing_prerequisite_names_the_command(tmp_path, capsys, monkeypatch):
    from hwkit import cli
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(tmp_path / "empty"))
    with pytest.raises(SystemExit) as e:
        cli.task_main("tasks.b8", ["--quick"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "python -m tasks.b6 --quick" in err[0]
