"""Matplotlib figures in one house style. Each function returns a Figure; ``Run.save_figure`` saves it.

House style (sized for the printed page, where the PDF embeds each SVG at its natural size): a figure is
full width (16 cm) or half width (8 cm) and at most about 11 cm high; every text is at least 8 pt; every
axis that draws data is labelled (with its unit where it has one); epoch axes have integer ticks; large
tick values read "125k"; heatmaps have a colourbar; panels compared side by side share their y axis; a
panel draws at most ~5 lines. Build figures with ``figure(...)`` (or the helpers below) and
``save_figure`` checks every figure with ``style_problems``.
"""
from __future__ import annotations

import os
import warnings
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: figures go to files, never to a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

CM = 1 / 2.54                    # inches per centimetre
WIDTHS_CM = {"full": 16.0, "half": 8.0}
WIDTH_TOLERANCE_CM = 0.5
MAX_EMBED_CM = 18.2              # the PDF shows an SVG at its natural size, but never wider than this
MAX_HEIGHT_CM = 11.0
MIN_FONT_PT = 8.0
MAX_LINES_PER_AXES = 6
FONT_PT = 8.5                    # body text of figures: ticks, legends, labels, cell values
# Colormaps that read as plain grey images (digits, reconstructions): no colourbar needed.
GREY_CMAPS = {"gray", "gray_r", "Greys", "Greys_r", "binary", "binary_r", "bone", "bone_r"}

HOUSE_RC = {
    "font.size": FONT_PT, "axes.titlesize": 9.0, "axes.labelsize": FONT_PT, "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT, "legend.fontsize": FONT_PT, "legend.title_fontsize": FONT_PT,
    "figure.titlesize": 10.0, "figure.labelsize": FONT_PT, "axes.grid": True, "grid.alpha": 0.3,
    "lines.linewidth": 1.2, "lines.markersize": 3.0, "legend.framealpha": 0.85,
    "axes.formatter.useoffset": False, "svg.fonttype": "path",
}
# Every figure made after ``import hwkit.plots`` gets the house fonts, also one built with plt directly.
matplotlib.rcParams.update(HOUSE_RC)


def wrap(text: str, width_cm: float, pt: float = 10.0) -> str:
    """``text`` broken into lines that fit ``width_cm`` at ``pt`` points (about 0.5 em a character)."""
    import textwrap
    chars = max(10, int(width_cm / (pt * 0.5 / 72 * 2.54)))
    return "\n".join(textwrap.fill(part, chars) for part in str(text).splitlines())


def _thousands(value, _pos=None) -> str:
    """Tick text: 125000 -> "125k", 1500000 -> "1.5M", 0.25 -> "0.25"."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


THOUSANDS = FuncFormatter(_thousands)


def figure(nrows: int = 1, ncols: int = 1, width: str = "full", height_cm: float | None = None,
           sharex=False, sharey=False, **kwargs):
    """``plt.subplots`` in the house style; returns (fig, axes[nrows, ncols]).

    ``width`` is "full" (16 cm) or "half" (8 cm).
    ``height_cm`` defaults to 6 cm per row (capped at ``MAX_HEIGHT_CM``). Pass ``sharey=True`` for
    panels the reader compares side by side. The layout is matplotlib's constrained layout.
    """
    if width not in WIDTHS_CM:
        raise ValueError(f"width must be one of {sorted(WIDTHS_CM)}, not {width!r}")
    if height_cm is None:
        height_cm = min(MAX_HEIGHT_CM, 6.0 * nrows if width == "full" else 5.5 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTHS_CM[width] * CM, height_cm * CM), sharex=sharex,
                             sharey=sharey, squeeze=False, layout="constrained", **kwargs)
    return fig, axes


def integer_axis(ax, axis: str = "x") -> None:
    """Integer ticks on an axis of counts or indices (epochs, steps, pixels): no "2.5 epochs"."""
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


epoch_axis = integer_axis


def thousands_axis(ax, axis: str = "x") -> None:
    """Tick values as "125k", never a run of digits or a sci-notation offset."""
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(THOUSANDS)


def _is_epoch_label(label: str) -> bool:
    return label.strip().lower().startswith(("epoch", "training epoch"))


def heatmap(ax, values, cmap: str = "viridis", label: str = "", vmin=None, vmax=None, **kwargs):
    """``imshow`` of a 2-D array with a colourbar labelled ``label`` (its quantity and unit)."""
    image = ax.imshow(np.asarray(values, dtype=float), cmap=cmap, vmin=vmin, vmax=vmax, **kwargs)
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    if label:
        bar.set_label(label)
    return image


def matrix(ax, values, fmt: str = "{:.2g}", cmap: str = "RdBu_r", title: str | None = None,
           label: str = "value", symmetric: bool = True):
    """A small matrix or filter drawn cell by cell with each value written in its cell, plus a colourbar.

    ``symmetric`` centres the colour scale on 0 (weights, filters): the sign reads as the hue.
    """
    values = np.asarray(values, dtype=float)
    limit = float(np.max(np.abs(values))) if values.size else 1.0
    limit = limit or 1.0
    lo, hi = (-limit, limit) if symmetric else (float(values.min()), float(values.max()))
    image = heatmap(ax, values, cmap=cmap, label=label, vmin=lo, vmax=hi)
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            shade = (values[r, c] - lo) / ((hi - lo) or 1.0)
            ax.text(c, r, fmt.format(values[r, c]), ha="center", va="center", fontsize=FONT_PT,
                    color="white" if abs(shade - 0.5) > 0.3 else "black")
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(False)
    ax.grid(which="minor", color="black", linewidth=0.6, alpha=1.0)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title:
        ax.set_title(title)
    return image


def learning_curves(history: Mapping[str, Sequence[float]], metrics: Sequence[str] = ("loss", "accuracy"),
                    x: Sequence[float] | None = None, xlabel: str = "epoch", title: str | None = None,
                    ylabels: Mapping[str, str] | None = None):
    """One panel per metric; every series whose key ends with the metric name is drawn.

    ``history`` is a Keras ``History.history``-like dict, e.g. keys loss, val_loss, test_loss.
    Half width for one metric, full width for more.
    """
    fig, axes = figure(1, len(metrics), width="half" if len(metrics) == 1 else "full", height_cm=6.0)
    for ax, metric in zip(axes[0], metrics):
        for key, values in history.items():
            if key == metric or key.endswith("_" + metric):
                xs = x if x is not None else np.arange(1, len(values) + 1)
                ax.plot(xs[: len(values)], values, marker="o" if len(values) < 30 else None,
                        label=key.replace("val_", "validation ").replace("_", " "))
        ax.set_xlabel(xlabel)
        ax.set_ylabel((ylabels or {}).get(metric, metric.replace("_", " ")))
        if _is_epoch_label(xlabel):
            epoch_axis(ax)
        else:
            thousands_axis(ax)
        ax.legend()
    if title:
        fig.suptitle(wrap(title, fig.get_figwidth() / CM))
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 10,
               cmap: str = "gray", size: float | None = None, vmin: float | None = 0.0, vmax: float | None = 1.0,
               width: str | None = None, row_labels: Sequence[str] | None = None):
    """Images (N, H, W[, C]) in a grid with optional per-image titles (8 pt) and row labels.

    The grid is half width for up to 4 columns, else full width; ``size`` is accepted for old callers
    and ignored (the page width sets the cell size). A non-grey ``cmap`` gets one shared colourbar.
    """
    del size
    images = np.asarray(images)
    if images.dtype.kind not in "biuf":   # bfloat16 (a mixed-precision layer's output): matplotlib reads float32
        images = images.astype(np.float32)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    width = width or ("half" if ncols <= 4 else "full")
    cell_cm = WIDTHS_CM[width] / ncols
    if titles is not None:
        titles = [wrap(t, cell_cm, MIN_FONT_PT) for t in titles]
    title_cm = 0.0     # room for each row's titles: as many text lines as its longest title, none if all are empty
    for r in range(nrows if titles is not None else 0):
        title_cm += 0.4 * max((len(t.splitlines()) for t in titles[r * ncols:(r + 1) * ncols] if t), default=0)
    height_cm = min(nrows * cell_cm + title_cm + 0.8, MAX_HEIGHT_CM)
    colour = cmap not in GREY_CMAPS and (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 1))
    if colour and n:     # one colourbar for the grid: every image on the same scale
        vmin = float(np.nanmin(images)) if vmin is None else vmin
        vmax = float(np.nanmax(images)) if vmax is None else vmax
    fig, axes = figure(nrows, ncols, width=width, height_cm=height_cm)
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    shown = None
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i < n:
            img = images[i].squeeze()
            shown = ax.imshow(img, cmap=cmap if img.ndim == 2 else None, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=MIN_FONT_PT)
        if row_labels is not None and i % ncols == 0 and i // ncols < len(row_labels):
            ax.set_ylabel(wrap(row_labels[i // ncols], 2.5, FONT_PT), rotation=0, ha="right", va="center")
    if shown is not None and colour:
        fig.colorbar(shown, ax=list(axes.flat), shrink=0.8)
    return fig


def series_grid(panels: Sequence[Sequence[dict]], col_titles: Sequence[str], row_label, xlabel: str,
                ylabel: str = "accuracy", title: str | None = None):
    """A rows x cols grid of line plots (e.g. a 3x3 learning-curve grid), full width, shared y axis.

    ``panels[col][row]`` is ``{"x": [...], "series": {label: [...]}, "setting": (...)}``;
    ``row_label(setting)`` names each panel's setting (in its title). One legend, in the first panel:
    every panel draws the same series.
    """
    ncols, nrows = len(panels), max(len(c) for c in panels)
    # Rows may run for different lengths (settings): x is shared along a row, y by every panel.
    fig, axes = figure(nrows, ncols, width="full", height_cm=min(MAX_HEIGHT_CM, 2.0 + 3.6 * nrows),
                       sharex="row", sharey=True)
    for i, column in enumerate(panels):
        for j, panel in enumerate(column):
            ax = axes[j, i]
            for label, ys in panel["series"].items():
                ax.plot(panel["x"][: len(ys)], ys, label=label.replace("_", " "))
            thousands_axis(ax)
            ax.set_ylabel(ylabel if i == 0 else "")
            # Each panel names its own setting: models of one row need not share it.
            ax.set_title((f"{col_titles[i]}\n" if j == 0 else "") + row_label(panel["setting"]), fontsize=FONT_PT)
    for j in range(nrows):
        for i in range(ncols):
            if j >= len(panels[i]):
                axes[j, i].set_visible(False)
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(loc="best")     # every panel draws the same series: one legend, in the first panel
    fig.supxlabel(xlabel, fontsize=FONT_PT)     # one x label for the grid (each row keeps its own ticks)
    if title:
        fig.suptitle(wrap(title, fig.get_figwidth() / CM))
    return fig


# ----------------------------------------------------------------------------- experiment lists
# An "experiment list" is one list per model of ((num_epochs, learning_rate), train_accuracy_curve,
# test_accuracy_curve) tuples, where the curves hold one value per evaluation (every
# ``log_period_samples`` training samples).

def learning_curve_grid(experiments: Sequence[Sequence[tuple]], model_names: Sequence[str],
                        log_period_samples: int = 20000, title: str = "Learning curves"):
    """Learning curves of an experiment list: models as columns, settings as rows, one shared y axis."""
    panels = [[{"x": [log_period_samples * (k + 1) for k in range(len(train))],
                "series": {"train_accuracy": list(train), "test_accuracy": list(test)},
                "setting": setting} for setting, train, test in model_runs]
              for model_runs in experiments]
    return series_grid(panels, list(model_names), row_label=lambda s: f"{s[0]} ep, lr {s[1]:g}",
                       xlabel="training samples processed", title=title)


def summary_table(experiments: Sequence[Sequence[tuple]], model_names: Sequence[str]):
    """Final test accuracy per model (row) and setting (column) of an experiment list, as a table figure."""
    ncols = max(len(m) for m in experiments)
    cells = [[f"{runs_[j][2][-1]:.4f}\n(ep {runs_[j][0][0]}, lr {runs_[j][0][1]})" if j < len(runs_) and runs_[j][2]
              else "missing" for j in range(ncols)] for runs_ in experiments]
    fig, axes = figure(1, 1, width="full", height_cm=min(MAX_HEIGHT_CM, 1.3 * len(experiments) + 1.6))
    ax = axes[0, 0]
    table = ax.table(cellText=cells, rowLabels=list(model_names),
                     colLabels=[f"Setting {j + 1}" for j in range(ncols)], loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(FONT_PT)
    table.scale(1, 2.4)
    ax.axis("off")
    return fig


# ----------------------------------------------------------------------------- the style check

def _draws_data(ax) -> bool:
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() and p.get_height()]
    return bool(ax.get_lines() or bars or any(isinstance(c, PathCollection) for c in ax.collections))


def _data_lines(ax) -> list:
    """Lines drawn in data coordinates (series), not reference lines such as ``axhline``."""
    return [line for line in ax.get_lines() if line.get_visible() and line.get_transform() == ax.transData]


def style_problems(fig) -> list[str]:
    """What breaks the house style in ``fig``, one sentence each (empty: fine). Draws the figure, changes nothing.

    Checks: width is half or full page (±0.5 cm), height at most ~11 cm, the drawn content does not spill
    past the width; panel titles, figure titles and figure legends do not overlap, nor do tick labels; every
    visible text is >= 8 pt once the figure is scaled to the PDF's maximum width; every axes that draws
    lines, bars or points labels both axes; an image with a colour (non-grey) colormap has a colourbar;
    an epoch axis has integer ticks; at most ``MAX_LINES_PER_AXES`` series per axes.
    """
    from matplotlib.image import AxesImage
    from matplotlib.text import Text
    problems: list[str] = []
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    width_cm = fig.get_figwidth() / CM
    if not any(abs(width_cm - w) <= WIDTH_TOLERANCE_CM for w in WIDTHS_CM.values()):
        problems.append(f"figure is {width_cm:.1f} cm wide; use full ({WIDTHS_CM['full']:g} cm) "
                        f"or half ({WIDTHS_CM['half']:g} cm) width")
    height_cm = fig.get_figheight() / CM
    if height_cm > MAX_HEIGHT_CM + WIDTH_TOLERANCE_CM:
        problems.append(f"figure is {height_cm:.1f} cm high; at most {MAX_HEIGHT_CM:g} cm (split it)")
    tight_cm = fig.get_tightbbox(renderer).width / CM
    if tight_cm > width_cm + WIDTH_TOLERANCE_CM:
        problems.append(f"drawn content is {tight_cm:.1f} cm wide, past the figure's {width_cm:.1f} cm")
    scale = min(1.0, MAX_EMBED_CM / max(tight_cm, 1e-9))
    small = {}
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        size = text.get_fontsize() * scale
        if size < MIN_FONT_PT - 1e-6:
            small.setdefault(round(size, 1), text.get_text().strip().splitlines()[0][:30])
    for size, example in sorted(small.items()):
        problems.append(f"text at {size:g} pt (< {MIN_FONT_PT:g} pt at print size), e.g. {example!r}")
    # A colourbar serves every image drawn with its colormap and limits (one bar for a grid of images).
    scales = {_scale(image.colorbar.mappable) for ax in fig.axes for image in ax.get_images() if image.colorbar}
    # Panel titles, figure titles and labels, figure legends: none may sit on another.
    blocks = [(f"the title of axes {k}", ax.title) for k, ax in enumerate(fig.axes)
              if ax.get_visible() and ax.get_title().strip()]
    blocks += [(f"the figure's {name}", text) for name in ("suptitle", "supxlabel", "supylabel")
               if (text := getattr(fig, f"_{name}", None)) is not None and text.get_visible() and text.get_text()]
    blocks += [("a figure legend", legend) for legend in fig.legends if legend.get_visible()]
    for i, (what, a) in enumerate(blocks):
        for other, b in blocks[i + 1:]:
            if a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer)):
                problems.append(f"{what} and {other} overlap")
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        name = f"axes {k}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        if _draws_data(ax):
            missing = [a for a, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
                       if not label.strip() and not _figure_label(fig, a)]
            if missing and not _shares_label(ax, missing):
                problems.append(f"{name} draws data but has no {' or '.join(missing)} axis label")
        lines = _data_lines(ax)
        if len(lines) > MAX_LINES_PER_AXES:
            problems.append(f"{name} draws {len(lines)} lines (at most {MAX_LINES_PER_AXES}: split the panel)")
        for image in ax.get_images():
            if (isinstance(image, AxesImage) and np.ndim(image.get_array()) == 2
                    and image.get_cmap().name not in GREY_CMAPS and _scale(image) not in scales
                    and not _has_cell_values(ax)):
                problems.append(f"{name} shows a {image.get_cmap().name} colour image without a colourbar")
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels()
                     if t.get_visible() and t.get_text().strip()]
            if any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])):
                problems.append(f"{name} has {which} tick labels that run together: "
                                f"{[t.get_text() for t in axis.get_ticklabels()]}")
        for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
            if _is_epoch_label(label) or (not label and _shares_epoch_label(ax, axis)):
                lo, hi = sorted(axis.get_view_interval())
                ticks = [t for t in axis.get_majorticklocs() if lo - 1e-9 <= t <= hi + 1e-9]
                if any(abs(t - round(t)) > 1e-9 for t in ticks):
                    problems.append(f"{name} has fractional ticks on its epoch axis: {ticks}")
    return problems


def _figure_label(fig, which: str) -> str:
    """The figure-wide axis label (``fig.supxlabel`` / ``supylabel``) that names every panel's axis."""
    text = getattr(fig, f"_sup{which}label", None)
    return text.get_text().strip() if text is not None and text.get_visible() else ""


def _scale(image) -> tuple:
    return image.get_cmap().name, float(image.norm.vmin), float(image.norm.vmax)


def _siblings(ax, which: str) -> list:
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return [a for a in group.get_siblings(ax) if a is not ax and a.get_visible()]


def _shares_label(ax, missing: Sequence[str]) -> bool:
    """A panel in a shared-axes grid may leave an axis label to its row or column neighbour."""
    for which in missing:
        own = ax.get_xlabel() if which == "x" else ax.get_ylabel()
        if own.strip():
            continue
        labels = [a.get_xlabel() if which == "x" else a.get_ylabel() for a in _siblings(ax, which)]
        if not any(label.strip() for label in labels):
            return False
    return True


def _shares_epoch_label(ax, axis) -> bool:
    which = "x" if axis is ax.xaxis else "y"
    return any(_is_epoch_label(a.get_xlabel() if which == "x" else a.get_ylabel()) for a in _siblings(ax, which))


def _has_cell_values(ax) -> bool:
    """A matrix whose cells carry their values (``matrix``) reads without a colourbar."""
    images = ax.get_images()
    cells = sum(int(np.prod(np.shape(i.get_array())[:2])) for i in images)
    return bool(images) and len([t for t in ax.texts if t.get_text().strip()]) >= cells


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


def check_style(fig, name: str) -> list[str]:
    """``style_problems`` of ``fig``: raises ValueError when ``$HWKIT_STRICT_FIGURES`` is 1, else warns once."""
    problems = style_problems(fig)
    if problems:
        message = f"figure {name!r} breaks the house style (hwkit.plots): " + "; ".join(problems)
        if os.environ.get("HWKIT_STRICT_FIGURES") == "1":
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)
    return problems


def save_figure(fig, stem, png_dpi: int = 110):
    """Write ``<stem>.svg`` (vector, for the PDF), ``<stem>.png`` and ``<stem>.csv`` (``figure_data``); close ``fig``.

    The figure is first checked against the house style (``check_style``).

    Each file is written to a temporary name and renamed, so a reader never sees half a figure.
    Returns the SVG's path.
    """
    import csv
    from pathlib import Path

    from matplotlib.collections import Collection
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    try:
        check_style(fig, stem.name)
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
