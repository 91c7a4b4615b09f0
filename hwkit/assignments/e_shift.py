"""Shift equivariance and invariance, checked numerically (assignment E6-E7).

A layer f is shift *equivariant* (time/space invariant in the signal-processing sense) when
shifting its input shifts its output: f(S_s x) = S_t f(x) with t = s (or s / stride); it is
shift *invariant* when f(S_s x) = f(x). Shifts here are circular (``numpy.roll`` over the
spatial axes), so there are no borders to blur the answer; ``zero_padded_error`` shows what
borders do to an ordinary zero-padded convolution.

Images are (H, W, C) float64 arrays; kernels are (k, k, C_in, C_out) as in Keras. The layers
are Keras' own ops (``keras.ops.conv``, ``max_pool``, ``average_pool``, ``relu``), so the checks
test the operators a CNN actually runs.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

import itertools
from typing import Callable

import keras
import numpy as np

Layer = Callable[[np.ndarray], np.ndarray]


def shift(x: np.ndarray, s: tuple[int, int]) -> np.ndarray:
    """Circular shift of an (H, W, ...) array by s = (rows, columns): (S_s x)[n] = x[n - s]."""
    return np.roll(x, s, axis=(0, 1))


def _batched(op: Callable, x: np.ndarray) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(op(keras.ops.convert_to_tensor(x[None]))))[0]


def circular_conv(kernel: np.ndarray, bias: np.ndarray | None = None) -> Layer:
    """Stride-1 convolution layer with circular padding (Keras cross-correlation + optional bias)."""
    k = kernel.shape[0]
    lo, hi = (k - 1) // 2, k // 2

    def f(x: np.ndarray) -> np.ndarray:
        padded = np.pad(x, ((lo, hi), (lo, hi), (0, 0)), mode="wrap")
        y = _batched(lambda t: keras.ops.conv(t, kernel, strides=1, padding="valid"), padded)
        return y if bias is None else y + bias
    return f


def zero_padded_conv(kernel: np.ndarray) -> Layer:
    """The usual ``padding="same"`` convolution: zeros beyond the borders."""
    return lambda x: _batched(lambda t: keras.ops.conv(t, kernel, strides=1, padding="same"), x)


def add_constant(c: float) -> Layer:
    return lambda x: x + c


def relu(x: np.ndarray) -> np.ndarray:
    return _batched(keras.ops.relu, x)


def max_pool(stride: int) -> Layer:
    """Max pooling over stride x stride windows with that stride (downsampling by ``stride``)."""
    return lambda x: _batched(lambda t: keras.ops.max_pool(t, stride, strides=stride, padding="valid"), x)


def average_pool(stride: int) -> Layer:
    return lambda x: _batched(lambda t: keras.ops.average_pool(t, stride, strides=stride, padding="valid"), x)


def global_average_pool(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=(0, 1), keepdims=True)


def compose(*layers: Layer) -> Layer:
    def f(x: np.ndarray) -> np.ndarray:
        for layer in layers:
            x = layer(x)
        return x
    return f


def best_output_shift(f: Layer, x: np.ndarray, s: tuple[int, int]) -> tuple[tuple[int, int], float]:
    """The output shift t minimising max |f(S_s x) - S_t f(x)|, and that error.

    Error ~ 0 (float round-off) for some t: shifting the input just shifts the output (by t);
    error clearly > 0 for every t: no output shift reproduces the effect of the input shift.
    """
    fx, fsx = f(x), f(shift(x, s))
    errors = {t: float(np.max(np.abs(fsx - shift(fx, t))))
              for t in itertools.product(range(fx.shape[0]), range(fx.shape[1]))}
    t = min(errors, key=errors.get)
    # report shifts in (-H/2, H/2] so that a shift by -1 does not read as H-1
    t_signed = tuple(int((ti + n // 2) % n - n // 2) if ti else 0 for ti, n in zip(t, fx.shape[:2]))
    return t_signed, errors[t]


def equivariance_error(f: Layer, x: np.ndarray, s: tuple[int, int], t: tuple[int, int]) -> float:
    """max |f(S_s x) - S_t f(x)|: 0 when shifting the input by s shifts the output by t."""
    return float(np.max(np.abs(f(shift(x, s)) - shift(f(x), t))))


def invariance_error(f: Layer, x: np.ndarray, s: tuple[int, int]) -> float:
    """max |f(S_s x) - f(x)|: 0 when the output ignores the shift."""
    return float(np.max(np.abs(f(shift(x, s)) - f(x))))


def zero_padded_error(kernel: np.ndarray, x: np.ndarray, s: tuple[int, int]) -> tuple[float, float]:
    """(max error over the whole image, max error away from the borders) of a zero-padded conv.

    Away from the borders (more than |s| + k pixels in) the shifted output equals the output of
    the shifted input; at the borders the zeros that enter differ. ``x`` should be zero near its
    border (like an MNIST digit) for the interior check to be meaningful.
    """
    f = zero_padded_conv(kernel)
    diff = np.abs(f(shift(x, s)) - shift(f(x), s))
    m = max(abs(s[0]), abs(s[1])) + kernel.shape[0]
    return float(diff.max()), float(diff[m:-m, m:-m].max())
