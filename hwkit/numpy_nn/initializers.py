"""Weight and bias initializers. Each returns a new array; ``rng`` makes them repeatable.

Signatures follow the PyTorch-like coursework template: a weight initializer takes the two sizes
(fan-in, fan-out) and returns that shape, a bias initializer takes one size; both accept an optional
``rng`` and ``dtype``.
"""
from __future__ import annotations

import numpy as np


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def xavier_uniform(d0: int, d1: int, rng: np.random.Generator | None = None, dtype=np.float32) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).

    The same distribution as ``tf.contrib.layers.xavier_initializer()`` (uniform by default) and
    Keras' ``glorot_uniform``: it keeps activation and gradient variances roughly equal across layers.
    """
    limit = np.sqrt(6.0 / (d0 + d1))
    return _rng(rng).uniform(-limit, limit, size=(d0, d1)).astype(dtype)


def random_normal_weight_init(d0: int, d1: int, rng: np.random.Generator | None = None,
                              dtype=np.float32) -> np.ndarray:
    """The coursework API's "initialize weight matrix W from standard normal distribution" — N(0, 1), literally.

    With 784 inputs, N(0, 1) weights make pre-activations of standard deviation ~sqrt(784 * E[x^2])
    (~10 for MNIST pixels in [0, 1]), which saturates the softmax and sigmoid/tanh units; a task
    measures this on the validation split and trains with ``he_normal_weight_init`` instead.
    """
    return _rng(rng).standard_normal((d0, d1)).astype(dtype)


def he_normal_weight_init(d0: int, d1: int, rng: np.random.Generator | None = None,
                          dtype=np.float32) -> np.ndarray:
    """``random_normal_weight_init`` scaled by sqrt(2 / d0) (He et al. 2015).

    The scale keeps the variance of ReLU pre-activations constant from layer to layer, so a deep
    or wide MLP starts in a trainable regime.
    """
    return (random_normal_weight_init(d0, d1, rng, np.float64) * np.sqrt(2.0 / d0)).astype(dtype)


def zeros_bias_init(d: int, dtype=np.float32) -> np.ndarray:
    """The coursework API's "initialize bias vector b from zeros"."""
    return np.zeros(d, dtype=dtype)
