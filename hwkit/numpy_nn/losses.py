"""Softmax cross-entropy: forward (loss) and backward (dloss/dlogits = softmax(z) - onehot(y))."""
from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, shifted by the row maximum so exp never overflows."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(z))


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    """Class indices (N,) -> (N, C); an (N, C) array is taken as one-hot already and returned as is."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.astype(dtype, copy=False)
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


class SoftmaxCrossEntropy:
    """loss = sum_n ( -z_n[y_n] + log sum_c exp z_n[c] ), i.e. -sum_n log softmax(z_n)[y_n].

    ``reduction="sum"`` is the loss (summed over the batch, like ``tf.reduce_sum``);
    ``"mean"`` divides by N so the learning rate does not depend on the batch size.
    ``forward(logits (N, C), labels (N,) or one-hot (N, C))`` returns the scalar loss and keeps the
    per-example losses in ``losses``; ``backward()`` (alias ``derivative()``, the PyTorch-like API's name)
    returns dloss/dlogits = softmax(z) - onehot(y), divided by N for the mean.
    """

    def __init__(self, reduction: str = "mean"):
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.reduction = reduction

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        logp = log_softmax(logits)                                  # (N, C)
        self._y = one_hot(labels, logits.shape[-1], dtype=logits.dtype)
        self._p = np.exp(logp)                                      # softmax(z), (N, C)
        self.losses = -(self._y * logp).sum(axis=-1)                # (N,)
        total = float(self.losses.sum())
        return total if self.reduction == "sum" else total / len(logits)

    __call__ = forward

    def backward(self) -> np.ndarray:
        grad = self._p - self._y                                    # (N, C)
        return grad if self.reduction == "sum" else grad / len(grad)

    derivative = backward
