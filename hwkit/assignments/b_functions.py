"""1-D function fitting (assignment B2–B4): target functions, their data sets, errors, dead ReLUs.

* ``runge`` — 1 / (1 + 25 x²) on [-1, 1], the classic example where equispaced polynomial
  interpolation diverges;
* ``oscillatory`` — Homework 5's piecewise f: 5 + Σ_{k=1..4} sin(kx) on [-π, 0), cos(10x) on [0, π];
* ``relative_l2_error`` — ||pred − true||₂ / ||true||₂ on a set of points (the assignment's "L² relative error");
* ``relu_activity`` — which ReLU units of a Keras model are dead (output 0 for every input of a grid);
* ``fit_function`` — ``Model.fit`` for these tiny problems: a fixed number of optimizer steps, run
  ``steps_per_epoch`` at a time inside one graph call (per-step Python overhead would otherwise
  dominate networks this small).
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

import keras
import numpy as np
import tensorflow as tf

from hwkit import models


def runge(x: np.ndarray) -> np.ndarray:
    """The Runge function 1 / (1 + 25 x²)."""
    return 1.0 / (1.0 + 25.0 * np.asarray(x) ** 2)


def oscillatory(x: np.ndarray) -> np.ndarray:
    """f(x) = 5 + Σ_{k=1..4} sin(kx) for x < 0, cos(10x) for x ≥ 0 (Homework 5, eq. 1)."""
    x = np.asarray(x)
    left = 5.0 + sum(np.sin(k * x) for k in range(1, 5))
    return np.where(x < 0, left, np.cos(10.0 * x))


def uniform_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """n equispaced points including both ends, as a float32 column (n, 1) ready for Keras."""
    return np.linspace(lo, hi, n, dtype=np.float32).reshape(-1, 1)


def noisy_samples(f, x: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """f(x) plus independent N(0, sigma²) noise, float32, same shape as x."""
    rng = np.random.default_rng(seed)
    return (f(x) + rng.normal(0.0, sigma, size=np.shape(x))).astype(np.float32)


def relative_l2_error(pred: np.ndarray, true: np.ndarray) -> float:
    """||pred − true||₂ / ||true||₂ over all points (0 = exact)."""
    pred, true = np.ravel(pred), np.ravel(true)
    return float(np.linalg.norm(pred - true) / np.linalg.norm(true))


def spread_first_layer_kinks(model: keras.Model, lo: float, hi: float, seed: int) -> None:
    """Set the first hidden layer's biases so that unit i's ReLU kink (where w_i x + b_i = 0) lies at a
    uniform random point of [lo, hi] (in the layer's input units).

    With the usual zero biases every first-layer kink sits at x = 0; a ReLU network then needs
    many steps to move them to where an oscillating target bends. Spreading them over the domain
    at initialisation fits oscillatory functions in far fewer steps.
    """
    layer = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    w = layer.kernel.numpy()[0]
    kinks = np.random.default_rng(seed).uniform(lo, hi, size=w.shape)
    layer.bias.assign((-w * kinks).astype(np.float32))


def relu_activity(model: keras.Model, x: np.ndarray) -> list[np.ndarray]:
    """For each hidden Dense layer with a ReLU activation: a bool array, True where the unit is dead.

    A unit is *dead* when its ReLU output is exactly 0 for every input in ``x``: no gradient
    flows through it for any of these inputs, so gradient descent can never revive it.
    """
    hidden = [layer for layer in model.layers
              if isinstance(layer, keras.layers.Dense) and layer.activation is keras.activations.relu]
    probe = keras.Model(model.inputs, [layer.output for layer in hidden])
    outputs = probe.predict(x, batch_size=len(x), verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return [np.all(out <= 0.0, axis=0) for out in outputs]


def fit_function(model: keras.Model, x: np.ndarray, y: np.ndarray, steps: int, learning_rate: float,
                 batch_size: int | None = None, steps_per_epoch: int = 100, seed: int = 0,
                 validation_data=None, callbacks=()) -> keras.callbacks.History:
    """Compile (Adam, cosine decay over ``steps``, MSE) and train for ``steps`` optimizer steps.

    ``batch_size=None`` is full-batch. One Keras "epoch" is ``steps_per_epoch`` steps, so the
    history and any callback see the loss every ``steps_per_epoch`` steps.
    """
    if steps % steps_per_epoch:
        raise ValueError(f"steps ({steps}) must be a multiple of steps_per_epoch ({steps_per_epoch})")
    batch = batch_size or len(x)
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
          .batch(batch, drop_remainder=True).prefetch(2))
    models.compile_regressor(model, learning_rate, total_steps=steps, steps_per_execution=steps_per_epoch)
    return model.fit(ds, steps_per_epoch=steps_per_epoch, epochs=steps // steps_per_epoch,
                     validation_data=validation_data, callbacks=list(callbacks), verbose=0)


# Homework 5, task 3: 80 noisy equispaced training points and 1000 equispaced test points on [-pi, pi].
OSCILLATORY_TRAIN_POINTS = 80
OSCILLATORY_TEST_POINTS = 1000
OSCILLATORY_NOISE = 0.1


def oscillatory_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, noisy y_train, x_test, exact f(x_test)) for B3/B4, all float32 columns."""
    x_train = uniform_grid(-np.pi, np.pi, OSCILLATORY_TRAIN_POINTS)
    y_train = noisy_samples(oscillatory, x_train, OSCILLATORY_NOISE, seed)
    x_test = uniform_grid(-np.pi, np.pi, OSCILLATORY_TEST_POINTS)
    return x_train, y_train, x_test, oscillatory(x_test).astype(np.float32)
