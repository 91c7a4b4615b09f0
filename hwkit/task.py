"""The task API: what a task module is, what it uses, and how the toolkit finds and checks it.

A task is a module of the task package (``tasks`` by default, ``$HWKIT_TASKS`` for another) named
after its assignment letter and number (``x1``, ``x12``) that satisfies ``Task`` (below). It uses
``choose_recipe`` (its FULL / QUICK recipe for this command line), ``bounded_int`` / ``bounded_float``
(types for its own flags, finite and bounded) and ends with::

    if __name__ == "__main__":
        raise SystemExit(main(__spec__.name))

Every task takes the common flags (``add_common_arguments``): ``--quick`` (tiny data, seconds;
results labelled as smoke results), ``--seed N``, ``--data-dir D``, ``--epochs N`` (overrides the
recipe's, at most ``QUICK_MAX_EPOCHS`` with ``--quick``), ``--fresh`` (a new run directory instead of
resuming an unfinished one); the toolkit's command line adds ``--report`` and, for a task that
``SEARCHES``, the distribution flags of ``hwkit.distribute``.

The toolkit loads a task module once (``load``, which discovery uses) and checks it against ``Task``
then: a module that breaks the contract stops the command with one ``error:`` line naming the module
and the fault.

Dependency rule: this module imports only the standard library and ``hwkit`` (``hwkit.runs`` inside
``check_requirements``). The command line (``hwkit.cli``), distributed search (``hwkit.distribute``,
gRPC) and PDF code (``hwkit.report``, WeasyPrint) import this module, never the reverse, so importing
a task loads none of them; ``main`` hands a task to ``hwkit.cli`` by name, only when it runs as a
program. ``hwkit.program.run_standalone`` runs a task without the toolkit at all.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.abc
import inspect
import math
import os
import pkgutil
import re
import sys
import types
from typing import Any, Callable, Mapping, Protocol, Sequence, TypeVar

from hwkit import HwkitError

TASK_NAME = re.compile(r"^[a-z]\d+$")   # assignment letter + task number: x1, x12
MAX_SEED = 2**32 - 1                    # numpy / Keras seeds are unsigned 32-bit
SEED_HEADROOM = 100_000                 # tasks derive seeds from --seed (seed + k): keep them below 2^32 too
MAX_EPOCHS = 10_000
MAX_TRIALS = 1_000                      # --trials of a search
MAX_SEEDS = 100                         # --seeds: repeated runs of one experiment
MAX_SECONDS = 86_400                    # a day: any time budget or timeout flag
QUICK_MAX_EPOCHS = 100                  # --quick means seconds: more epochs than this is refused
COMMAND_LINE = "hwkit.cli"              # the program ``main`` hands a task to (it imports this module)
R = TypeVar("R")


# ----------------------------------------------------------------------------- the contract

class Task(Protocol):
    """What a task module defines. ``load`` checks it once; the toolkit reads it only through ``TaskModule``.

    ``__doc__``   required; its first line describes the task (``python -m tasks``, the PDF, ``--help``).
    ``run``       required: ``run(args, run)`` does the work; ``args`` are the parsed flags, ``run`` the
                  ``hwkit.runs.Run`` directory it writes figures, tables, models and metrics to.
    ``REQUIRES``  optional, default ``()``: the tasks whose latest runs it reads (``("x1", "x2")``); they run
                  first, and a missing one stops the task with one line naming the command that makes it.
                  A dict of them to what the task reads of each (``{"x1": {"tables/summary.json": schema}}``,
                  see ``hwkit.runs.require_run``) has those files checked too, before the task starts.
    ``SEARCHES``  optional, default False: True when it runs a KerasTuner search; it then takes the
                  distribution flags (``--workers N``, ``--tuner-role`` ...) and a search worker runs it
                  only up to its search.
    ``add_arguments``  optional: ``add_arguments(parser)`` adds the task's own flags to the argparse parser.
    """

    REQUIRES: tuple[str, ...] | Mapping[str, Mapping]
    SEARCHES: bool

    def run(self, args: argparse.Namespace, run) -> None: ...

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """What a report knows of a task: its name (``x1``), one-line description and the tasks it reads.

    ``needs``: for each of those tasks, the files of its run this one reads and their schemas
    (``hwkit.runs.require_run``), checked before the task starts.
    """

    name: str
    description: str
    requires: tuple[str, ...] = ()
    needs: Mapping[str, Mapping] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def assignment(self) -> str:
        return self.name[0].upper()


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``add_arguments`` of a task that has no flags of its own."""


@dataclasses.dataclass(frozen=True)
class TaskModule:
    """A task module that passed ``check``: its members, the optional ones filled in with their defaults."""

    module: types.ModuleType
    name: str                                                   # x1
    description: str                                            # the docstring's first line
    run: Callable[[argparse.Namespace, Any], None]
    requires: tuple[str, ...] = ()
    searches: bool = False
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    needs: Mapping[str, Mapping] = dataclasses.field(default_factory=dict)

    @property
    def info(self) -> TaskInfo:
        return TaskInfo(self.name, self.description, self.requires, self.needs)


def _takes(function, *args) -> bool:
    try:
        inspect.signature(function).bind(*args)
    except TypeError:
        return False
    except ValueError:   # no signature to read (a builtin): trust it
        return True
    return True


def check(module: types.ModuleType, name: str | None = None) -> TaskModule:
    """``module`` as a ``TaskModule``, or one HwkitError naming it and what breaks the contract (``Task``)."""
    label = getattr(getattr(module, "__spec__", None), "name", None) or module.__name__
    name = name or label.rsplit(".", 1)[-1]

    def fault(what: str) -> HwkitError:
        return HwkitError(f"task module {label} {what} (see hwkit.task.Task)")

    doc = (module.__doc__ or "").strip()
    if not doc:
        raise fault("has no docstring: its first line describes the task")
    run = getattr(module, "run", None)
    if not callable(run) or not _takes(run, None, None):
        raise fault("defines no run(args, run)" if run is None else "has a run that does not take (args, run)")
    requires = getattr(module, "REQUIRES", ())
    needs = dict(requires) if isinstance(requires, Mapping) else {}
    if isinstance(requires, str) or not isinstance(requires, (tuple, list, Mapping)) or not all(
            isinstance(r, str) and TASK_NAME.match(r) for r in requires) or not all(
            isinstance(n, Mapping) for n in needs.values()):
        raise fault(f"has REQUIRES = {requires!r}: it must be a tuple of task names such as ('x1',), "
                    "or a dict of them to the files read")
    if name in requires:
        raise fault(f"requires itself (REQUIRES = {tuple(requires)!r})")
    searches = getattr(module, "SEARCHES", False)
    if not isinstance(searches, bool):
        raise fault(f"has SEARCHES = {searches!r}: it must be True or False")
    add_arguments = getattr(module, "add_arguments", None)
    if add_arguments is not None and not (callable(add_arguments) and _takes(add_arguments, None)):
        raise fault("has an add_arguments that does not take (parser)")
    return TaskModule(module, name, doc.splitlines()[0], run, tuple(requires), searches,
                      add_arguments or _no_arguments, needs)


# ----------------------------------------------------------------------------- discovery

_LOADED: dict[str, TaskModule] = {}


def task_package_name() -> str:
    return os.environ.get("HWKIT_TASKS") or "tasks"


def task_package() -> types.ModuleType:
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
    if not hasattr(package, "ASSIGNMENTS") and not any(TASK_NAME.match(m.name)
                                                       for m in pkgutil.iter_modules(package.__path__)):
        raise HwkitError(f"{where} holds no task modules (x1, x12 ...) and no ASSIGNMENTS: not a task package; {fix}")
    return package


def load(module_name: str) -> TaskModule:
    """Import task ``module_name`` (``<package>.<name>``) and check it, once per module object."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) == module_name:
        module = main   # run as `python -m tasks.x`: use the running module, don't import a second copy
    else:
        module = importlib.import_module(module_name)
    loaded = _LOADED.get(module_name)
    # checked again for a fresh copy of a package, or a module whose run was replaced since (a test's patch)
    if loaded is None or loaded.module is not module or loaded.run is not getattr(module, "run", None):
        loaded = _LOADED[module_name] = check(module, module_name.rsplit(".", 1)[-1])
    return loaded


def task_info(name: str) -> TaskInfo:
    return load(f"{task_package().__name__}.{name}").info


def _natural(name: str) -> tuple:
    return name[0], int(name[1:])


def discover_tasks(assignment: str | None = None) -> list[TaskInfo]:
    """The task modules (of one assignment, or all), checked, in natural order: x2 before x10."""
    names = sorted((m.name for m in pkgutil.iter_modules(task_package().__path__)
                    if TASK_NAME.match(m.name) and (assignment is None or m.name[0] == assignment.lower())),
                   key=_natural)
    return [task_info(n) for n in names]


def assignments() -> dict[str, str]:
    """Assignment letter -> title: the task package's ``ASSIGNMENTS``, plus any letter that has tasks."""
    titles = dict(getattr(task_package(), "ASSIGNMENTS", {}))
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
    from hwkit import runs
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


# ----------------------------------------------------------------------------- what a task uses

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


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every task takes (checked further by ``parse_arguments``)."""
    parser.add_argument("--quick", action="store_true", help="tiny data and few epochs (smoke test, seconds)")
    parser.add_argument("--seed", type=bounded_int(0, MAX_SEED, "a seed"), default=0,
                        help=f"random seed, 0..{MAX_SEED - SEED_HEADROOM} (default 0)")
    parser.add_argument("--data-dir", help="dataset directory (default: $HWKIT_DATA_DIR, ~/.keras/datasets)")
    parser.add_argument("--epochs", type=bounded_int(1, MAX_EPOCHS, "a positive number of epochs"),
                        help=f"override the task's number of epochs (1..{MAX_EPOCHS})")
    parser.add_argument("--fresh", action="store_true",
                        help="start a new run directory instead of resuming an unfinished run of this command")


def parse_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.quick and (args.epochs or 0) > QUICK_MAX_EPOCHS:
        parser.error(f"--quick runs take seconds: --epochs {args.epochs} is more than {QUICK_MAX_EPOCHS}; "
                     "drop --quick for a full run")
    if args.seed > MAX_SEED - SEED_HEADROOM:
        parser.error(f"--seed {args.seed}: tasks derive more seeds from it (seed + k) and each must stay below 2^32; "
                     f"use 0..{MAX_SEED - SEED_HEADROOM}")
    return args


def run_config(args: argparse.Namespace) -> dict:
    """The settings a run records (and resumes by): every flag but those that only steer this command."""
    return {k: v for k, v in vars(args).items() if k not in ("report", "fresh")}


# ----------------------------------------------------------------------------- a task as a program

def main(module_name: str, argv: Sequence[str] | None = None) -> int:
    """``python -m <package>.<name>``: run the task with the toolkit's command line (``hwkit.cli.task_main``).

    The command line is looked up by name, as ``python -m`` would: it imports this module, so this
    module may not import it, and a task imported for its names (a report, a test) never loads it.
    """
    return importlib.import_module(COMMAND_LINE).task_main(module_name, argv)
