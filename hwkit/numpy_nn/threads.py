"""Run numpy's BLAS on one thread while a hand-written training loop runs.

Why: the numpy networks multiply small matrices (a 100 x 784 batch by a 784 x 32 weight). On
this workplace's 2 shared CPU cores OpenBLAS's worker threads spin-wait for each other and a
(100, 784) @ (784, 32) float32 product took ~8 ms with 2 threads against ~0.17 ms with one
(measured); one thread is also what a fair numpy-vs-Keras comparison per core wants.
No dependency: the OpenBLAS that numpy loaded is found in /proc/self/maps and called through
ctypes; where that is impossible (another BLAS, another OS) this is a no-op.
"""
from __future__ import annotations

import contextlib
import ctypes
from typing import Iterator

import numpy as np  # noqa: F401  (loads the BLAS library this module looks for)

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas():
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            return setter, getter
    return None


def blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None if it cannot be queried."""
    found = _openblas()
    return int(found[1]()) if found else None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit OpenBLAS to one thread inside the block and restore the previous count after it."""
    found = _openblas()
    if found is None:
        yield
        return
    setter, getter = found
    previous = int(getter())
    setter(1)
    try:
        yield
    finally:
        setter(previous)
