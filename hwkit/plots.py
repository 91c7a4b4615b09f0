"""Matplotlib figures used by several tasks. Each function returns a Figure; ``Run.save_figure`` saves it."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: figures go to files, never to a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def learning_curves(history: Mapping[str, Sequence[float]], metrics: Sequence[str] = ("loss", "accuracy"),
                    x: Sequence[float] | None = None, xlabel: str = "epoch", title: str | None = None):
    """One panel per metric; every series whose key ends with the metric name is drawn.

    ``history`` is a Keras ``History.history``-like dict, e.g. keys loss, val_loss, test_loss.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for key, values in history.items():
            if key == metric or key.endswith("_" + metric):
                xs = x if x is not None else np.arange(1, len(values) + 1)
                ax.plot(xs[: len(values)], values, marker="o" if len(values) < 30 else None, ms=3,
                        label=key.replace("val_", "validation ").replace("_", " "))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 10,
               cmap: str = "gray", size: float = 1.2, vmin: float | None = 0.0, vmax: float | None = 1.0):
    """Images (N, H, W[, C]) in a grid with optional per-image titles."""
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.1), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            img = images[i]
            ax.imshow(img.squeeze(), cmap=cmap if img.squeeze().ndim == 2 else None, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
    fig.tight_layout()
    return fig


def series_grid(panels: Sequence[Sequence[dict]], col_titles: Sequence[str], row_label, xlabel: str,
                ylabel: str = "accuracy", title: str | None = None):
    """A rows x cols grid of line plots (assignment C's 3x3 learning-curve grid).

    ``panels[col][row]`` is ``{"x": [...], "series": {label: [...]}, "setting": (...)}``;
    ``row_label(setting)`` names each panel's y axis.
    """
    ncols, nrows = len(panels), max(len(c) for c in panels)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.4 * nrows), squeeze=False)
    for i, column in enumerate(panels):
        for j, panel in enumerate(column):
            ax = axes[j, i]
            for label, ys in panel["series"].items():
                ax.plot(panel["x"][: len(ys)], ys, label=label)
            ax.ticklabel_format(style="sci", axis="x", scilimits=(0, 0))
            ax.set_xlabel(xlabel)
            ax.set_ylabel(row_label(panel["setting"]), fontsize=8)
            ax.set_title(col_titles[i])
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize="x-large")
    fig.tight_layout()
    return fig
