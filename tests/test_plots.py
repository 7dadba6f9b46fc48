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
from imagesearch.index import Result  # noqa: E402


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


# --- the figure rules (issue 11): at most 1000 px wide at the notebooks' DPI, text >= 10 pt ----


def result(rank, path, label="red", score=0.5):
    return Result(rank=rank, row=rank, path=str(path), label=label, score=score)


def test_result_grid_sets_the_query_apart_scores_under_and_hits_as_borders(images):
    found = [
        [result(i + 1, images[i % 3], label, 0.9 - i / 10) for i, label in enumerate(["red", "green", "red"])]
    ]
    fig = plots.result_grid(
        [(images[0], "red")], found, hits=[[True, False, True]], notes=[["train", "test", "val"]]
    )
    query, *cells = [ax for ax in fig.axes]
    assert query.get_title() == "query" and query.get_xlabel() == "red"
    assert [ax.get_title() for ax in cells] == ["1. red", "2. green", "3. red"]
    assert [ax.get_xlabel() for ax in cells] == ["0.900 train", "0.800 test", "0.700 val"]
    colours = [matplotlib.colors.to_hex(ax.spines["top"].get_edgecolor()) for ax in cells]
    assert colours == [plots.HIT, plots.MISS, plots.HIT]
    # the query's column stands apart: a gap wider than between two results
    boxes = [ax.get_position() for ax in fig.axes]
    assert boxes[1].x0 - boxes[0].x1 > 1.5 * (boxes[2].x0 - boxes[1].x1)
    assert plots.figure_problems(fig) == []


def test_a_wide_result_grid_shrinks_to_the_width_and_a_text_query_shows_its_text(images):
    found = [[result(i + 1, images[0], "potted plant") for i in range(12)]]
    fig = plots.result_grid([(None, "dog on a beach")], found)
    assert fig.axes[0].texts[0].get_text().replace("\n", " ") == "dog on a beach"
    assert plots.figure_problems(fig) == []


@pytest.mark.parametrize("n", [5, 20])
def test_heatmap_is_clustered_readable_and_its_colour_bar_is_the_matrix_height(n):
    rng = np.random.default_rng(0)
    groups = np.arange(n) % 2  # two blocks of alike classes, interleaved in the label order
    matrix = np.where(groups[:, None] == groups[None, :], 0.8, 0.2) + rng.uniform(0, 0.05, (n, n))
    labels = [f"class {i}" for i in range(n)]
    fig = plots.similarity_heatmap(matrix, labels, title="cosine")
    ax, bar = fig.axes
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(shown) == sorted(labels)
    order = [int(name.split()[1]) % 2 for name in shown]
    assert order == sorted(order) or order == sorted(order, reverse=True)  # the blocks sit together
    assert bool(ax.texts) == (n <= 12)  # numbers only where they fit at 10 pt
    fig.canvas.draw()
    assert bar.get_position().height == pytest.approx(ax.get_position().height, rel=0.02)
    assert plots.figure_problems(fig) == []


def test_cluster_order_is_a_deterministic_permutation():
    matrix = np.array([[1.0, 0.1, 0.9], [0.1, 1.0, 0.2], [0.9, 0.2, 1.0]])
    order = plots.cluster_order(matrix)
    assert sorted(order) == [0, 1, 2] and order == plots.cluster_order(matrix)
    assert abs(order.index(0) - order.index(2)) == 1  # the alike rows 0 and 2 are neighbours


def test_every_plot_function_meets_the_figure_rules(images):
    rows = [{"trees": t, "recall": 0.9, "query_ms": 0.1, "exact_ms": 0.2, "build_s": 0.1} for t in (1, 10)]
    figures = {
        "image_grid": plots.image_grid(images * 4, [f"image {i}" for i in range(12)], suptitle="grid"),
        "captioned_grid": plots.captioned_grid(images * 3, ["red"] * 9, ["a caption " * 8] * 9),
        "bar_chart": plots.bar_chart(
            [f"class {i}" for i in range(20)], np.linspace(0, 1, 20), title="t", xlabel="x"
        ),
        "vector_plot": plots.vector_plot(np.arange(512, dtype=np.float32), title="v"),
        "tradeoff_plot": plots.tradeoff_plot(rows),
        "loss_curves": plots.loss_curves({"loss": [-0.5, -0.9], "val_loss": [-0.4, -0.7]}),
    }
    assert {name: plots.figure_problems(fig) for name, fig in figures.items()} == {
        name: [] for name in figures
    }


def test_figure_problems_names_wide_figures_and_small_text():
    fig, ax = plt.subplots(figsize=(14, 3))
    ax.set_title("tiny", fontsize=7)
    problems = plots.figure_problems(fig)
    assert any("px wide" in p for p in problems) and any("'tiny' at 7 pt" in p for p in problems)


def test_fit_width_keeps_the_aspect():
    assert plots.fit_width((14, 10)) == pytest.approx((plots.MAX_WIDTH_IN, 10 * plots.MAX_WIDTH_IN / 14))
    assert plots.fit_width((6, 4)) == (6, 4)


@pytest.mark.parametrize(
    ("label", "captions", "labels", "words", "expected"),
    [
        ("dog", [], ["dog"], [], True),  # same class as an image query
        ("cat", [], ["dog"], [], False),
        ("potted plant", ["A black dog lies by a plant."], [], ["dog"], True),  # the word in a caption
        ("cat", ["Two dogs on a rug."], [], ["dog"], True),  # plurals fold
        ("person", [], [], ["man"], True),  # a synonym names the class
        ("potted plant", [], [], ["plant"], True),  # a word of the label
        ("boat", ["A boat on a lake."], [], ["ocean"], False),
        ("bus", ["A doghouse."], [], ["dog"], False),  # words, not substrings
    ],
)
def test_hit(label, captions, labels, words, expected):
    assert plots.hit(label, captions, labels=labels, words=words) is expected


def test_notebook_figures_sets_the_font_sizes_outside_a_notebook():
    with matplotlib.rc_context():
        plots.notebook_figures()
        assert plt.rcParams["figure.dpi"] == plots.DPI
        sizes = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "legend.fontsize")
        assert min(plt.rcParams[key] for key in sizes) >= plots.MIN_FONT_PT


def test_result_grid_wraps_eight_results_into_two_rows_of_four(images):
    found = [[result(i + 1, images[i % 3], "red") for i in range(8)]]
    fig = plots.result_grid([(images[0], "red")], found, hits=[[True] * 8], columns=4)
    query, *cells = fig.axes
    assert [ax.get_title() for ax in cells] == [f"{i + 1}. red" for i in range(8)]
    fig.canvas.draw()
    boxes = [ax.get_window_extent() for ax in cells]
    assert len({round(b.y0) for b in boxes}) == 2 and len({round(b.x0) for b in boxes}) == 4
    assert min(b.width for b in boxes) >= 128
    assert fig.get_size_inches()[0] * fig.dpi <= 987
    assert query.get_window_extent().height > boxes[0].height  # the query spans both rows
    assert plots.figure_problems(fig) == []


def test_a_wrapped_result_grid_is_compact_and_its_suptitle_sits_above_the_legend(images):
    found = [[result(i + 1, images[i % 3], "red") for i in range(8)] for _ in range(3)]
    queries = [(images[0], "red")] * 3
    fig = plots.result_grid(queries, found, hits=[[True] * 8] * 3, columns=4, suptitle="three searches")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    cells = fig.axes[1:9]  # the first query's two rows
    rows = sorted({round(ax.get_window_extent().y0) for ax in cells})
    row_gap = rows[1] - rows[0]
    assert row_gap < 1.9 * cells[0].get_window_extent().height  # no band of white between its rows
    legend = fig.legends[0].get_window_extent(renderer)
    title = fig._suptitle.get_window_extent(renderer)
    assert title.y0 >= legend.y1 - 1 and title.y0 - legend.y1 < 0.6 * fig.dpi  # just above it
    assert plots.figure_problems(fig) == []
