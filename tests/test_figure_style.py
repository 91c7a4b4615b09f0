"""The house style of figures (hwkit.plots): a house figure passes ``style_problems``; each impostor is caught."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hwkit import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def house_figure():
    fig, axes = plots.figure(1, 2, width="full", height_cm=6, sharey=True)
    for ax in axes[0]:
        ax.plot([1, 2, 3], [0.5, 0.7, 0.8], label="train")
        ax.plot([1, 2, 3], [0.4, 0.6, 0.65], label="validation")
        ax.set_xlabel("epoch")
        plots.epoch_axis(ax)
        ax.legend()
    axes[0, 0].set_ylabel("accuracy")
    return fig


def only(problems, word):
    assert len(problems) == 1 and word in problems[0], problems


def test_a_house_figure_passes():
    assert plots.style_problems(house_figure()) == []


def test_the_helpers_make_house_figures():
    history = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.8], "accuracy": [0.5, 0.6, 0.7]}
    assert plots.style_problems(plots.learning_curves(history)) == []
    assert plots.style_problems(plots.learning_curves(history, metrics=("loss",), title="t")) == []
    images = np.random.default_rng(0).uniform(size=(12, 8, 8))
    assert plots.style_problems(plots.image_grid(images, titles=[str(i) for i in range(12)], ncols=6)) == []
    assert plots.style_problems(plots.image_grid(images, ncols=6, cmap="viridis", vmin=None, vmax=None)) == []
    experiments = [[((1, 0.1), [0.5, 0.6, 0.7], [0.4, 0.5, 0.6]), ((2, 0.01), [0.5, 0.6], [0.4, 0.5])]
                   for _ in range(3)]
    grid = plots.learning_curve_grid(experiments, ["A", "B", "C"], log_period_samples=125000)
    assert plots.style_problems(grid) == []
    assert plots.style_problems(plots.summary_table(experiments, ["A", "B", "C"])) == []
    fig, axes = plots.figure(1, 2, width="full", height_cm=5)
    plots.matrix(axes[0, 0], [[1, -1, 0], [0.5, 2, -2], [0, 0, 1]], title="filter 1")
    plots.heatmap(axes[0, 1], np.arange(12.0).reshape(3, 4), label="|J|")
    axes[0, 1].set_xlabel("input")
    axes[0, 1].set_ylabel("output")
    assert plots.style_problems(fig) == []


def test_thousands_read_as_k():
    assert [plots.THOUSANDS(v) for v in (125000, 1500000, 2000, 0.25, 0)] == ["125k", "1.5M", "2k", "0.25", "0"]


def test_tiny_legend_font_is_caught():
    fig = house_figure()
    fig.axes[0].legend(fontsize=4)
    only(plots.style_problems(fig), "4 pt")


def test_text_shrunk_by_a_too_wide_figure_is_caught():
    fig = house_figure()
    fig.set_size_inches(30 * plots.CM, 6 * plots.CM)
    problems = plots.style_problems(fig)
    assert any("30.0 cm wide" in p for p in problems), problems
    assert any("pt (< 8 pt" in p for p in problems), problems   # 8.5 pt scaled by 18.2/30


def test_unlabelled_axis_is_caught():
    fig, axes = plots.figure(1, 1, width="half")
    axes[0, 0].hist(np.random.default_rng(0).normal(size=100))
    axes[0, 0].set_xlabel("value")
    only(plots.style_problems(fig), "no y axis label")


def test_a_shared_row_may_leave_its_y_label_to_the_first_panel():
    fig, axes = plots.figure(1, 2, width="full", sharey=True)
    for ax in axes[0]:
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x (units)")
    axes[0, 0].set_ylabel("y")
    assert plots.style_problems(fig) == []
    axes[0, 0].set_ylabel("")
    assert len(plots.style_problems(fig)) == 2


def test_30_cm_wide_is_caught():
    fig, ax = plt.subplots(figsize=(30 * plots.CM, 8 * plots.CM))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    problems = plots.style_problems(fig)
    assert problems and "30.0 cm wide" in problems[0]


def test_a_figure_taller_than_11_cm_is_caught():
    fig = house_figure()
    fig.set_size_inches(16 * plots.CM, 15 * plots.CM)
    only(plots.style_problems(fig), "15.0 cm high")


def test_content_spilling_past_the_figure_is_caught():
    fig, axes = plots.figure(1, 1, width="half")
    axes[0, 0].plot([0, 1], [0, 1])
    axes[0, 0].set_xlabel("x")
    axes[0, 0].set_ylabel("y")
    fig.text(0.9, 0.5, "a very long note that runs far past the right edge of the figure")
    only(plots.style_problems(fig), "past the figure")


def test_heatmap_without_colourbar_is_caught():
    fig, axes = plots.figure(1, 1, width="half")
    axes[0, 0].imshow(np.arange(12.0).reshape(3, 4), cmap="viridis")
    only(plots.style_problems(fig), "without a colourbar")
    grey, axes = plots.figure(1, 1, width="half")
    axes[0, 0].imshow(np.arange(12.0).reshape(3, 4), cmap="gray")
    assert plots.style_problems(grey) == []


def test_eight_lines_in_a_panel_are_caught():
    fig, axes = plots.figure(1, 1, width="half")
    for k in range(8):
        axes[0, 0].plot([0, 1], [k, k + 1])
    axes[0, 0].axhline(0.5)        # a reference line is not a series
    axes[0, 0].set_xlabel("x")
    axes[0, 0].set_ylabel("y")
    only(plots.style_problems(fig), "8 lines")


def test_fractional_epoch_ticks_are_caught():
    fig, axes = plots.figure(1, 1, width="half")
    axes[0, 0].plot([1, 2, 3], [0.3, 0.2, 0.1])
    axes[0, 0].set_xlabel("epoch")
    axes[0, 0].set_ylabel("loss")
    only(plots.style_problems(fig), "fractional ticks")
    plots.epoch_axis(axes[0, 0])
    assert plots.style_problems(fig) == []


def test_save_figure_raises_in_strict_mode_and_warns_otherwise(tmp_path, monkeypatch):
    def bad():
        fig, ax = plt.subplots(figsize=(30 * plots.CM, 8 * plots.CM))
        ax.plot([0, 1], [0, 1])
        return fig
    monkeypatch.setenv("HWKIT_STRICT_FIGURES", "1")
    with pytest.raises(ValueError, match="'bad'.*30.0 cm wide"):
        plots.save_figure(bad(), tmp_path / "bad")
    monkeypatch.setenv("HWKIT_STRICT_FIGURES", "0")
    with pytest.warns(UserWarning, match="house style"):
        plots.save_figure(bad(), tmp_path / "bad")
    assert (tmp_path / "bad.svg").exists()
    plots.save_figure(house_figure(), tmp_path / "good")   # no warning: pytest's filterwarnings would not mind,
    assert (tmp_path / "good.svg").exists()                # but strict mode above proves the check runs


def test_the_test_session_is_strict():
    import os
    assert os.environ.get("HWKIT_STRICT_FIGURES") == "1"


def test_tick_labels_that_run_together_are_caught():
    fig, axes = plots.figure(1, 3, width="full")
    for ax in axes[0]:
        ax.plot([100000, 150000], [0, 1])
        ax.set(xlabel="samples", ylabel="accuracy")
        ax.ticklabel_format(style="plain", axis="x")
        ax.set_xticks([100000, 112500, 125000, 137500, 150000])
    assert any("run together" in p for p in plots.style_problems(fig))
    for ax in axes[0]:
        plots.thousands_axis(ax)
        ax.set_xticks([100000, 125000, 150000])
    assert plots.style_problems(fig) == []


def test_overlapping_panel_titles_are_caught():
    fig, axes = plots.figure(1, 3, width="full")
    for ax in axes[0]:
        ax.plot([0, 1], [0, 1])
        ax.set(xlabel="x", ylabel="y", title="a long panel title that is wider than its panel")
    assert any("the title of axes 0 and the title of axes 1 overlap" in p for p in plots.style_problems(fig))
    for ax in axes[0]:
        ax.set_title(plots.wrap(ax.get_title(), 4.5, 9))
    assert plots.style_problems(fig) == []


def test_a_figure_wide_x_label_names_every_panel():
    fig, axes = plots.figure(1, 2, width="full")
    for ax in axes[0]:
        ax.plot([0, 1], [0, 1])
        ax.set_ylabel("y")
    assert [p for p in plots.style_problems(fig) if "no x axis label" in p] == [
        "axes 0 draws data but has no x axis label", "axes 1 draws data but has no x axis label"]
    fig.supxlabel("time (s)")
    assert plots.style_problems(fig) == []
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center")
    axes[0, 0].lines[0].set_label("a series")
    fig.legends[0].remove()
    fig.legend([axes[0, 0].lines[0]], ["a series"], loc="outside lower center")
    only(plots.style_problems(fig), "the figure's supxlabel and a figure legend overlap")
