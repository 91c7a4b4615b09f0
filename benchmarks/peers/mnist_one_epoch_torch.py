"""The published 1-epoch MNIST recipe in PyTorch, on this CPU: training seconds to each test-accuracy target.

The recipe (tuomaso/train_mnist_fast, notebook ``8_Final_00s76.ipynb``; 99.04% mean in 1 epoch,
0.76 s on a GTX 1660 Ti), restated here from its published description and hyperparameters:
conv 5x5 1->24 -> max-pool 2 -> ReLU -> conv 3x3 24->32 -> max-pool 2 -> ReLU -> linear 800->256
-> ReLU -> linear 256->10 -> log-softmax, NLL loss; Adam lr 0.01, betas (0.7, 0.9); PyTorch's
``OneCycleLR`` (max_lr 0.01, cycle_momentum=False, other defaults) stepped every batch; batch 256;
the whole data set held in memory as one tensor, normalised with torchvision's (0.1307, 0.3081).

What changed for this CPU and this race, and nothing else:
* device: ``cpu`` (the original picks CUDA when present);
* data: hwkit's MNIST loader (``hwkit.data.load_mnist``) instead of the notebook's saved tensors,
  shuffled once with the seed (the original trains in its saved order);
* measurement: test accuracy every ``every`` batches with the clock paused, as hwkit's
  ``TimeToAccuracy`` does (the original measures once, after the epoch); runs stop once every
  target is reached.

    python benchmarks/peers/mnist_one_epoch_torch.py [--seed 0] [--epochs 1]   # prints JSON on the last line
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def load(data_dir=None, seed: int = 0):
    import numpy as np
    import torch
    sys.path.insert(0, ROOT)
    from hwkit import data
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    order = np.random.default_rng(seed).permutation(len(x_train))

    def tensor(x):   # (N, 28, 28) uint8 -> (N, 1, 28, 28) float32, normalised
        x = torch.tensor(np.asarray(x, np.float32).reshape(-1, 1, 28, 28) / 255.0)
        return (x - 0.1307) / 0.3081
    return (tensor(x_train[order]), torch.tensor(np.asarray(y_train)[order], dtype=torch.long),
            tensor(x_test), torch.tensor(np.asarray(y_test), dtype=torch.long))


def net():
    import torch
    from torch import nn
    return nn.Sequential(nn.Conv2d(1, 24, 5, 1), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(24, 32, 3, 1), nn.MaxPool2d(2),
                         nn.ReLU(), nn.Flatten(), nn.Linear(800, 256), nn.ReLU(), nn.Linear(256, 10),
                         nn.LogSoftmax(dim=1)).to(torch.device("cpu"))


def time_to_accuracy(targets, epochs: int = 1, seed: int = 0, every: int = 47, batch_size: int = 256,
                     data_dir=None) -> dict:
    """Training seconds (evaluation excluded) at the first evaluation reaching each target; None: missed."""
    import torch
    import torch.nn.functional as F
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load(data_dir, seed)
    model = net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.7, 0.9))
    per_epoch = math.ceil(len(x_train) / batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=per_epoch * epochs,
                                                    cycle_momentum=False)
    reached, trace, elapsed = {}, [], 0.0

    def accuracy() -> float:
        model.eval()
        with torch.no_grad():
            correct = sum((model(x_test[i:i + 2000]).argmax(1) == y_test[i:i + 2000]).sum().item()
                          for i in range(0, len(x_test), 2000))
        model.train()
        return correct / len(x_test)

    model.train()
    started = time.perf_counter()
    for step in range(per_epoch * epochs):
        i = step % per_epoch
        optimizer.zero_grad()
        batch = slice(batch_size * i, batch_size * (i + 1))
        loss = F.nll_loss(model(x_train[batch]), y_train[batch])
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % every == 0 or step + 1 == per_epoch * epochs:
            elapsed += time.perf_counter() - started
            acc = accuracy()
            trace.append((elapsed, (step + 1) / per_epoch, acc))
            print(f"  {elapsed:8.1f} s  epoch {(step + 1) / per_epoch:5.2f}  test accuracy {acc:.4f}", flush=True)
            for t in targets:
                if acc >= t and t not in reached:
                    reached[t] = elapsed
            if len(reached) == len(targets):
                break
            started = time.perf_counter()
    return {"reached": {str(t): reached.get(t) for t in targets}, "trace": trace,
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=float, nargs="+", default=[0.98, 0.99])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=47, help="batches between evaluations (47 = 1/5 epoch)")
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    out = time_to_accuracy(args.targets, args.epochs, args.seed, args.every, data_dir=args.data_dir)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
