"""What makes a hwkit command a well-behaved program.

Every command line (``hwkit.cli``) shares this: a bad flag is one line and exit
status 2 (``OneLineArgumentParser``); a user-fixable error is one ``error:`` line, no traceback;
Ctrl-C and SIGTERM mark the run ``interrupted`` (exit 130 / 143) so that rerunning the command
resumes it (``report_errors``).
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import sys
from typing import Iterator

from hwkit import HwkitError


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
