"""The command line shared by every task: common flags, seeding, one-line errors.

A task module defines ``run(args, run)`` (and optionally ``add_arguments(parser)``) and ends with
``if __name__ == "__main__": raise SystemExit(task_main(__spec__.name))``.
Common flags: ``--quick`` (tiny data, seconds; results labelled as smoke results), ``--seed N``,
``--data-dir D``, ``--epochs N`` (override the task's default), ``--report`` (render the
assignment PDF afterwards).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from typing import Iterator, Sequence

from hwkit import HwkitError


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one readable line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


@contextlib.contextmanager
def report_errors() -> Iterator[None]:
    """Turn user-fixable errors into one line on stderr and a non-zero exit, no traceback."""
    try:
        yield
    except HwkitError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _task_module(module_name: str):
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) == module_name:
        return main  # run as `python -m tasks.x`: use the running module, don't import a second copy
    return importlib.import_module(module_name)


def task_main(module_name: str, argv: Sequence[str] | None = None) -> int:
    """Parse the flags of task ``module_name``, seed everything, open a run directory, call its ``run``."""
    module = _task_module(module_name)
    name = module_name.rsplit(".", 1)[-1]
    parser = OneLineArgumentParser(prog=f"python -m tasks.{name}", description=module.__doc__.strip().splitlines()[0],
                                   epilog="Results go to runs/<task>/<UTC time>-s<seed>/.")
    parser.add_argument("--quick", action="store_true", help="tiny data and few epochs (smoke test, seconds)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--data-dir", help="dataset directory (default: $HWKIT_DATA_DIR, ~/.keras/datasets)")
    parser.add_argument("--epochs", type=positive_int, help="override the task's number of epochs")
    parser.add_argument("--report", action="store_true", help="render the assignment PDF afterwards")
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    args = parser.parse_args(argv)

    with report_errors():
        import keras
        from hwkit import runs
        keras.utils.set_random_seed(args.seed)
        config = {k: v for k, v in vars(args).items() if k != "report"}
        with runs.start_run(name, config, seed=args.seed, quick=args.quick) as run:
            module.run(args, run)
        print(f"run written to {run.path}")
        if args.report:
            from hwkit import report
            print(f"report written to {report.render(name[0].upper(), include_quick=args.quick)}")
    return 0
