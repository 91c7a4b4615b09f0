"""Jacobians of three layers written out by hand and checked against TensorFlow's autodiff (E8).

Conventions (Keras'): a dense layer computes y = x W + b with W of shape (n_in, n_out); a conv
layer is a cross-correlation y[p, q, o] = sum_{a, b, i} K[a, b, i, o] x[s p + a, s q + b, i] + b[o]
("valid" padding, stride s). Every Jacobian is returned as a matrix J[m, n] = d y_m / d v_n over
the row-major flattened output y and variable v, which is exactly what ``autodiff_jacobian``
returns, so the two can be compared entry by entry.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

from typing import Callable

import numpy as np
import tensorflow as tf

# ----------------------------------------------------------------------------- by hand

def bias_add_jacobians(n: int) -> dict[str, np.ndarray]:
    """y = x + b:  dy/dx = I_n,  dy/db = I_n (each output depends on its own input and bias only)."""
    return {"x": np.eye(n), "b": np.eye(n)}


def dense_jacobians(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """y = x W + b for one example x (n_in,), W (n_in, n_out).

    dy_j/dx_i = W[i, j]                      ->  J_x = W^T                 (n_out, n_in)
    dy_j/dW[i, k] = x_i [j = k]              ->  J_W = x^T (kron) I_n_out   (n_out, n_in * n_out)
    dy_j/db_k = [j = k]                      ->  J_b = I_n_out
    """
    n_out = w.shape[1]
    return {"x": w.T.copy(), "W": np.kron(x[None, :], np.eye(n_out)), "b": np.eye(n_out)}


def conv2d_jacobians(x: np.ndarray, kernel: np.ndarray, stride: int = 1) -> dict[str, np.ndarray]:
    """Valid cross-correlation of x (H, W, C_in) with kernel (k, k, C_in, C_out), stride s.

    dy[p,q,o]/dx[r,t,i]      = K[r - s p, t - s q, i, o] when 0 <= r - s p, t - s q < k, else 0
                               (a block-Toeplitz matrix: the same weights on every shifted row)
    dy[p,q,o]/dK[a,b,i,o']   = x[s p + a, s q + b, i] [o = o']   (the input patches, "im2col")
    dy[p,q,o]/db[o']         = [o = o']
    """
    h, w, c_in = x.shape
    k, _, k_in, c_out = kernel.shape
    if k_in != c_in:
        raise ValueError(f"kernel expects {k_in} input channels, the image has {c_in}")
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    jx = np.zeros((ho, wo, c_out, h, w, c_in))
    jk = np.zeros((ho, wo, c_out, k, k, c_in, c_out))
    jb = np.zeros((ho, wo, c_out, c_out))
    for p in range(ho):
        for q in range(wo):
            r0, t0 = stride * p, stride * q
            for o in range(c_out):
                jx[p, q, o, r0:r0 + k, t0:t0 + k, :] = kernel[:, :, :, o]
                jk[p, q, o, :, :, :, o] = x[r0:r0 + k, t0:t0 + k, :]
                jb[p, q, o, o] = 1.0
    m = ho * wo * c_out
    return {"x": jx.reshape(m, -1), "K": jk.reshape(m, -1), "b": jb.reshape(m, -1)}


# ----------------------------------------------------------------------------- autodiff

def autodiff_jacobian(f: Callable[[tf.Tensor], tf.Tensor], v: np.ndarray) -> np.ndarray:
    """d f(v) / d v from TensorFlow's GradientTape, flattened to (outputs, variables)."""
    t = tf.Variable(v)
    with tf.GradientTape() as tape:
        y = f(t)
    return tape.jacobian(y, t).numpy().reshape(int(np.prod(y.shape)), int(np.prod(v.shape)))


def max_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ValueError(f"Jacobian shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b)))
