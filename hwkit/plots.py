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
    """A rows x cols grid of line plots (e.g. a 3x3 learning-curve grid).

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


# ----------------------------------------------------------------------------- coursework C experiments
# An "experiment list" is the coursework's own structure: one list per model of
# ((num_epochs, learning_rate), train_accuracy_curve, test_accuracy_curve) tuples, where the
# curves hold one value per evaluation (every ``log_period_samples`` training samples).

def learning_curve_grid(experiments: Sequence[Sequence[tuple]], model_names: Sequence[str],
                        log_period_samples: int = 20000, title: str = "Learning curves"):
    """The coursework's ``plot_learning_curves``: models as columns, settings as rows."""
    panels = [[{"x": [log_period_samples * (k + 1) for k in range(len(train))],
                "series": {"train_accuracy": list(train), "test_accuracy": list(test)},
                "setting": setting} for setting, train, test in model_runs]
              for model_runs in experiments]
    return series_grid(panels, list(model_names),
                       row_label=lambda s: f"Epochs: {s[0]}, Learning rate: {s[1]}. Accuracy",
                       xlabel="Number of samples processed", title=title)


def summary_table(experiments: Sequence[Sequence[tuple]], model_names: Sequence[str]):
    """The coursework's ``plot_summary_table``: final test accuracy per model (row) and setting (column)."""
    ncols = max(len(m) for m in experiments)
    cells = [[f"{runs_[j][2][-1]:.4f}\n(ep {runs_[j][0][0]}, lr {runs_[j][0][1]})" if j < len(runs_) and runs_[j][2]
              else "missing" for j in range(ncols)] for runs_ in experiments]
    fig = plt.figure(figsize=(2.2 * ncols + 1.5, 0.9 * len(experiments) + 0.6), frameon=False)
    ax = plt.gca()
    table = ax.table(cellText=cells, rowLabels=list(model_names),
                     colLabels=[f"Setting {j + 1}" for j in range(ncols)], loc="center")
    table.scale(1, 2.6)
    ax.axis("off")
    return fig
