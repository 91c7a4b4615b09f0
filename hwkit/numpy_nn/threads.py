"""Run numpy's BLAS on one thread while a hand-written training loop runs (threadpoolctl, where installed).

Why: the numpy networks multiply small matrices (a 100 x 784 batch by a 784 x 32 weight). On
this workplace's 2 shared CPU cores OpenBLAS's worker threads spin-wait for each other and a
(100, 784) @ (784, 32) float32 product took ~8 ms with 2 threads against ~0.17 ms with one
(measured); one thread is also what a fair numpy-vs-Keras comparison per core wants.

threadpoolctl is optional: a hand-in whose course allows only numpy runs this code where it is not
installed (or not allowed), and then BLAS keeps its own thread count — slower, same numbers.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_info = threadpool_limits = None


def blas_threads() -> int | None:
    """The BLAS thread count numpy runs with (the first BLAS library loaded), or None if there is none
    (or threadpoolctl, which reads it, is not installed)."""
    if threadpool_info is None:
        return None
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    return blas[0]["num_threads"] if blas else None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (where threadpoolctl is installed); the previous count is
    restored after it."""
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
