"""Stochastic gradient descent, optionally with (heavy-ball) momentum."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from hwkit.numpy_nn.layers import Parameter


class SGD:
    """p <- p - lr * v with v <- momentum * v + grad (v starts at 0), as ``torch.optim.SGD``.

    ``momentum=0`` is plain SGD, p <- p - lr * grad. A coursework's theory part
    writes momentum as an exponential average v <- beta v + (1 - beta) grad; that is the same
    update with the learning rate scaled by (1 - beta).
    """

    def __init__(self, params: Sequence[Parameter], lr: float, momentum: float = 0.0):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        self.params = list(params)
        self.lr, self.momentum = lr, momentum
        self._velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for p, v in zip(self.params, self._velocity):
            if self.momentum:
                v *= self.momentum
                v += p.grad
                p.data -= self.lr * v
            else:
                p.data -= self.lr * p.grad

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()
