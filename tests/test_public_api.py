"""KerasTuner and Keras through their public API, and the one adapter that holds the rest.

``hwkit.private_api`` is the only file that may touch ``keras_tuner.src``; it checks the installed
version at import and fails with one line naming the supported ones. Keras' resume epoch is passed
as ``Model.fit(initial_epoch=...)`` (``hwkit.training.fit``), never written into the model.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest

from hwkit import HwkitError, private_api, training

ROOT = Path(__file__).resolve().parents[1]
ADAPTER = ROOT / "hwkit" / "private_api.py"
PRIVATE_IMPORT = re.compile(r"\bkeras_tuner\s*\.\s*src\b|from\s+keras_tuner\s+import\s+[^\n]*\bsrc\b"
                            r"|\bkeras\s*\.\s*src\b|from\s+keras\s+import\s+[^\n]*\bsrc\b")
INITIAL_EPOCH_WRITE = re.compile(r"\._initial_epoch\s*=(?!=)|setattr\([^)]*[\"']_initial_epoch[\"']")


def python_files() -> list[Path]:
    skip = {".git", ".venv", "venv", "build", "dist", "node_modules", "__pycache__"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def test_the_adapters_private_names_exist_on_the_installed_keras_tuner():
    private_api.check_version(keras_tuner.__version__)
    assert private_api.PRIVATE_NAMES
    for module, name in private_api.PRIVATE_NAMES:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name}"
    [(module, _)] = private_api.PRIVATE_NAMES
    oracle_client = importlib.import_module(module)
    before = oracle_client.TIMEOUT
    with private_api.request_timeout(2.5):
        assert oracle_client.TIMEOUT == 2.5
    assert oracle_client.TIMEOUT == before


@pytest.mark.parametrize("version", ["1.3.5", "1.5.0", "2.0.0", "14.1"])
def test_an_unsupported_keras_tuner_is_one_line_naming_the_supported_versions(version):
    with pytest.raises(HwkitError) as caught:
        private_api.check_version(version)
    message = str(caught.value)
    assert "\n" not in message and version in message
    assert all(f"{s}.x" in message for s in private_api.SUPPORTED_KERAS_TUNER)


def test_importing_the_adapter_under_an_unsupported_keras_tuner_fails(monkeypatch):
    monkeypatch.setattr(keras_tuner, "__version__", "9.9.9")
    try:
        with pytest.raises(HwkitError, match=r"supports KerasTuner 1\.4\.x, found 9\.9\.9"):
            importlib.reload(private_api)
    finally:
        monkeypatch.undo()
        importlib.reload(private_api)


def test_no_private_keras_tuner_or_keras_import_outside_the_adapter():
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in python_files() if p != ADAPTER
                 for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
                 if PRIVATE_IMPORT.search(line) and p.name != Path(__file__).name]
    assert not offenders, offenders
    assert PRIVATE_IMPORT.search(ADAPTER.read_text())      # the grep does find what it looks for


def test_nothing_writes_the_models_initial_epoch():
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in python_files() if p.name != Path(__file__).name
                 for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
                 if INITIAL_EPOCH_WRITE.search(line)]
    assert not offenders, offenders
    assert INITIAL_EPOCH_WRITE.search("self.model._initial_epoch = 3")


def tiny():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


def test_training_fit_resumes_at_the_checkpoint_epoch_and_plain_fit_refuses_to_retrain(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    first = tiny()
    training.fit(first, x, y, epochs=2, batch_size=8, verbose=0, callbacks=[training.ResumeFromBackup(tmp_path)])

    resumed = tiny()
    history = training.fit(resumed, x, y, epochs=3, batch_size=8, verbose=0,
                           callbacks=[training.ResumeFromBackup(tmp_path)])
    assert history.epoch == [2]                                          # Model.fit(initial_epoch=2)
    assert int(resumed.optimizer.iterations.numpy()) == 3 * 4            # 2 restored epochs + 1, 4 steps each

    with pytest.raises(RuntimeError, match=r"hwkit\.training\.fit"):     # would retrain epochs 0.. on top
        tiny().fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[training.ResumeFromBackup(tmp_path)])


def test_the_in_memory_weights_file_loads_like_one_keras_wrote(tmp_path):
    import keras
    import numpy as np
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    image = private_api.weights_file_bytes(model)
    assert image is not None, "the installed Keras lacks the internals the adapter pins"
    (tmp_path / "w.weights.h5").write_bytes(image)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.load_weights(str(tmp_path / "w.weights.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
