"""Run numpy's BLAS on one thread while a hand-written training loop runs (threadpoolctl).

Why: the numpy networks multiply small matrices (a 100 x 784 batch by a 784 x 32 weight). On
this workplace's 2 shared CPU cores OpenBLAS's worker threads spin-wait for each other and a
(100, 784) @ (784, 32) float32 product took ~8 ms with 2 threads against ~0.17 ms with one
(measured); one thread is also what a fair numpy-vs-Keras comparison per core wants.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from threadpoolctl import threadpool_info, threadpool_limits


def blas_threads() -> int | None:
    """The BLAS thread count numpy runs with (the first BLAS library loaded), or None if there is none."""
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    return blas[0]["num_threads"] if blas else None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block; the previous count is restored after it."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
