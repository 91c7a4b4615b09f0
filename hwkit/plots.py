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
    images = np.asarray(images)
    if images.dtype.kind not in "biuf":   # bfloat16 (a mixed-precision layer's output): matplotlib reads float32
        images = images.astype(np.float32)
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


# ----------------------------------------------------------------------------- saving: SVG + PNG + CSV

# A collection (scatter) with more points than this is rasterized inside the SVG: its vector form
# would make the PDF slow to render and heavy; axes, labels and lines stay vector.
RASTERIZE_ABOVE_POINTS = 2000
FIGURE_DATA_COLUMNS = ("panel", "title", "kind", "series", "index", "x", "y", "value")


def figure_data(fig) -> list[dict]:
    """The data drawn in a matplotlib figure, one row per point, generically from its artists.

    Rows (``FIGURE_DATA_COLUMNS``): ``panel`` (axes number), ``title`` (the axes' title or y label),
    ``kind`` (line / scatter / bar / image / table), ``series`` (legend label or artist number),
    ``index``, ``x``, ``y``, ``value`` (image pixel: value, or "r g b[ a]"; table: cell text).
    """
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle
    rows: list[dict] = []

    def add(panel, title, kind, series, index, x=None, y=None, value=None):
        rows.append({"panel": panel, "title": title, "kind": kind, "series": series, "index": index,
                     "x": x, "y": y, "value": value})

    def label(artist, default: str) -> str:
        text = artist.get_label() or ""
        return default if not text or text.startswith("_") else text

    for p, ax in enumerate(fig.axes):
        title = ax.get_title() or ax.get_ylabel() or f"panel {p}"
        for k, line in enumerate(ax.get_lines()):
            for i, (x, y) in enumerate(np.asarray(line.get_xydata(), dtype=float)):
                add(p, title, "line", label(line, f"line {k}"), i, float(x), float(y))
        for k, coll in enumerate(c for c in ax.collections if isinstance(c, PathCollection)):
            values = coll.get_array()
            for i, (x, y) in enumerate(np.asarray(coll.get_offsets(), dtype=float)):
                add(p, title, "scatter", label(coll, f"scatter {k}"), i, float(x), float(y),
                    None if values is None or i >= len(values) else float(values[i]))
        bars = [r for r in ax.patches if isinstance(r, Rectangle) and r.get_width() != 0 and r.get_height() != 0]
        for i, r in enumerate(bars):
            add(p, title, "bar", label(r, "bars"), i, float(r.get_x() + r.get_width() / 2), float(r.get_height()))
        for k, image in enumerate(ax.get_images()):
            data = np.asarray(image.get_array())
            for (row, col) in np.ndindex(*data.shape[:2]):
                v = data[row, col]
                add(p, title, "image", label(image, f"image {k}"), row * data.shape[1] + col, col, row,
                    float(v) if np.ndim(v) == 0 else " ".join(f"{float(c):.6g}" for c in v))
        for k, table in enumerate(ax.tables):
            for (row, col), cell in sorted(table.get_celld().items()):
                add(p, title, "table", f"table {k}", row, col, row, cell.get_text().get_text())
    return rows


def save_figure(fig, stem, png_dpi: int = 110):
    """Write ``<stem>.svg`` (vector, for the PDF), ``<stem>.png`` and ``<stem>.csv`` (``figure_data``); close ``fig``.

    Each file is written to a temporary name and renamed, so a reader never sees half a figure.
    Returns the SVG's path.
    """
    import csv
    from pathlib import Path

    from matplotlib.collections import Collection
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = figure_data(fig)
        for ax in fig.axes:
            for coll in ax.collections:
                if isinstance(coll, Collection) and len(coll.get_offsets()) > RASTERIZE_ABOVE_POINTS:
                    coll.set_rasterized(True)
        outputs = {}
        for suffix, kwargs in ((".svg", {}), (".png", {"dpi": png_dpi})):
            out = stem.with_name(stem.name + suffix)
            tmp = out.with_name(out.name + ".part")
            fig.savefig(tmp, format=suffix[1:], bbox_inches="tight", **kwargs)
            outputs[suffix] = (tmp, out)
        out = stem.with_name(stem.name + ".csv")
        tmp = out.with_name(out.name + ".part")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIGURE_DATA_COLUMNS)
            writer.writeheader()
            writer.writerows(data)
        outputs[".csv"] = (tmp, out)
        for tmp, out in outputs.values():
            tmp.replace(out)
    finally:
        plt.close(fig)
    return stem.with_name(stem.name + ".svg")
