"""Every command line: a task's, the report command, the task listing, data export, hand-in bundles.

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

import importlib
import os
import sys
import time
from typing import Sequence

from hwkit import HwkitError, distribute, regenerate, report, runs
from hwkit.program import OneLineArgumentParser, report_errors
from hwkit.task import (
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

def task_main(module_name: str, argv: Sequence[str] | None = None) -> int:
    """Parse the flags of task ``module_name``, seed everything, open a run directory, call its ``run``."""
    with report_errors():   # a module that breaks the task contract: one line
        task = load(module_name)
    parser = OneLineArgumentParser(prog=f"python -m {module_name}", description=task.description,
                                   epilog="Results go to runs/<task>/<UTC time>-s<seed>/.")
    add_common_arguments(parser)
    parser.add_argument("--report", action="store_true", help="render the assignment PDF afterwards")
    task.add_arguments(parser)
    if task.searches:
        distribute.add_arguments(parser)
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

def render_report(assignment: str, include_quick: bool = False, out_dir: str = "reports"):
    """Render ``<out_dir>/<X>.pdf`` from the latest runs of assignment X's tasks."""
    assignment = assignment.upper()
    titles = assignments()
    if assignment not in titles:
        raise HwkitError(f"unknown assignment {assignment!r}; choose from {', '.join(titles)}")
    return report.render(assignment, titles[assignment], discover_tasks(assignment), include_quick, out_dir,
                         facts=report_facts(assignment), benchmarks=report_benchmarks())


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


def report_main(argv: Sequence[str] | None = None) -> int:
    with report_errors():   # discovery checks every task module
        titles = assignments()
    parser = OneLineArgumentParser(prog="python -m hwkit.report",
                                   description="Render an assignment's PDF from the latest runs of its tasks.")
    parser.add_argument("assignment", type=str.upper, choices=[*titles, "ALL"],
                        metavar="{" + ",".join(titles) + ",all}",
                        help="which assignment's PDF to render (all: every one)")
    parser.add_argument("--include-quick", action="store_true",
                        help="use quick (smoke) runs where no full run exists; they are labelled")
    parser.add_argument("--out-dir", default="reports", help="where the PDF goes (default reports/)")
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
    args = parser.parse_args(argv)
    if args.rerun_stale and not args.run:
        parser.error("--rerun-stale goes with --run")
    letters = list(titles) if args.assignment == "ALL" else [args.assignment]
    started = time.perf_counter()
    with report_errors():
        timings = regenerate.run_missing(letters, args.data_dir, args.jobs, args.rerun_stale) if args.run else []
        for letter in letters:
            print(render_report(letter, args.include_quick, args.out_dir))
        if timings:
            regenerate.print_timings(timings, time.perf_counter() - started)
    return 0


# ----------------------------------------------------------------------------- python -m tasks

def tasks_main(argv: Sequence[str] | None = None) -> int:
    """List every task with a one-line description."""
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print(f"error: 'python -m {task_package_name()}' takes no arguments; run one task with "
              f"'python -m {task_package_name()}.<name>' (got {' '.join(argv)!r})", file=sys.stderr)
        return 2
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
    print(f"\nRun one with: python -m {task_package_name()}.<name> [--quick] [--seed N] [--data-dir D] [--epochs N] "
          "[--report]")
    return 0


# ----------------------------------------------------------------------------- python -m hwkit.data

def data_main(argv: Sequence[str] | None = None) -> int:
    from hwkit import data
    parser = OneLineArgumentParser(prog="python -m hwkit.data", description=data.__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export-csv", help="write mnist_train.csv / mnist_test.csv")
    p.add_argument("--out", required=True, help="directory for the two CSV files")
    p.add_argument("--data-dir", help="where the MNIST files are (default: search order)")
    args = parser.parse_args(argv)
    with report_errors():
        for path, rows in data.export_csv(args.out, args.data_dir):
            print(f"wrote {path} ({rows} rows)")
    return 0


# ----------------------------------------------------------------------------- python -m hwkit.submit X

def submit_main(argv: Sequence[str] | None = None) -> int:
    """Build ``submissions/X/`` as the course asks (the task package's ``SUBMISSIONS``; see ``hwkit.submit``)."""
    from hwkit import submit
    with report_errors():
        titles = assignments()
    parser = OneLineArgumentParser(prog="python -m hwkit.submit",
                                   description="Build an assignment's hand-in from the latest complete full runs.")
    parser.add_argument("assignment", type=str.upper, choices=list(titles), metavar="{" + ",".join(titles) + "}")
    parser.add_argument("--authors", nargs="+", default=[], metavar='"NAME <ID>"',
                        help='the students handing in, e.g. --authors "Ada Lovelace <al1>" "Alan Turing <at2>"')
    parser.add_argument("--include-quick", action="store_true",
                        help="let quick runs stand in (a trial bundle: its README says it is not for hand-in)")
    parser.add_argument("--out-dir", default="submissions", help="where the bundle goes (default submissions/)")
    parser.add_argument("--allow-stale", action="store_true",
                        help="ship runs made by older code or from a dirty tree "
                             "(refused otherwise; the README says so)")
    args = parser.parse_args(argv)
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
