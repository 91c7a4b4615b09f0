"""The one place hwkit uses KerasTuner or Keras internals, checked against the versions it was written for.

Everything else in hwkit uses public API: KerasTuner's documented distributed mode (the
``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT`` environment
variables; the chief runs ``Tuner.search``, which serves the oracle), public ``Oracle`` methods
and attributes, ``keras_tuner.engine.trial.TrialStatus``, and ``Model.fit(initial_epoch=...)``.

What has no public way: a worker's requests to the chief wait up to an hour each
(``keras_tuner.src.distribute.oracle_client.TIMEOUT``), so a worker whose chief has gone would
hang that long; hwkit bounds them by ``--oracle-timeout``. Importing this module checks the
installed KerasTuner version and that the internal names still exist, and fails with one
``HwkitError`` line otherwise, so an update cannot break a distributed search silently.
Keras: a checkpoint must never let HDF5 meet a full disk itself (it keeps the half-written file open
and the process crashes), so ``weights_file_bytes`` builds the ``.weights.h5`` image in memory with
Keras' own writer (``keras.src.saving.saving_lib``) and hwkit writes the bytes. Where this Keras lacks
those names it returns None and ``hwkit.training`` falls back to the public ``Model.save_weights``.
A test (tests/test_public_api.py) pins this contract and keeps ``keras_tuner.src`` and ``keras.src``
out of every other file.
"""
from __future__ import annotations

import contextlib
import importlib
import io
from typing import Iterator

import keras_tuner

from hwkit import HwkitError

SUPPORTED_KERAS_TUNER = ("1.4",)          # release series this module was checked against
# (module, attribute) of every internal used below; all must exist on the installed version.
PRIVATE_NAMES = (("keras_tuner.src.distribute.oracle_client", "TIMEOUT"),)


def check_version(version: str) -> None:
    """Raise one-line ``HwkitError`` unless ``version`` is in a supported KerasTuner series."""
    if ".".join(version.split(".")[:2]) not in SUPPORTED_KERAS_TUNER:
        supported = ", ".join(f"{s}.x" for s in SUPPORTED_KERAS_TUNER)
        raise HwkitError(f"hwkit's distributed search supports KerasTuner {supported}, found {version}: "
                         f"install a supported version (pip install 'keras-tuner~={SUPPORTED_KERAS_TUNER[-1]}.0')")


def _check_names() -> None:
    for module, name in PRIVATE_NAMES:
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        if not found:
            raise HwkitError(f"KerasTuner {keras_tuner.__version__} has no {module}.{name}, which hwkit's "
                             f"distributed search needs: install KerasTuner "
                             f"{', '.join(f'{s}.x' for s in SUPPORTED_KERAS_TUNER)}")


check_version(keras_tuner.__version__)
_check_names()


@contextlib.contextmanager
def request_timeout(seconds: float) -> Iterator[None]:
    """Bound each request a KerasTuner worker sends to its chief to ``seconds`` (KerasTuner: 1 hour)."""
    from keras_tuner.src.distribute import oracle_client
    saved, oracle_client.TIMEOUT = oracle_client.TIMEOUT, seconds
    try:
        yield
    finally:
        oracle_client.TIMEOUT = saved


def weights_file_bytes(model) -> bytes | None:
    """The bytes of the file ``model.save_weights`` writes (``.weights.h5``), built in memory by Keras' own
    writer (the calls of ``saving_lib.save_weights_only``: ``H5IOStore`` takes a BytesIO); None where this
    Keras has not those internals."""
    try:
        from keras.src.saving import saving_lib
        buffer = io.BytesIO()
        store = saving_lib.H5IOStore(buffer, mode="w")
        saving_lib._save_state(model, store, None, "", set())
        store.close()
    except (ImportError, AttributeError, TypeError):
        return None
    return buffer.getvalue()
