"""Every entry point: a task's command line, the report command, the task listing, data export.

A task is a module of the task package (``tasks`` by default, ``$HWKIT_TASKS`` to use another)
named after its assignment letter and number (``x1``, ``x12``). It defines ``run(args, run)``,
optionally ``add_arguments(parser)`` and ``REQUIRES`` (the tasks whose runs it reads, checked before it
starts; a dict of them to the files it reads and their schemas checks those too), and ends
with ``if __name__ == "__main__": raise SystemExit(task_main(__spec__.name))``.
Common flags: ``--quick`` (tiny data, seconds; results labelled as smoke results), ``--seed N``
(0..2^32-1 less ``SEED_HEADROOM`` for the seeds tasks derive from it), ``--data-dir D``, ``--epochs N``
(override the task's default, 1..10000; at most ``QUICK_MAX_EPOCHS`` with ``--quick``), ``--fresh``
(start a new run directory instead of resuming an unfinished one), ``--report`` (render the assignment
PDF afterwards). Every numeric flag is bounded (``bounded_int``, ``bounded_float``: finite, with a
range that says why), so a typo is one ``error:`` line, never a traceback, a hang or a machine out of memory.
Ctrl-C and SIGTERM mark the run ``interrupted`` (exit 130 / 143); rerunning the command resumes it.
A task that runs a KerasTuner search declares ``SEARCHES = True`` and
gets the distribution flags of ``hwkit.distribute`` (``--workers N``, ``--tuner-role`` ...); a search
worker runs the task only up to its search and writes no run directory.

The core never imports the task package by name: it is found at run time (``importlib``), which is
what lets a new assignment be added without touching ``hwkit``.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import importlib
import importlib.abc
import math
import os
import pkgutil
import re
import signal
import sys
import time
from typing import Iterator, Mapping, Sequence, TypeVar

from hwkit import HwkitError, distribute, regenerate, report, runs
from hwkit.report import TaskInfo

TASK_NAME = re.compile(r"^[a-z]\d+$")   # assignment letter + task number: x1, x12
R = TypeVar("R")
MAX_SEED = 2**32 - 1                    # numpy / Keras seeds are unsigned 32-bit
SEED_HEADROOM = 100_000                 # tasks derive seeds from --seed (seed + k): keep them below 2^32 too
MAX_EPOCHS = 10_000
MAX_TRIALS = 1_000                      # --trials of a search
MAX_SEEDS = 100                         # --seeds: repeated runs of one experiment
MAX_SECONDS = 86_400                    # a day: any time budget or timeout flag
QUICK_MAX_EPOCHS = 100                  # --quick means seconds: more epochs than this is refused
USER_FIXABLE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run is marked interrupted and resumes when rerun."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` in the main thread (a KeyboardInterrupt)."""
    def handler(signum, frame):
        raise Terminated()
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one readable line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


@contextlib.contextmanager
def report_errors() -> Iterator[None]:
    """Turn user-fixable errors into one line on stderr and a non-zero exit, no traceback."""
    try:
        with sigterm_as_interrupt():
            yield
    except HwkitError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as e:
        if e.errno not in USER_FIXABLE_ERRNOS:
            raise
        where = f" {e.filename}" if e.filename else ""
        hint = "; free some disk space and rerun the same command (it resumes)" if e.errno in (
            errno.ENOSPC, errno.EDQUOT) else ""
        print(f"error: cannot write{where}: {e.strerror or e}{hint}", file=sys.stderr)
        raise SystemExit(2) from None
    except Terminated:
        print("terminated (SIGTERM): the run is marked interrupted; rerun the same command to resume it",
              file=sys.stderr)
        raise SystemExit(143) from None
    except KeyboardInterrupt:
        print("interrupted: the run is marked interrupted; rerun the same command to resume it", file=sys.stderr)
        raise SystemExit(130) from None


def _out_of_range(what: str, low, high, note: str, got: str) -> argparse.ArgumentTypeError:
    bounds = "..".join(f"{v:g}" if isinstance(v, float) else str(v) for v in (low, high))
    return argparse.ArgumentTypeError(f"expected {what} in {bounds}{f' ({note})' if note else ''}, got {got}")


def bounded_int(low: int, high: int, what: str = "an integer", note: str = ""):
    """An argparse type: an integer in low..high, else one readable error (``note`` says why the bound)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise _out_of_range(what, low, high, note, repr(text)) from None
        if not low <= value <= high:
            raise _out_of_range(what, low, high, note, text)
        return value
    parse.__name__ = what   # argparse names the type in its messages
    return parse


def bounded_float(low: float, high: float, what: str = "a number", note: str = ""):
    """An argparse type: a finite number in low..high (never inf or nan), else one readable error."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _out_of_range(what, low, high, note, repr(text)) from None
        if not (math.isfinite(value) and low <= value <= high):   # nan fails every comparison
            raise _out_of_range(what, low, high, note, text)
        return value
    parse.__name__ = what
    return parse


def choose_recipe(args, full: R, quick: R, **overrides) -> R:
    """The task's recipe for this command line: ``quick`` with ``--quick``, else ``full``; ``--epochs`` overrides.

    A recipe is a frozen dataclass of the task's settings (airbench's ``hyp``, nanoGPT's config):
    one object per mode instead of ``X if args.quick else Y`` scattered through ``run()``.
    ``overrides`` are the task's own flags, e.g. ``seeds=args.seeds``: each one that is not None
    replaces that field of the chosen recipe.
    """
    recipe = quick if args.quick else full
    if getattr(args, "epochs", None) and hasattr(recipe, "epochs"):
        recipe = dataclasses.replace(recipe, epochs=args.epochs)
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(recipe, **given) if given else recipe


# ----------------------------------------------------------------------------- task discovery

def task_package_name() -> str:
    return os.environ.get("HWKIT_TASKS") or "tasks"


def _task_package():
    """The task package, or one HwkitError saying what is wrong with ``$HWKIT_TASKS``."""
    name = task_package_name()
    where = f"HWKIT_TASKS={name!r}" if os.environ.get("HWKIT_TASKS") else f"the task package {name!r}"
    fix = "set HWKIT_TASKS to a package of task modules on the Python path, or unset it to use 'tasks'"
    if not all(part.isidentifier() for part in name.split(".")):
        raise HwkitError(f"{where} is not a Python package name (dotted identifiers, e.g. 'tasks'); {fix}")
    try:
        package = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
            raise   # the package exists but imports something missing: its own bug, shown in full
        raise HwkitError(f"{where}: no module named {e.name!r} on the Python path; {fix}") from None
    if not hasattr(package, "__path__"):
        raise HwkitError(f"{where} is a module, not a package of tasks; {fix}")
    if not hasattr(package, "ASSIGNMENTS") and not any(TASK_NAME.match(m.name) for m in pkgutil.iter_modules(package.__path__)):
        raise HwkitError(f"{where} holds no task modules (x1, x12 ...) and no ASSIGNMENTS: not a task package; {fix}")
    return package


def _natural(name: str) -> tuple:
    return name[0], int(name[1:])


def _task_module(module_name: str):
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) == module_name:
        return main  # run as `python -m tasks.x`: use the running module, don't import a second copy
    return importlib.import_module(module_name)


def task_info(name: str, module=None) -> TaskInfo:
    """A task's ``TaskInfo``. Its ``REQUIRES`` names the tasks whose runs it reads: a tuple, or a dict of them
    to what it reads of each (``{"x1": {"tables/summary.json": schema}}``, see ``hwkit.runs.require_run``)."""
    module = module or _task_module(f"{_task_package().__name__}.{name}")
    doc = (module.__doc__ or "").strip()
    requires = getattr(module, "REQUIRES", ())
    return TaskInfo(name, doc.splitlines()[0] if doc else name, tuple(requires),
                    dict(requires) if isinstance(requires, Mapping) else {})


def discover_tasks(assignment: str | None = None) -> list[TaskInfo]:
    """The task modules (of one assignment, or all), in natural order: x2 before x10."""
    names = sorted((m.name for m in pkgutil.iter_modules(_task_package().__path__)
                    if TASK_NAME.match(m.name) and (assignment is None or m.name[0] == assignment.lower())),
                   key=_natural)
    return [task_info(n) for n in names]


def assignments() -> dict[str, str]:
    """Assignment letter -> title: the task package's ``ASSIGNMENTS``, plus any letter that has tasks."""
    titles = dict(getattr(_task_package(), "ASSIGNMENTS", {}))
    for t in discover_tasks():
        titles.setdefault(t.assignment, f"Assignment {t.assignment}")
    return titles


def execution_order(tasks: Sequence[TaskInfo]) -> list[TaskInfo]:
    """``tasks`` reordered so that every task comes after the tasks it requires (natural order otherwise)."""
    by_name = {t.name: t for t in tasks}
    ordered, state = [], {}

    def visit(t: TaskInfo, path: tuple[str, ...]) -> None:
        if state.get(t.name) == "done":
            return
        if t.name in path:
            raise HwkitError(f"tasks require each other in a cycle: {' -> '.join(path + (t.name,))}")
        for r in t.requires:
            if r in by_name:
                visit(by_name[r], path + (t.name,))
        state[t.name] = "done"
        ordered.append(t)

    for t in tasks:
        visit(t, ())
    return ordered


def check_requirements(info: TaskInfo, quick: bool) -> None:
    """One clear error naming the command to run when a task's prerequisite has no complete run, or one that is
    damaged or lacks what the task reads: checked before the task starts, so it never trains first."""
    for r in info.requires:
        runs.require_run(r, quick, needs=info.needs.get(r, ()), reader=info.name)

class _UnknownTaskFinder(importlib.abc.MetaPathFinder):
    """Turns ``python -m <package>.<unknown>`` into one ``error:`` line and exit status 2.

    Consulted last, and only while Python is still locating the ``-m`` module (``sys.argv[0]`` is
    ``"-m"`` then), so ordinary imports are untouched.
    """

    def __init__(self, package: str):
        self.package = package

    def find_spec(self, fullname, path=None, target=None):
        if sys.argv[:1] != ["-m"] or not fullname.startswith(self.package + "."):
            return None
        name = fullname[len(self.package) + 1:]
        print(f"error: unknown task {name!r}; `python -m {self.package}` lists the tasks", file=sys.stderr)
        raise SystemExit(2)


def install_unknown_task_message(package: str) -> None:
    """Called by a task package's ``__init__``: an unknown ``python -m package.x`` exits 2 with one line."""
    if not any(isinstance(f, _UnknownTaskFinder) and f.package == package for f in sys.meta_path):
        sys.meta_path.append(_UnknownTaskFinder(package))


# ----------------------------------------------------------------------------- python -m tasks.<name>

def task_main(module_name: str, argv: Sequence[str] | None = None) -> int:
    """Parse the flags of task ``module_name``, seed everything, open a run directory, call its ``run``."""
    module = _task_module(module_name)
    name = module_name.rsplit(".", 1)[-1]
    parser = OneLineArgumentParser(prog=f"python -m {module_name}", description=module.__doc__.strip().splitlines()[0],
                                   epilog="Results go to runs/<task>/<UTC time>-s<seed>/.")
    parser.add_argument("--quick", action="store_true", help="tiny data and few epochs (smoke test, seconds)")
    parser.add_argument("--seed", type=bounded_int(0, MAX_SEED, "a seed"), default=0,
                        help=f"random seed, 0..{MAX_SEED - SEED_HEADROOM} (default 0)")
    parser.add_argument("--data-dir", help="dataset directory (default: $HWKIT_DATA_DIR, ~/.keras/datasets)")
    parser.add_argument("--epochs", type=bounded_int(1, MAX_EPOCHS, "a positive number of epochs"),
                        help=f"override the task's number of epochs (1..{MAX_EPOCHS})")
    parser.add_argument("--fresh", action="store_true",
                        help="start a new run directory instead of resuming an unfinished run of this command")
    parser.add_argument("--report", action="store_true", help="render the assignment PDF afterwards")
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    searches = getattr(module, "SEARCHES", False)
    if searches:
        distribute.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick and (args.epochs or 0) > QUICK_MAX_EPOCHS:
        parser.error(f"--quick runs take seconds: --epochs {args.epochs} is more than {QUICK_MAX_EPOCHS}; "
                     "drop --quick for a full run")
    if args.seed > MAX_SEED - SEED_HEADROOM:
        parser.error(f"--seed {args.seed}: tasks derive more seeds from it (seed + k) and each must stay below 2^32; "
                     f"use 0..{MAX_SEED - SEED_HEADROOM}")

    with report_errors():
        cluster = (distribute.from_args(args, module_name, sys.argv[1:] if argv is None else argv)
                   if searches else distribute.Cluster())
        if cluster.is_worker:
            distribute.check_reachable(cluster)   # before loading anything: one line within --oracle-timeout
        else:
            check_requirements(task_info(name, module), args.quick)   # this module's, whatever $HWKIT_TASKS says
        distribute.configure_threads(cluster.threads or threads_from_environment())
        import keras
        keras.utils.set_random_seed(args.seed)
        config = {k: v for k, v in vars(args).items() if k not in ("report", "fresh")}
        policy = keras.config.dtype_policy()
        try:
            if hasattr(args, "strategy"):   # the task took training.add_device_arguments: --strategy, --precision
                from hwkit import training
                args.devices = training.setup_devices("default" if cluster.is_worker else args.strategy,
                                                      args.precision)
            if cluster.is_worker:
                return _search_worker(module, name, args, cluster)
            with runs.start_run(name, config, seed=args.seed, quick=args.quick, fresh=args.fresh,
                                code_module=module_name) as run, distribute.active(cluster):
                module.run(args, run)
        finally:
            keras.config.set_dtype_policy(policy)   # the next task in this process starts from the same precision
        print(f"run written to {run.path}")
        if args.report:
            print(f"report written to {render_report(name[0].upper(), include_quick=args.quick)}")
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


def _search_worker(module, name: str, args, cluster: distribute.Cluster) -> int:
    """Run the task as a search worker: up to the end of its search, in a scratch run directory."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory(prefix=f"hwkit-{name}-{cluster.tuner_id}-") as scratch:
        run = runs.Run(task=name, path=Path(scratch), quick=args.quick, seed=args.seed)
        try:
            with distribute.active(cluster):
                module.run(args, run)
        except distribute.WorkerFinished as done:
            print(done, flush=True)
            return 0
    raise HwkitError(f"task {name} finished without running a KerasTuner search, so it has no use for a worker")


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
    return {task: tuple(names) for task, names in getattr(_task_package(), "REPORT_BENCHMARKS", {}).items()}


def report_facts(assignment: str) -> dict:
    """The fixed settings assignment X's PDF states that no run records (``facts`` in its template).

    The task package's ``REPORT_FACTS`` maps a letter to the science modules that hold them; each
    module's ``REPORT_FACTS`` dict is computed there from the constants its code uses. Two modules
    may not state the same fact.
    """
    facts: dict = {}
    for module in getattr(_task_package(), "REPORT_FACTS", {}).get(assignment.upper(), ()):
        for key, value in importlib.import_module(module).REPORT_FACTS.items():
            if key in facts:
                raise HwkitError(f"report fact {key!r} of assignment {assignment} is stated by two modules")
            facts[key] = value
    return facts


def report_main(argv: Sequence[str] | None = None) -> int:
    with report_errors():
        titles = assignments()
    parser = OneLineArgumentParser(prog="python -m hwkit.report",
                                   description="Render an assignment's PDF from the latest runs of its tasks.")
    parser.add_argument("assignment", type=str.upper, choices=[*titles, "ALL"], metavar="{" + ",".join(titles) + ",all}",
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
    parser.add_argument("--jobs", type=bounded_int(1, distribute.max_local_processes(), "a number of tasks at a time",
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
                        help="ship runs made by older code or from a dirty tree (refused otherwise; the README says so)")
    args = parser.parse_args(argv)
    with report_errors():
        authors = [submit.parse_author(a) for a in args.authors]
        bundles = getattr(_task_package(), "SUBMISSIONS", {})
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
