"""Every command line: a task's, the report command, the task listing, data export, hand-in bundles, and
the ``hwkit`` command over them all (``main``: ``hwkit tasks | run | report | submit | data``; also
``python -m hwkit``). Each ``hwkit`` command hands the rest of its command line, untouched, to the same
function as its ``python -m`` program, named as typed in ``--help`` and errors. ``command_reference``
writes every ``--help`` as Markdown for the docs (``docs/gen_reference.py``).

What a task is and uses — the ``Task`` contract, discovery, the common flags, ``choose_recipe`` —
is ``hwkit.task``; this module builds the programs on it. ``python -m tasks.<name>`` reaches
``task_main`` through ``hwkit.task.main``. On top of the common flags a task's command line takes
``--report`` (render the assignment PDF afterwards) and, for a task that ``SEARCHES``, the
distribution flags of ``hwkit.distribute`` (``--workers N``, ``--tuner-role`` ...); a search worker
runs the task only up to its search and writes no run directory.
Ctrl-C and SIGTERM mark the run ``interrupted`` (exit 130 / 143); rerunning the command resumes it.

The core never imports the task package by name: it is found at run time (``hwkit.task``), which
is what lets a new assignment be added without touching ``hwkit``.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
import time
from typing import Callable, Iterator, Sequence

from hwkit import HwkitError, __version__, distribute, regenerate, report, runs
from hwkit.program import OneLineArgumentParser, report_errors
from hwkit.task import (
    TASK_NAME,
    TaskModule,
    add_common_arguments,
    assignments,
    bounded_int,
    check_requirements,
    discover_tasks,
    load,
    parse_arguments,
    run_config,
    task_package,
    task_package_name,
)

# ----------------------------------------------------------------------------- python -m tasks.<name>

def task_parser(task: TaskModule | None, prog: str) -> OneLineArgumentParser:
    """The command line of ``task``: the common flags, ``--report``, then its own (and the distribution flags
    when it searches). ``task=None``: the flags every task takes, for the command reference."""
    parser = OneLineArgumentParser(prog=prog, description=task.description if task else
                                   "Run one task. Every task takes these flags; some add flags of their own.",
                                   epilog="Results go to runs/<task>/<UTC time>-s<seed>/.")
    add_common_arguments(parser)
    parser.add_argument("--report", action="store_true", help="render the assignment PDF afterwards")
    if task is not None:
        task.add_arguments(parser)
        if task.searches:
            distribute.add_arguments(parser)
    return parser


def task_main(module_name: str, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse the flags of task ``module_name``, seed everything, open a run directory, call its ``run``.

    ``prog``: the command as typed, for ``--help`` and errors (default ``python -m <module>``; ``hwkit run <name>``).
    """
    with report_errors():   # a module that breaks the task contract: one line
        task = load(module_name)
    parser = task_parser(task, prog or f"python -m {module_name}")
    args = parse_arguments(parser, argv)

    with report_errors():
        cluster = (distribute.from_args(args, module_name, sys.argv[1:] if argv is None else argv)
                   if task.searches else distribute.Cluster())
        if cluster.is_worker:
            distribute.check_reachable(cluster)   # before loading anything: one line within --oracle-timeout
        else:
            check_requirements(task.info, args.quick)
        distribute.configure_threads(cluster.threads or threads_from_environment())
        import keras
        keras.utils.set_random_seed(args.seed)
        config = run_config(args)   # the flags only: before args.devices is added
        policy = keras.config.dtype_policy()
        try:
            if hasattr(args, "strategy"):   # the task took training.add_device_arguments: --strategy, --precision
                from hwkit import training
                args.devices = training.setup_devices("default" if cluster.is_worker else args.strategy,
                                                      args.precision)
            if cluster.is_worker:
                return _search_worker(task, args, cluster)
            with runs.start_run(task.name, config, seed=args.seed, quick=args.quick, fresh=args.fresh,
                                code_module=module_name) as run, distribute.active(cluster):
                task.run(args, run)
        finally:
            keras.config.set_dtype_policy(policy)   # the next task in this process starts from the same precision
        print(f"run written to {run.path}")
        if args.report:
            print(f"report written to {render_report(task.name[0].upper(), include_quick=args.quick)}")
    return 0


def threads_from_environment() -> int | None:
    """``$HWKIT_THREADS``: the threads ``report --run --jobs N`` gives each task it starts (None: all cores)."""
    text = os.environ.get("HWKIT_THREADS", "")
    if not text:
        return None
    most = distribute.max_local_processes()
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise HwkitError(f"HWKIT_THREADS must be a positive number of threads up to {most} "
                         f"({distribute.LOCAL_PROCESSES_PER_CORE} per core), got {text!r}")
    return int(text)


def _search_worker(task, args, cluster: distribute.Cluster) -> int:
    """Run the task as a search worker: up to the end of its search, in a scratch run directory."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory(prefix=f"hwkit-{task.name}-{cluster.tuner_id}-") as scratch:
        run = runs.Run(task=task.name, path=Path(scratch), quick=args.quick, seed=args.seed)
        try:
            with distribute.active(cluster):
                task.run(args, run)
        except distribute.WorkerFinished as done:
            print(done, flush=True)
            return 0
    raise HwkitError(f"task {task.name} finished without running a KerasTuner search, so it has no use for a worker")


# ----------------------------------------------------------------------------- python -m hwkit.report X

def render_report(assignment: str, include_quick: bool = False, out_dir: str = "reports", html: bool = False):
    """Render ``<out_dir>/<X>.pdf`` (``html``: ``<X>.html``) from the latest runs of assignment X's tasks."""
    assignment = assignment.upper()
    titles = assignments()
    if assignment not in titles:
        raise HwkitError(f"unknown assignment {assignment!r}; choose from {', '.join(titles)}")
    return report.render(assignment, titles[assignment], discover_tasks(assignment), include_quick, out_dir,
                         facts=report_facts(assignment), benchmarks=report_benchmarks(), html=html)


def report_benchmarks() -> dict[str, tuple[str, ...]]:
    """Task -> the benchmark runs (``runs/<name>/``) its PDF section shows: the task package's ``REPORT_BENCHMARKS``."""
    return {task: tuple(names) for task, names in getattr(task_package(), "REPORT_BENCHMARKS", {}).items()}


def report_facts(assignment: str) -> dict:
    """The fixed settings assignment X's PDF states that no run records (``facts`` in its template).

    The task package's ``REPORT_FACTS`` maps a letter to the science modules that hold them; each
    module's ``REPORT_FACTS`` dict is computed there from the constants its code uses. Two modules
    may not state the same fact.
    """
    facts: dict = {}
    for module in getattr(task_package(), "REPORT_FACTS", {}).get(assignment.upper(), ()):
        for key, value in importlib.import_module(module).REPORT_FACTS.items():
            if key in facts:
                raise HwkitError(f"report fact {key!r} of assignment {assignment} is stated by two modules")
            facts[key] = value
    return facts


def report_parser(titles: Sequence[str], prog: str = "python -m hwkit.report") -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=prog,
                                   description="Render an assignment's PDF from the latest runs of its tasks.")
    parser.add_argument("assignment", type=str.upper, choices=[*titles, "ALL"],
                        metavar="{" + ",".join(titles) + ",all}",
                        help="which assignment's PDF to render (all: every one)")
    parser.add_argument("--include-quick", action="store_true",
                        help="use quick (smoke) runs where no full run exists; they are labelled")
    parser.add_argument("--out-dir", default="reports", help="where the PDF (and the HTML page) go (default reports/)")
    parser.add_argument("--html", action="store_true",
                        help="also write <X>.html beside the PDF: the same report as one page for a browser, "
                             "figures embedded")
    parser.add_argument("--run", action="store_true",
                        help="first run, in full, every task of the assignment that has no complete full run")
    parser.add_argument("--rerun-stale", action="store_true",
                        help="with --run: also run again each task whose latest full run was made by older code "
                             "(--run lists them either way)")
    parser.add_argument("--data-dir", help="dataset directory passed to the tasks run by --run")
    parser.add_argument("--jobs",
                        type=bounded_int(1, distribute.max_local_processes(), "a number of tasks at a time",
                                         note=f"{distribute.LOCAL_PROCESSES_PER_CORE} per core on this machine"),
                        default=regenerate.default_jobs(),
                        help="with --run: tasks at a time, each in its own process with cores/jobs threads "
                             f"(default {regenerate.default_jobs()}); 1 runs them one by one in this process")
    return parser


def report_main(argv: Sequence[str] | None = None, prog: str = "python -m hwkit.report") -> int:
    with report_errors():   # discovery checks every task module
        titles = assignments()
    parser = report_parser(titles, prog)
    args = parser.parse_args(argv)
    if args.rerun_stale and not args.run:
        parser.error("--rerun-stale goes with --run")
    letters = list(titles) if args.assignment == "ALL" else [args.assignment]
    started = time.perf_counter()
    with report_errors():
        timings = regenerate.run_missing(letters, args.data_dir, args.jobs, args.rerun_stale) if args.run else []
        for letter in letters:
            print(render_report(letter, args.include_quick, args.out_dir))
            if args.html:
                print(render_report(letter, args.include_quick, args.out_dir, html=True))
        if timings:
            regenerate.print_timings(timings, time.perf_counter() - started)
    return 0


# ----------------------------------------------------------------------------- python -m tasks

def tasks_parser(prog: str) -> OneLineArgumentParser:
    return OneLineArgumentParser(prog=prog, description="List every task with a one-line description, "
                                 "by assignment, and the tasks whose runs it reads.")


def tasks_main(argv: Sequence[str] | None = None, prog: str | None = None, run_command: str | None = None) -> int:
    """List every task with a one-line description. ``run_command`` runs one task given its name after it
    (default ``python -m <package>.<name>``; ``hwkit run <name>``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    package = task_package_name()
    one = f"{run_command} <name>" if run_command else f"python -m {package}.<name>"
    stray = [a for a in argv if not a.startswith("-")]
    if stray:
        print(f"error: '{prog or f'python -m {package}'}' takes no arguments; run one task with "
              f"'{one}' (got {' '.join(argv)!r})", file=sys.stderr)
        return 2
    tasks_parser(prog or f"python -m {package}").parse_args(argv)   # --help, or one line for a stray flag
    with report_errors():
        all_tasks, titles = discover_tasks(), assignments()
    for letter, title in titles.items():
        infos = [t for t in all_tasks if t.assignment == letter]
        print(f"{letter} — {title}")
        for t in infos:
            after = f"  (reads {', '.join(t.requires)})" if t.requires else ""
            print(f"  {t.name:<6} {t.description}{after}")
        if not infos:
            print("  (no tasks yet)")
    print(f"\nRun one with: {one} [--quick] [--seed N] [--data-dir D] [--epochs N] [--report]")
    return 0


# ----------------------------------------------------------------------------- python -m hwkit.data

def data_parser(prog: str = "python -m hwkit.data") -> OneLineArgumentParser:
    from hwkit import data
    parser = OneLineArgumentParser(prog=prog, description=data.__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export-csv", help="write mnist_train.csv / mnist_test.csv",
                       description="Write MNIST as mnist_train.csv and mnist_test.csv (label, then 784 pixels).")
    p.add_argument("--out", required=True, help="directory for the two CSV files")
    p.add_argument("--data-dir", help="where the MNIST files are (default: search order)")
    return parser


def data_main(argv: Sequence[str] | None = None, prog: str = "python -m hwkit.data") -> int:
    from hwkit import data
    args = data_parser(prog).parse_args(argv)
    with report_errors():
        for path, rows in data.export_csv(args.out, args.data_dir):
            print(f"wrote {path} ({rows} rows)")
    return 0


# ----------------------------------------------------------------------------- python -m hwkit.submit X

def submit_parser(titles: Sequence[str], prog: str = "python -m hwkit.submit") -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=prog,
                                   description="Build an assignment's hand-in from the latest complete full runs.")
    parser.add_argument("assignment", type=str.upper, choices=list(titles), metavar="{" + ",".join(titles) + "}",
                        help="which assignment to hand in")
    parser.add_argument("--authors", nargs="+", default=[], metavar='"NAME <ID>"',
                        help='the students handing in, e.g. --authors "Ada Lovelace <al1>" "Alan Turing <at2>"')
    parser.add_argument("--include-quick", action="store_true",
                        help="let quick runs stand in (a trial bundle: its README says it is not for hand-in)")
    parser.add_argument("--out-dir", default="submissions", help="where the bundle goes (default submissions/)")
    parser.add_argument("--allow-stale", action="store_true",
                        help="ship runs made by older code or from a dirty tree "
                             "(refused otherwise; the README says so)")
    return parser


def submit_main(argv: Sequence[str] | None = None, prog: str = "python -m hwkit.submit") -> int:
    """Build ``submissions/X/`` as the course asks (the task package's ``SUBMISSIONS``; see ``hwkit.submit``)."""
    from hwkit import submit
    with report_errors():
        titles = assignments()
    args = submit_parser(titles, prog).parse_args(argv)
    with report_errors():
        authors = [submit.parse_author(a) for a in args.authors]
        bundles = getattr(task_package(), "SUBMISSIONS", {})
        bundle = bundles.get(args.assignment) or submit.default_bundle(args.assignment)
        folder = submit.build(args.assignment, titles[args.assignment], bundle, discover_tasks(args.assignment),
                              authors, include_quick=args.include_quick, out_dir=args.out_dir,
                              package=task_package_name(), facts=report_facts(args.assignment),
                              benchmarks=report_benchmarks(), allow_stale=args.allow_stale)
        for p in sorted(folder.rglob("*")):
            if p.is_file() and (p.parent == folder or p.suffix in (".pdf", ".zip", ".npz", ".keras")):
                print(f"{p}  ({p.stat().st_size / 1e6:.2f} MB)")
        print(f"submission written to {folder}")
    return 0


# ----------------------------------------------------------------------------- hwkit <command>

def run_parser(prog: str = "hwkit run") -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=prog, usage=f"{prog} TASK [flags]",
                                   description=f"Run one task: the same program as `{same_as('run')}`.",
                                   epilog=f"`{prog} TASK --help` shows the task's flags.")
    parser.add_argument("task", metavar="TASK", help=f"the task's name (`{prog.rsplit(' ', 1)[0]} tasks` lists them)")
    return parser


def run_main(argv: Sequence[str] | None = None, prog: str = "hwkit run") -> int:
    """``hwkit run <task> [flags]``: ``task_main`` of that task, its flags handed on untouched."""
    argv = sys.argv[1:] if argv is None else list(argv)
    name = run_parser(prog).parse_args(argv[:1]).task   # --help, or one line when the task is missing
    with report_errors():
        package = task_package().__name__
    if not TASK_NAME.match(name) or importlib.util.find_spec(f"{package}.{name}") is None:
        lister = prog.rsplit(" ", 1)[0] + " tasks"
        print(f"error: unknown task {name!r}; `{lister}` lists the tasks", file=sys.stderr)
        return 2
    return task_main(f"{package}.{name}", argv[1:], prog=f"{prog} {name}")


def _tasks_command(argv: Sequence[str] | None = None, prog: str = "hwkit tasks") -> int:
    return tasks_main(argv, prog, run_command=prog.rsplit(" ", 1)[0] + " run")


# name -> (what it does, its program, the `python -m` form of the same program; {package}: the task package)
COMMANDS: dict[str, tuple[str, Callable[..., int], str]] = {
    "tasks": ("list every task with a one-line description", _tasks_command, "python -m {package}"),
    "run": ("run one task, with its flags", run_main, "python -m {package}.<task>"),
    "report": ("render an assignment's PDF (and HTML) from the latest runs", report_main, "python -m hwkit.report"),
    "submit": ("build an assignment's hand-in folder", submit_main, "python -m hwkit.submit"),
    "data": ("dataset tools: export MNIST as CSV", data_main, "python -m hwkit.data"),
}


def same_as(command: str) -> str:
    """The ``python -m`` command that is the same program as ``hwkit <command>``."""
    return COMMANDS[command][2].format(package=task_package_name())


def hwkit_parser(prog: str = "hwkit") -> OneLineArgumentParser:
    width = max(len(name) for name in COMMANDS)
    parser = OneLineArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="hwkit: run the coursework tasks, render their reports, build the hand-ins.",
        epilog="\n".join([f"`{prog} COMMAND --help` shows a command's flags. Each command is the same program as:",
                          *(f"  {prog} {name:<{width}}  =  {same_as(name)}" for name in COMMANDS)]))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)
    for name, (summary, _, _) in COMMANDS.items():
        sub.add_parser(name, help=summary, add_help=False)   # listed here; the command parses its own flags
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "hwkit") -> int:
    """``hwkit <command> ...``: the command's own program, handed the rest of the command line untouched."""
    if argv is None:
        argv = sys.argv[1:]
        if os.path.basename(sys.argv[0]) == prog:   # the console script: runs record `hwkit ...`, not its path
            sys.argv[0] = prog
    argv = list(argv)
    command = hwkit_parser(prog).parse_args(argv[:1]).command   # --help, --version, or one line for a bad one
    return COMMANDS[command][1](argv[1:], prog=f"{prog} {command}")


# ----------------------------------------------------------------------------- the command reference

REFERENCE_COLUMNS = 100   # argparse wraps help to the terminal: the reference is made at one fixed width


def reference_parsers(prog: str = "hwkit") -> list[tuple[str, argparse.ArgumentParser]]:
    """(command line, its parser) for each command and subcommand, in the order the reference shows them."""
    titles = assignments()
    data = data_parser(f"{prog} data")
    # argparse keeps subcommands' parsers in its subparsers action; it has no public way to reach them
    [export] = [p for a in data._actions if isinstance(a, argparse._SubParsersAction) for p in a.choices.values()]
    return [(prog, hwkit_parser(prog)), (f"{prog} tasks", tasks_parser(f"{prog} tasks")),
            (f"{prog} run", run_parser(f"{prog} run")), (f"{prog} run TASK", task_parser(None, f"{prog} run TASK")),
            (f"{prog} report", report_parser(titles, f"{prog} report")),
            (f"{prog} submit", submit_parser(titles, f"{prog} submit")),
            (f"{prog} data", data), (export.prog, export)]


@contextlib.contextmanager
def fixed_width(columns: int = REFERENCE_COLUMNS) -> Iterator[None]:
    """argparse's help wrapped at ``columns``, whatever the terminal (it reads $COLUMNS)."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def command_reference(prog: str = "hwkit") -> str:
    """The command reference as Markdown, made from the parsers themselves: each command's ``--help`` text,
    then every task with its description and the flags it adds to the common ones."""
    parsers = reference_parsers(prog)
    with fixed_width():
        helps = [(command, parser.format_help()) for command, parser in parsers]
    tasks = [(t, task_parser(load(f"{task_package_name()}.{t.name}"), "")) for t in discover_tasks()]
    common = {o for command, parser in parsers if command == f"{prog} run TASK"
              for a in parser._actions for o in a.option_strings}
    lines = ["# Command reference", "",
             f"Generated from the argparse parsers of `hwkit.cli` (`hwkit.cli.command_reference()`): each section is "
             f"what `--help` prints. `{prog} --version` prints the version.", "",
             "| command | the same program as |", "|---|---|"]
    lines += [f"| `{prog} {name}` | `{same_as(name)}` |" for name in COMMANDS]
    for command, text in helps:
        lines += ["", f"## `{command}`", "", "```text", text.rstrip("\n"), "```"]
    lines += ["", "## Tasks", "", f"`{prog} run TASK` for each of these (`{prog} tasks` prints the same list; "
              f"`{prog} run TASK --help` the task's flags).", "",
              "| task | description | reads the runs of | its own flags |", "|---|---|---|---|"]
    for info, parser in tasks:
        own = [o for a in parser._actions for o in a.option_strings if o.startswith("--") and o not in common]
        cells = [f"`{info.name}`", info.description, ", ".join(f"`{r}`" for r in info.requires),
                 " ".join(f"`{o}`" for o in own)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
