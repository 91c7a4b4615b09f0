"""Multi-device training: MirroredStrategy on this CPU split into 2 logical devices, precision policies."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hwkit import HwkitError, training

ROOT = Path(__file__).resolve().parents[1]

# Logical devices must be configured before TensorFlow initialises, hence a fresh process.
MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    from hwkit import tf_runtime
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from hwkit import training

    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 3, size=32)

    def model_after(devices, steps, weights=None):
        with devices.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                      keras.layers.Dense(3)])
            model.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        if weights is not None:
            model.set_weights(weights)
        start = [w.copy() for w in model.get_weights()]
        history = model.fit(x[:16 * steps], y[:16 * steps], batch_size=16, epochs=1, shuffle=False, verbose=0)
        return start, model.get_weights(), history.history["loss"]

    default = training.Devices("default", training.strategy("default"))
    mirrored = training.Devices("mirrored", training.strategy("mirrored"))
    start, after_default, _ = model_after(default, steps=1)
    _, after_mirrored, _ = model_after(mirrored, steps=1, weights=start)
    _, _, losses = model_after(mirrored, steps=2, weights=start)
    print(json.dumps({
        "replicas": mirrored.replicas, "per_replica": mirrored.per_replica_batch(16),
        "devices": mirrored.describe()["devices"],
        "moved": max(float(np.abs(a - b).max()) for a, b in zip(after_default, start)),
        "difference": max(float(np.abs(a - b).max()) for a, b in zip(after_default, after_mirrored)),
        "losses": losses}))
""")


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus_matches_one_device_step():
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and out["per_replica"] == 8 and len(out["devices"]) == 2, out
    assert out["moved"] > 1e-3                       # the step did change the weights ...
    assert out["difference"] < 1e-5, out             # ... identically on 2 replicas x 8 and 1 device x 16
    assert all(v == v for v in out["losses"])        # and training runs on (finite loss)


CPU_WITH_BF16 = "processor : 0\nflags : fpu sse avx512f avx512_bf16 amx_tile\n"
CPU_WITHOUT = "processor : 0\nflags : fpu sse avx2\n"


def test_precision_follows_the_device():
    assert training.cpu_supports_bfloat16(CPU_WITH_BF16) and not training.cpu_supports_bfloat16(CPU_WITHOUT)
    assert training.precision_policy("auto", gpus=1, cpuinfo=CPU_WITHOUT) == "mixed_float16"
    assert training.precision_policy("auto", gpus=0, cpuinfo=CPU_WITH_BF16) == "mixed_bfloat16"
    assert training.precision_policy("auto", gpus=0, cpuinfo=CPU_WITHOUT) == "float32"
    assert training.precision_policy("float32", gpus=1) == "float32"
    assert training.precision_policy("bfloat16", gpus=0, cpuinfo=CPU_WITH_BF16) == "mixed_bfloat16"
    with pytest.raises(HwkitError, match="needs a GPU or a CPU with AVX512_BF16"):
        training.precision_policy("bfloat16", gpus=0, cpuinfo=CPU_WITHOUT)
    with pytest.raises(HwkitError, match="mixed_float16 needs a GPU"):
        training.precision_policy("mixed_float16", gpus=0)


def test_strategies_by_name_and_the_global_batch_rule(monkeypatch):
    devices = training.Devices("default", training.strategy("default"))
    assert devices.replicas == 1 and devices.per_replica_batch(128) == 128
    assert devices.describe(128)["global_batch_size"] == 128
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(HwkitError, match="TF_CONFIG"):
        training.strategy("multiworker")
    with pytest.raises(HwkitError, match="unknown strategy"):
        training.strategy("tpu")
