"""Central finite differences to check analytic gradients (run in float64).

df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h^2); with h = 1e-6 in float64 a correct
backward agrees to ~1e-8 relative error or better, a wrong one by O(1).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from hwkit.numpy_nn.layers import Layer
from hwkit.numpy_nn.losses import SoftmaxCrossEntropy


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f() / d x by central differences, perturbing ``x`` in place (restored afterwards)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-12) -> float:
    """||a - n|| / max(||a|| + ||n||, floor) over the whole array (Euclidean norms).

    Norm-wise rather than element-wise: entries that are tiny in exact arithmetic (e.g. dW for a
    pixel that is almost 0) carry ~1e-10 of finite-difference noise, which an element-wise ratio
    would blow up into a false alarm; a wrong formula still gives O(1).
    """
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), floor))


def check_layer(layer: Layer, x: np.ndarray, rng: np.random.Generator, h: float = 1e-6) -> dict[str, float]:
    """Relative errors of ``layer.backward`` for its input and every parameter.

    The scalar checked is f = sum(layer(x) * g) for a fixed random upstream gradient g, so
    df/d(output) = g and backward(g) must return df/dx and accumulate df/dparams.
    """
    x = np.array(x, dtype=np.float64)
    g = rng.standard_normal(layer.forward(x).shape)

    def f() -> float:
        return float(np.sum(layer.forward(x) * g))

    for p in layer.parameters():
        p.zero_grad()
    layer.forward(x)
    dx = layer.backward(g)
    analytic = {"input": dx, **{f"param{k}": p.grad.copy() for k, p in enumerate(layer.parameters())}}
    errors = {"input": relative_error(analytic["input"], numerical_gradient(f, x, h))}
    for k, p in enumerate(layer.parameters()):
        errors[f"param{k}"] = relative_error(analytic[f"param{k}"], numerical_gradient(f, p.data, h))
    return errors


def check_loss(loss: SoftmaxCrossEntropy, logits: np.ndarray, labels: np.ndarray, h: float = 1e-6) -> float:
    """Relative error of ``loss.backward()`` (dloss/dlogits) against finite differences."""
    z = np.array(logits, dtype=np.float64)
    loss.forward(z, labels)
    analytic = loss.backward()
    return relative_error(analytic, numerical_gradient(lambda: loss.forward(z, labels), z, h))
