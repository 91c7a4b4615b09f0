"""A few steps of a tiny Keras model through hwkit's device path, for the multi-worker test.

``python tests/multiworker_fit.py STRATEGY OUT.npz``: ``hwkit.training.setup_devices(STRATEGY)``
(``multiworker`` reads ``TF_CONFIG``), build and compile in ``devices.scope()``, ``Model.fit`` on
fixed data with the global batch ``GLOBAL_BATCH``, then save the weights to ``OUT.npz``. Run it
in two processes with a two-worker ``TF_CONFIG`` and once alone with ``default``: the weights must
agree. Data, initial weights and batch order are fixed, so nothing but the strategy differs.
"""
from __future__ import annotations

import sys

import numpy as np

GLOBAL_BATCH = 32
STEPS = 4


def problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(GLOBAL_BATCH * STEPS, 6)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("int64")
    return x, y


def main(strategy: str, out: str) -> None:
    from hwkit import training  # imports TensorFlow quietly: before Keras
    # isort: split
    import keras

    devices = training.setup_devices(strategy, "float32")
    x, y = problem()
    with devices.scope():
        keras.utils.set_random_seed(0)      # same initial weights in every process
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2)])
        model.compile(keras.optimizers.SGD(0.5),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(training.dataset(x, y, GLOBAL_BATCH), epochs=1, shuffle=False, verbose=0)
    np.savez(out, *model.get_weights(), replicas=devices.replicas)


if __name__ == "__main__":
    main(*sys.argv[1:3])
