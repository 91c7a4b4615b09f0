"""Render an assignment's PDF from the latest runs of its tasks: Jinja2 HTML -> WeasyPrint PDF.

``python -m hwkit.report B`` writes ``reports/B.pdf``. The tasks of assignment X are the modules
``tasks/x*.py``; each one's latest *full* run is handed to ``templates/X.html`` as ``runs[name]``
(a ``hwkit.runs.RunRecord`` or None). A task without a full run appears as "not run".
``--include-quick`` lets quick runs stand in for missing full runs, each marked as a smoke result.
"""
from __future__ import annotations

import datetime as _dt
import importlib
import json
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import jinja2

from hwkit import HwkitError, runs

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
ASSIGNMENTS = {
    "A": "Learning the identity map from one example",
    "B": "Deep Learning for Scientists and Engineers, Homework 5",
    "C": "Deep Learning Coursework 1",
    "D": "Deep Learning for Engineers, Assignment 1",
    "E": "Introduction to Deep Learning, Exercise 2",
}


@dataclass
class TaskInfo:
    name: str
    description: str


def tasks_of(assignment: str) -> list[TaskInfo]:
    """Task modules of one assignment (tasks/b1.py, tasks/b2.py ... for B), in name order."""
    import tasks
    infos = []
    # Natural order (c2 before c10): --run relies on it, since later tasks read earlier tasks' runs.
    def natural(m):
        return (m.name[0], int("".join(ch for ch in m.name if ch.isdigit()) or 0), m.name)

    for mod in sorted(pkgutil.iter_modules(tasks.__path__), key=natural):
        if mod.name.startswith(assignment.lower()) and not mod.name.startswith("_"):
            doc = importlib.import_module(f"tasks.{mod.name}").__doc__ or ""
            infos.append(TaskInfo(mod.name, doc.strip().splitlines()[0] if doc.strip() else mod.name))
    return infos


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    env.filters["pct"] = lambda v, digits=2: "n/a" if v is None else f"{100 * float(v):.{digits}f}%"
    env.filters["num"] = lambda v, digits=4: "n/a" if v is None else (
        f"{v:.{digits}g}" if isinstance(v, float) else str(v))
    env.filters["uri"] = lambda p: Path(p).resolve().as_uri()
    env.filters["tojson"] = lambda v: json.dumps(v)
    return env


def context(assignment: str, include_quick: bool = False) -> dict:
    infos = tasks_of(assignment)
    return {
        "assignment": assignment,
        "title": ASSIGNMENTS[assignment],
        "tasks": infos,
        "runs": {t.name: runs.latest_run(t.name, include_quick=include_quick) for t in infos},
        "include_quick": include_quick,
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
    }


def render_html(assignment: str, include_quick: bool = False) -> str:
    return _environment().get_template(f"{assignment}.html").render(**context(assignment, include_quick))


def render(assignment: str, include_quick: bool = False, out_dir: Path | str = "reports") -> Path:
    """Render reports/<assignment>.pdf atomically and return its path."""
    assignment = assignment.upper()
    if assignment not in ASSIGNMENTS:
        raise HwkitError(f"unknown assignment {assignment!r}; choose from {', '.join(ASSIGNMENTS)}")
    import weasyprint
    html = render_html(assignment, include_quick)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{assignment}.pdf"
    tmp = out.with_suffix(".pdf.part")
    weasyprint.HTML(string=html, base_url=str(ROOT)).write_pdf(tmp)
    tmp.replace(out)
    return out


def run_missing(assignment: str, data_dir: str | None = None) -> list[str]:
    """Run (full mode, default flags) each task of the assignment that has no complete full run."""
    import keras
    from hwkit.cli import task_main
    ran = []
    for t in tasks_of(assignment):
        if runs.latest_run(t.name) is None:
            print(f"=== running tasks.{t.name}: {t.description}")
            keras.backend.clear_session()
            task_main(f"tasks.{t.name}", ["--data-dir", data_dir] if data_dir else [])
            ran.append(t.name)
    return ran


def main(argv: Sequence[str] | None = None) -> int:
    from hwkit.cli import OneLineArgumentParser, report_errors
    parser = OneLineArgumentParser(prog="python -m hwkit.report", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", choices=list(ASSIGNMENTS) + [a.lower() for a in ASSIGNMENTS],
                        help="which assignment's PDF to render")
    parser.add_argument("--include-quick", action="store_true",
                        help="use quick (smoke) runs where no full run exists; they are labelled")
    parser.add_argument("--out-dir", default="reports", help="where the PDF goes (default reports/)")
    parser.add_argument("--run", action="store_true",
                        help="first run, in full, every task of the assignment that has no complete full run")
    parser.add_argument("--data-dir", help="dataset directory passed to the tasks run by --run")
    args = parser.parse_args(argv)
    with report_errors():
        if args.run:
            run_missing(args.assignment.upper(), args.data_dir)
        print(render(args.assignment, args.include_quick, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
