"""The pieces of a hand-written training loop: shuffled mini-batches, one SGD step, evaluation."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from hwkit.numpy_nn.layers import Layer, Sequential
from hwkit.numpy_nn.losses import SoftmaxCrossEntropy
from hwkit.numpy_nn.optim import SGD

EVAL_BATCH = 10_000   # rows per forward pass when evaluating: big matmuls, bounded memory


def batches(n: int, batch_size: int, rng: np.random.Generator, drop_last: bool = False) -> Iterator[np.ndarray]:
    """Index arrays of one epoch over n rows in a fresh random order (like ``next_batch`` per epoch)."""
    order = rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def train_step(model: Sequential, loss: SoftmaxCrossEntropy, optimizer: SGD,
               x: np.ndarray, y: np.ndarray) -> float:
    """zero grads -> forward -> loss -> backward -> SGD step; returns the batch loss."""
    model.zero_grads()
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    optimizer.step()
    return value


def predict(model: Layer, x: np.ndarray, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """Logits for all rows, computed in chunks."""
    return np.concatenate([model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model: Layer, x: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH) -> dict[str, float]:
    """Mean cross-entropy, accuracy and error rate on (x, y)."""
    logits = predict(model, x, batch_size)
    with np.errstate(over="ignore", invalid="ignore"):   # a diverged model gives inf/nan: report it, don't warn
        mean_loss = SoftmaxCrossEntropy("mean").forward(logits, y)
    acc = float(np.mean(logits.argmax(axis=1) == y))
    return {"loss": mean_loss, "accuracy": acc, "error": 1.0 - acc}


def accuracy(model: Layer, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(model, x).argmax(axis=1) == y))


def dead_relu_fraction(model: Sequential, x: np.ndarray) -> float | None:
    """Fraction of hidden ReLU units that output 0 for every row of x (None if the model has no ReLU).

    A "dead" unit passes no gradient (ReLU' = 0), so once all units of a layer are dead the
    network's output no longer depends on its input and SGD cannot revive it.
    """
    from hwkit.numpy_nn.layers import ReLU
    relus = [layer for layer in model.layers if isinstance(layer, ReLU)]
    if not relus:
        return None
    alive = None   # per ReLU layer: units active for at least one row so far
    for i in range(0, len(x), EVAL_BATCH):
        model.forward(x[i:i + EVAL_BATCH])
        now = [(relu.derivative() > 0).any(axis=0) for relu in relus]
        alive = now if alive is None else [a | b for a, b in zip(alive, now)]
    return float(1 - np.concatenate(alive).mean())
