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


def imported_modules(path: Path, import_time_only: bool = False) -> set[str]:
    """Every module ``path`` imports. ``import_time_only`` skips imports inside functions and the
    ``if __name__ == "__main__"`` block (they run later, never while the module is being imported)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if import_time_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
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
    for p in ASSIGNMENT_SCIENCE:
        own = module_name(p)
        bad = [m for m in imported_modules(p) if m == "tasks" or m.startswith("tasks.")
               or (m.startswith("hwkit.assignments.") and m.split(".")[2] != own.split(".")[-1])]
        assert not bad, f"{own} imports {bad}"


def test_no_task_imports_another_task():
    for p in TASKS:
        bad = [m for m in imported_modules(p) if m == "tasks" or m.startswith("tasks.")]
        assert not bad, f"{p.name} imports {bad}"


def test_import_graph_has_no_cycle():
    paths = {module_name(p): p for p in [*CORE, *ASSIGNMENT_SCIENCE, *TASKS]}
    graph = {name: {m for m in imported_modules(p, import_time_only=True) if m in paths and m != name}
             for name, p in paths.items()}
    state: dict[str, str] = {}

    def visit(node: str, stack: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        assert node not in stack, f"import cycle: {' -> '.join(stack + (node,))}"
        for nxt in graph[node]:
            visit(nxt, stack + (node,))
        state[node] = "done"

    for name in graph:
        visit(name, ())


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
    from hwkit.cli import execution_order
    from hwkit.report import TaskInfo
    tasks = [TaskInfo("e3", "", ("e1", "e2")), TaskInfo("e1", ""), TaskInfo("e2", "", ("e1",))]
    assert [t.name for t in execution_order(tasks)] == ["e1", "e2", "e3"]
    with pytest.raises(Exception, match="cycle"):
        execution_order([TaskInfo("x1", "", ("x2",)), TaskInfo("x2", "", ("x1",))])


def test_real_tasks_declare_what_they_read():
    from hwkit.cli import discover_tasks, execution_order
    order = [t.name for t in execution_order(discover_tasks())]
    for later, earlier in [("e3", "e1"), ("e3", "e2"), ("e5", "e4"), ("b8", "b7"), ("c10", "c6"), ("c2", "c1")]:
        assert order.index(earlier) < order.index(later)


# ----------------------------------------------------------------------------- a new assignment, no hwkit change

F1 = '''
"""F1: a toy task living outside hwkit: fits a line with numpy and reports its slope."""
import numpy as np

from hwkit.cli import task_main

SLOPE = 2.5


def run(args, run):
    x = np.linspace(0, 1, 50)
    y = SLOPE * x + np.random.default_rng(args.seed).normal(0, 0.01, x.shape)
    slope = float(np.polyfit(x, y, 1)[0])
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot(x, y, label="data")
    run.save_figure(fig, "fit")
    run.save_table("points", [{"x": float(a), "y": float(b)} for a, b in zip(x[:3], y[:3])])
    run.log(fitted_slope=round(slope, 3), points=len(x))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
'''

F2 = '''
"""F2: reads F1's run."""
from hwkit import runs
from hwkit.cli import task_main

REQUIRES = ("f1",)


def run(args, run):
    run.log(slope_seen=runs.latest_run("f1", include_quick=args.quick).metrics["fitted_slope"])


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
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
