"""imagesearch.plots: the figures the notebooks draw, checked for what a reader relies on
(titles, labels, one bar or tile per value), drawn off-screen with real images."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from imagesearch import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def images(tmp_path):
    paths = []
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (80, 60), colour).save(path)
        paths.append(path)
    return paths


def test_captioned_grid_wraps_and_shortens_captions(images, tmp_path):
    long = "a very long caption " * 10
    fig = plots.captioned_grid(
        images,
        ["red", "green", "blue"],
        ["short", long, "x"],
        columns=2,
        width=20,
        lines=2,
        suptitle="examples",
    )
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == "[red]\nshort"
    second = titles[1].split("\n")
    assert second[0] == "[green]" and len(second) == 3 and second[-1].endswith("...")
    assert all(len(line) <= 20 for line in second[1:])
    assert fig._suptitle.get_text() == "examples"
    assert len(fig.axes) == 4 and sum(bool(ax.images) for ax in fig.axes) == 3
    assert plots.save_figure(fig, tmp_path / "grid.png").stat().st_size > 0


def test_bar_chart_keeps_order_and_highlights(tmp_path):
    fig = plots.bar_chart(
        ["dog", "white", "cat"],
        [30, 20, 10],
        title="words",
        xlabel="captions",
        highlight=["dog", "cat"],
        highlight_label="class name",
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["dog", "white", "cat"]
    assert [round(p.get_width()) for p in ax.patches[:3]] == [30, 20, 10]
    assert ax.patches[0].get_facecolor() == ax.patches[2].get_facecolor() != ax.patches[1].get_facecolor()
    assert ax.get_title() == "words" and ax.get_xlabel() == "captions"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class name", "other"]


def test_vector_plot_shows_every_dimension_and_counts_zeros():
    vector = np.array([0.0, 2.0, 0.0, 1.0, 0.5], np.float32)
    fig = plots.vector_plot(vector, title="one image")
    left, right = fig.axes
    assert len(left.patches) == 5 and left.get_title() == "one image"
    assert right.get_title() == "sorted: 2 of 5 are 0"
    assert list(right.lines[0].get_ydata()) == [2.0, 1.0, 0.5, 0.0, 0.0]


def test_tradeoff_plot_has_two_axes_and_the_exact_line():
    rows = [
        {"trees": t, "recall": r, "query_ms": q, "exact_ms": 0.2, "build_s": 0.1}
        for t, r, q in [(1, 0.3, 0.05), (10, 0.8, 0.1), (100, 0.99, 0.4)]
    ]
    fig = plots.tradeoff_plot(rows, k=10)
    left, right = fig.axes
    assert left.get_xscale() == "log" and left.get_ylabel().startswith("recall@10")
    assert list(left.lines[0].get_ydata()) == [0.3, 0.8, 0.99]
    assert right.get_ylabel() == "time per query (ms)"
    assert [line.get_label() for line in right.lines] == ["Annoy query", "exact query"]
    assert list(right.lines[1].get_ydata()) == pytest.approx([0.2, 0.2])


def test_bar_chart_draws_a_reference_line():
    fig = plots.bar_chart(
        ["a", "b"], [0.9, 0.5], title="p@10", xlabel="precision", reference=0.05, reference_label="chance"
    )
    ax = fig.axes[0]
    assert list(ax.lines[0].get_xdata()) == [0.05, 0.05]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["chance"]
