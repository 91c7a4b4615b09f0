"""Layers with forward and backward side by side; shapes in the comments (N = batch size).

A layer's ``forward`` caches what its ``backward`` needs; ``backward(grad_out)`` takes
dloss/d(output) and returns dloss/d(input), *adding* parameter gradients into ``Parameter.grad``
(like PyTorch, so ``zero_grads`` must run before each step).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from hwkit.numpy_nn.initializers import xavier_uniform, zeros_bias_init


class Parameter:
    """A trainable array and its gradient of the same shape; the optimizer updates ``data`` in place."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.grad = np.zeros_like(data)

    def zero_grad(self) -> None:
        self.grad[...] = 0


class Layer:
    """Base class: no parameters, identity forward/backward."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out

    def parameters(self) -> list[Parameter]:
        return []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)


class Linear(Layer):
    """Fully connected layer z = x W + b.

    x (N, d_in) · W (d_in, d_out) + b (d_out,) -> z (N, d_out)
    backward: dW = x^T g (d_in, d_out), db = sum_n g_n (d_out,), dx = g W^T (N, d_in)
    """

    def __init__(self, d_in: int, d_out: int, weight_init: Callable = xavier_uniform,
                 bias_init: Callable = zeros_bias_init, rng: np.random.Generator | None = None,
                 dtype=np.float32):
        self.W = Parameter(np.asarray(weight_init(d_in, d_out, rng=rng, dtype=dtype), dtype=dtype))
        self.b = Parameter(np.asarray(bias_init(d_out, dtype=dtype), dtype=dtype))
        if self.W.data.shape != (d_in, d_out) or self.b.data.shape != (d_out,):
            raise ValueError(f"initializers gave W {self.W.data.shape}, b {self.b.data.shape}; "
                             f"expected ({d_in}, {d_out}) and ({d_out},)")
        self._x: np.ndarray | None = None

    def forward(self, x):
        self._x = x                                   # (N, d_in), needed for dW
        return x @ self.W.data + self.b.data          # (N, d_out)

    def backward(self, grad_out):
        self.W.grad += self._x.T @ grad_out           # (d_in, d_out)
        self.b.grad += grad_out.sum(axis=0)           # (d_out,)
        return grad_out @ self.W.data.T               # (N, d_in)

    def parameters(self):
        return [self.W, self.b]


class Activation(Layer):
    """Element-wise non-linearity: backward multiplies by ``derivative()`` at the last input.

    ``derivative()`` is the PyTorch-like API's name: the element-wise derivative f'(x) of the last forward.
    """

    name = "activation"

    def derivative(self) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out):
        return grad_out * self.derivative()           # (N, d)


class Sigmoid(Activation):
    """sigma(x) = 1 / (1 + e^-x); sigma' = sigma (1 - sigma)."""

    name = "sigmoid"

    def forward(self, x):
        # 0.5 (1 + tanh(x/2)) equals the logistic function and never overflows for large |x|.
        self._y = 0.5 * (1.0 + np.tanh(0.5 * x))
        return self._y

    def derivative(self):
        return self._y * (1.0 - self._y)


class Tanh(Activation):
    """tanh(x); tanh' = 1 - tanh^2."""

    name = "tanh"

    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def derivative(self):
        return 1.0 - self._y ** 2


class ReLU(Activation):
    """max(0, x); relu' = 1 where x > 0 else 0 (0 at the kink, as in TensorFlow)."""

    name = "relu"

    def forward(self, x):
        self._mask = x > 0
        return np.maximum(x, 0)

    def derivative(self):
        return self._mask.astype(np.float32)


ACTIVATIONS: dict[str, type[Activation]] = {cls.name: cls for cls in (Sigmoid, Tanh, ReLU)}


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse."""

    def __init__(self, layers: Sequence[Layer]):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grads(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    @property
    def linear_layers(self) -> list[Linear]:
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def count_params(self) -> int:
        return int(sum(p.data.size for p in self.parameters()))


def mlp(d_in: int, hiddens: Sequence[int], d_out: int, activation: str = "relu",
        weight_init: Callable = xavier_uniform, bias_init: Callable = zeros_bias_init,
        rng: np.random.Generator | None = None, dtype=np.float32) -> Sequential:
    """Linear -> activation for each hidden width, then a final Linear producing the logits.

    ``hiddens=()`` gives a single linear layer (a linear + softmax model, with the
    softmax inside the loss).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
    sizes = [d_in, *hiddens, d_out]
    layers: list[Layer] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, weight_init, bias_init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return Sequential(layers)
