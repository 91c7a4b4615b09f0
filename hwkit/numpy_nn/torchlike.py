"""A PyTorch-like MLP, a thin facade over this package's layers, loss and optimizer.

    mlp = MLP(784, 10, hiddens=[256, 128], activations=[ReLU(), ReLU()],
              weight_init_fn=he_normal_weight_init, bias_init_fn=zeros_bias_init,
              criterion=SoftmaxCrossEntropy(), lr=0.05, momentum=0.9)
    mlp.zero_grads(); mlp.forward(x); mlp.backward(labels); mlp.step()
    mlp.get_loss(labels), mlp.get_error(labels)

``W``/``b`` (and ``dW``/``db``) are lists of the arrays inside the shared ``Linear`` layers, so
the facade and ``Sequential`` models train the very same code. ``save`` writes
``p1_model.npz`` (weights, biases, layer sizes, activation names); ``MLP.load`` rebuilds it.
"""
from __future__ import annotations

from os import PathLike
from typing import Callable, Sequence

import numpy as np

from hwkit.numpy_nn.initializers import random_normal_weight_init, zeros_bias_init
from hwkit.numpy_nn.layers import ACTIVATIONS, Activation, Layer, Linear, Sequential
from hwkit.numpy_nn.losses import SoftmaxCrossEntropy
from hwkit.numpy_nn.optim import SGD
from hwkit.numpy_nn.training import EVAL_BATCH, batches


class MLP:
    """Multi-layer perceptron: Linear -> activation for each hidden layer, Linear -> logits."""

    def __init__(self, input_size: int, output_size: int, hiddens: Sequence[int],
                 activations: Sequence[Activation], weight_init_fn: Callable = random_normal_weight_init,
                 bias_init_fn: Callable = zeros_bias_init, criterion: SoftmaxCrossEntropy | None = None,
                 lr: float = 0.01, momentum: float = 0.0, rng: np.random.Generator | None = None,
                 dtype=np.float32):
        if len(activations) != len(hiddens):
            raise ValueError(f"need one activation per hidden layer: {len(hiddens)} hiddens, "
                             f"{len(activations)} activations")
        self.input_size, self.output_size, self.hiddens = input_size, output_size, list(hiddens)
        self.activations = list(activations)
        sizes = [input_size, *hiddens, output_size]
        layers: list[Layer] = []
        for i, (d0, d1) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(d0, d1, weight_init_fn, bias_init_fn, rng=rng, dtype=dtype))
            if i < len(self.activations):
                layers.append(self.activations[i])
        self.net = Sequential(layers)
        self.criterion = criterion if criterion is not None else SoftmaxCrossEntropy("mean")
        self.optimizer = SGD(self.net.parameters(), lr=lr, momentum=momentum)
        self.output: np.ndarray | None = None

    # -- parameters, as lists per linear layer (the template's W, b, dW, db)
    @property
    def W(self) -> list[np.ndarray]:
        return [layer.W.data for layer in self.net.linear_layers]

    @property
    def b(self) -> list[np.ndarray]:
        return [layer.b.data for layer in self.net.linear_layers]

    @property
    def dW(self) -> list[np.ndarray]:
        return [layer.W.grad for layer in self.net.linear_layers]

    @property
    def db(self) -> list[np.ndarray]:
        return [layer.b.grad for layer in self.net.linear_layers]

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.lr = value

    @property
    def momentum(self) -> float:
        return self.optimizer.momentum

    # -- the API a coursework names
    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, input_size) -> logits (N, output_size); the softmax lives in the criterion."""
        self.output = self.net.forward(x)
        return self.output

    __call__ = forward

    def backward(self, labels: np.ndarray) -> None:
        """Accumulate dloss/dW and dloss/db for the last forward's batch and ``labels``."""
        self.criterion.forward(self.output, labels)
        self.net.backward(self.criterion.derivative())

    def step(self) -> None:
        """One SGD (with momentum, if set) update of every W and b from dW and db."""
        self.optimizer.step()

    def zero_grads(self) -> None:
        self.net.zero_grads()

    def get_loss(self, labels: np.ndarray) -> float:
        """The criterion's loss of the last forward's output against ``labels``."""
        return self.criterion.forward(self.output, labels)

    def get_error(self, labels: np.ndarray) -> int:
        """Number of incorrect predictions of the last forward's output."""
        labels = np.asarray(labels)
        truth = labels.argmax(axis=1) if labels.ndim == 2 else labels
        return int(np.sum(self.output.argmax(axis=1) != truth))

    # -- persistence
    def save(self, path: PathLike | str) -> None:
        arrays = {f"W{i}": w for i, w in enumerate(self.W)} | {f"b{i}": b for i, b in enumerate(self.b)}
        np.savez(path, sizes=np.array([self.input_size, *self.hiddens, self.output_size]),
                 activations=np.array([a.name for a in self.activations]), **arrays)

    @classmethod
    def load(cls, path: PathLike | str, **kwargs) -> "MLP":
        """Rebuild a saved MLP (criterion, lr and momentum from ``kwargs``; weights from the file)."""
        with np.load(path, allow_pickle=False) as z:
            sizes = [int(s) for s in z["sizes"]]
            names = [str(a) for a in z["activations"]]
            arrays = {k: z[k] for k in z.files}
        model = cls(sizes[0], sizes[-1], sizes[1:-1], [ACTIVATIONS[a]() for a in names],
                    dtype=arrays["W0"].dtype, **kwargs)
        for i, layer in enumerate(model.net.linear_layers):
            layer.W.data[...] = arrays[f"W{i}"]
            layer.b.data[...] = arrays[f"b{i}"]
        return model

    # -- whole-dataset helpers
    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(mean loss per example, error rate) over all rows, in chunks."""
        total_loss, wrong = 0.0, 0
        for i in range(0, len(x), EVAL_BATCH):
            self.forward(x[i:i + EVAL_BATCH])
            batch_loss = self.get_loss(y[i:i + EVAL_BATCH])
            total_loss += batch_loss * (len(self.output) if self.criterion.reduction == "mean" else 1)
            wrong += self.get_error(y[i:i + EVAL_BATCH])
        return total_loss / len(x), wrong / len(x)


def get_training_stats(mlp: MLP, dset: dict[str, tuple[np.ndarray, np.ndarray]], nepochs: int, batch_size: int,
                       rng: np.random.Generator, lr_schedule: Callable[[int], float] | None = None,
                       on_epoch: Callable[[int, dict], None] | None = None) -> dict[str, list[float]]:
    """Train on ``dset["train"]`` for ``nepochs``; per epoch, loss and error on every split of ``dset``.

    Returns ``{"<split>_loss": [...], "<split>_error": [...]}`` (error as a fraction), the
    template's training/validation curves. The training numbers are the running averages over the
    epoch's mini-batches (as the template computes them); other splits are evaluated after the
    epoch. ``lr_schedule(epoch)`` sets the learning rate at the start of each epoch.
    """
    x_train, y_train = dset["train"]
    stats: dict[str, list[float]] = {f"{s}_{m}": [] for s in dset for m in ("loss", "error")}
    for epoch in range(nepochs):
        if lr_schedule is not None:
            mlp.lr = lr_schedule(epoch)
        loss_sum, wrong = 0.0, 0
        for idx in batches(len(x_train), batch_size, rng):
            mlp.zero_grads()
            mlp.forward(x_train[idx])
            mlp.backward(y_train[idx])
            mlp.step()
            loss_sum += mlp.get_loss(y_train[idx]) * (len(idx) if mlp.criterion.reduction == "mean" else 1)
            wrong += mlp.get_error(y_train[idx])
        stats["train_loss"].append(loss_sum / len(x_train))
        stats["train_error"].append(wrong / len(x_train))
        for split, (x, y) in dset.items():
            if split != "train":
                loss, error = mlp.evaluate(x, y)
                stats[f"{split}_loss"].append(loss)
                stats[f"{split}_error"].append(error)
        if on_epoch is not None:
            on_epoch(epoch, {k: v[-1] for k, v in stats.items()})
    return stats
