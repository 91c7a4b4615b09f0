"""Atomic file writes: a reader never sees half a file, and a failed write leaves nothing behind."""
from __future__ import annotations

import contextlib
from pathlib import Path
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
