"""What makes a hwkit command a well-behaved program, and a task a program of its own.

Every command line (``hwkit.cli``) and ``run_standalone`` share this: a bad flag is one line and exit
status 2 (``OneLineArgumentParser``); a user-fixable error is one ``error:`` line, no traceback;
Ctrl-C and SIGTERM mark the run ``interrupted`` (exit 130 / 143) so that rerunning the command
resumes it (``report_errors``).

``run_standalone`` runs a task module without the toolkit's command line: the common flags and the
task's own, a run directory, seeds. It imports only the standard library, numpy and ``hwkit`` modules
that do the same (``task``, ``runs``, ``data``), so a hand-in whose course allows only numpy can re-run
its task with nothing else installed.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import signal
import sys
import types
from typing import Iterator, Sequence

import numpy as np

from hwkit import HwkitError, runs
from hwkit.task import add_common_arguments, check, check_requirements, parse_arguments, run_config


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one readable line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


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


USER_FIXABLE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


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


def run_standalone(module: types.ModuleType, argv: Sequence[str] | None = None, *, name: str | None = None,
                   code_module: str | None = None, prog: str | None = None) -> int:
    """Run a task module without the toolkit's command line: the common flags and the task's own, a run
    directory, seeds — no TensorFlow, distributed search or PDF (a hand-in whose course allows only numpy).

    ``name`` is the task's name when the module was loaded under another (a launcher's file), ``code_module``
    its module's name in its package (what the run's code fingerprint starts from); ``prog`` the command
    shown in ``--help``.
    """
    with report_errors():
        task = check(module, name)
        if task.searches:
            raise HwkitError(f"task {task.name} runs a KerasTuner search: run it with "
                             f"`{runs.task_command(task.name)}`")
    parser = OneLineArgumentParser(prog=prog or f"python {os.path.basename(sys.argv[0])}",
                                   description=task.description,
                                   epilog="Results go to runs/<task>/<UTC time>-s<seed>/.")
    add_common_arguments(parser)
    task.add_arguments(parser)
    args = parse_arguments(parser, argv)
    with report_errors():
        check_requirements(task.info, args.quick)
        random.seed(args.seed)      # what keras.utils.set_random_seed does, TensorFlow aside
        np.random.seed(args.seed)
        with runs.start_run(task.name, run_config(args), seed=args.seed, quick=args.quick, fresh=args.fresh,
                            code_module=code_module or module.__name__) as run:
            task.run(args, run)
    print(f"run written to {run.path}")
    return 0
