"""Atomic file writes (a reader never sees half a file, and a failed write leaves nothing behind), and paths
written in a form that means the same on another machine (``portable_path``)."""
from __future__ import annotations

import contextlib
import posixpath
import re
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Iterator


@contextlib.contextmanager
def atomic_file(path: Path, tmp: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (default ``<name>.part``) to write; when the block ends it is
    renamed onto ``path``. If the block or the rename fails, the temporary file is removed and the error
    goes on to the caller, which names the file in its own words."""
    tmp = Path(tmp) if tmp is not None else path.with_name(path.name + ".part")
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


OUTSIDE = "<outside the project>"
_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\/])")


def is_machine_path(text: str) -> bool:
    """``text`` is an absolute path of some machine: POSIX ``/a/b...`` (two parts at least, the first without
    a colon, so TensorFlow's ``/device:CPU:0`` and ``/job:x/...`` are not paths) or Windows ``C:\\...``,
    ``\\\\host\\...``."""
    if _WINDOWS.match(text):
        return True
    if not text.startswith("/") or "\n" in text:
        return False
    parts = [p for p in text.split("/") if p]
    return len(parts) >= 2 and ":" not in parts[0]


def portable_path(path: str | PurePath, project_root: str | PurePath, data_dir: str | PurePath | None = None,
                  home: str | PurePath | None = None, runs_dir: str | PurePath | None = None) -> str:
    """``path`` as a run record should keep it: meaningful on another machine, naming none of this one's folders.

    Below ``project_root``: relative to it (``tasks/x.py``; the root itself is ``.``); below ``data_dir``:
    ``$HWKIT_DATA_DIR/...``; below ``runs_dir``: ``$HWKIT_RUNS_DIR/...``; below ``home``: ``~/...``; elsewhere:
    ``<outside the project>/<file name>``. The first root that holds it wins, in that order. A relative path (or
    anything that is not a machine path, see ``is_machine_path``) is returned as it is. Lexical only: the caller
    passes resolved paths when symbolic links matter. Roots that are not absolute, or are ``/``, are ignored."""
    text = str(path)
    if not is_machine_path(text):
        return text
    if _WINDOWS.match(text):
        return f"{OUTSIDE}/{PureWindowsPath(text).name}"
    p = PurePosixPath(posixpath.normpath(text))
    for root, label in ((project_root, None), (data_dir, "$HWKIT_DATA_DIR"), (runs_dir, "$HWKIT_RUNS_DIR"),
                        (home, "~")):
        if root is None or not str(root).startswith("/"):
            continue
        base = PurePosixPath(posixpath.normpath(str(root)))
        if base == PurePosixPath("/") or not p.is_relative_to(base):
            continue
        rest = p.relative_to(base).as_posix()
        if label is None:
            return rest
        return label if rest == "." else f"{label}/{rest}"
    return f"{OUTSIDE}/{p.name}"
