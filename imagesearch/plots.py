"""Pictures people would rather look at than read: result grids, contact sheets and heatmaps.

matplotlib is imported inside each function, deferred on purpose: `import imagesearch.plots` stays
fast. The 2-d UMAP maps are in maps.py, the charts of numbers in charts.py (re-exported here).
Every figure fits the notebooks' rules: at most MAX_WIDTH_IN inches wide, so at most
1000 px at the committed DPI, and no text under MIN_FONT_PT, so that it reads at GitHub's width;
`notebook_figures` sets the notebooks up for them and `figure_problems` checks a figure.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .charts import (  # noqa: F401 (plots.*)
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    bar_chart,
    cluster_order,
    loss_curves,
    similarity_heatmap,
    tradeoff_plot,
    vector_plot,
)
from .images import ImageLoadError, load_rgb
from .index import Result
from .storage import atomic_path
from .text import caption_tokens, class_words, word_forms

THUMBNAIL = 160
DPI = 100  # the notebooks' inline figures and save_figure's default: 1 inch = 100 px
HIT, MISS = "#2ca02c", "#d62728"  # green and red borders of a result grid
STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


def notebook_figures() -> None:
    """Set a notebook up for the figure rules: inline figures as PNG (sharp text; photo grids are
    kept small by their thumbnails, not by JPEG) at DPI, cropped to their content, with the font
    sizes of STYLE. One call in every notebook's first cell; outside IPython it sets the fonts."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png", bbox_inches="tight", dpi=DPI)


def fit_width(figsize: tuple[float, float], max_width: float = MAX_WIDTH_IN) -> tuple[float, float]:
    """`figsize` scaled down (aspect kept) to at most `max_width` inches: a wider figure would be
    shrunk by the reader's screen, and its text with it."""
    width, height = figsize
    scale = min(1.0, max_width / width)
    return (width * scale, height * scale)


def figure_problems(fig, dpi: int = DPI, max_px: int = 1000) -> list[str]:
    """What breaks the figure rules in a drawn figure: wider than `max_px` once cropped to its
    content at `dpi` (as the notebooks save it), or visible text under MIN_FONT_PT. Empty when
    the figure reads at GitHub's width; the tests call it on every plot function."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    width = fig.get_tightbbox(renderer).width * dpi
    if width > max_px:
        problems.append(f"{width:.0f} px wide at {dpi} dpi (at most {max_px})")
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < MIN_FONT_PT:
            problems.append(
                f"text {text.get_text()[:30]!r} at {text.get_fontsize():g} pt (at least {MIN_FONT_PT})"
            )
    return problems


#: What a green border means, the same in every grid (see `hit`).
HIT_RULE = "the class asked for, or a class or caption word the query's words name"
#: The query's thumbnail, relative to a result's.
QUERY_SCALE = 1.6
#: Characters of a 10-pt title that fit over an inch of thumbnail.
TITLE_CHARS_PER_INCH = 11


def shorten(text: str, chars: int) -> str:
    """`text` cut to `chars` characters, an ellipsis marking the cut."""
    return text if len(text) <= chars else text[: max(1, chars - 1)].rstrip() + "…"


def hit(
    label: str, captions: Sequence[str] = (), *, labels: Sequence[str] = (), words: Sequence[str] = ()
) -> bool:
    """Whether a result answers its query: its label is one of `labels` (an image query's class,
    or a focus class), or one of `words` (a text query's content words) names its class
    (`text.class_words`: "man" names a person) or is a word of its captions (case aside, plurals
    folded: "dogs" counts for "dog"). What a result grid's green border means; red is a miss."""
    if label in set(labels):
        return True
    wanted = {w.lower() for w in words}
    if wanted & class_words(label):
        return True
    return any(wanted & word_forms(caption_tokens(caption), wanted) for caption in captions)


def thumbnail(path: str | os.PathLike, size: int = THUMBNAIL) -> np.ndarray:
    """A small RGB array of an image, or a gray tile when the file cannot be read."""
    try:
        image = load_rgb(path)
    except ImageLoadError:
        return np.full((size, size, 3), 200, np.uint8)
    image.thumbnail((size, size))
    return np.asarray(image)


def result_grid(
    queries: Sequence[tuple[str | os.PathLike | None, str]],
    results: Sequence[Sequence[Result]],
    *,
    hits: Sequence[Sequence[bool]] | None = None,
    notes: Sequence[Sequence[str]] | None = None,
    size: float = 1.5,
    max_title: int | None = None,
    hit_rule: str = HIT_RULE,
    columns: int | None = None,
    suptitle: str | None = None,
):
    """A matplotlib figure: one row per query (or, with `columns`, its results wrapped into rows
    of that many, e.g. 8 results as 2 rows of 4 with larger thumbnails), the query apart on the left (its image, or its
    text for a text query), then its results: rank and label above each, cosine score (and its
    `notes`, e.g. "train"/"test" or "liked") under it. With `hits` (one bool per result, see
    `hit`) each result gets a green (hit) or red (miss) border, and a legend states `hit_rule`.
    Thumbnails shrink to keep the figure within MAX_WIDTH_IN (the query's stays larger: its
    objects must be visible); titles are shortened to fit a thumbnail, so that neighbours never
    run into each other. `suptitle` goes above it all."""
    import matplotlib.pyplot as plt

    widest = max((len(r) for r in results), default=0)
    columns = min(columns, widest) if columns else widest
    spans = [max(1, -(-len(found) // columns)) if columns else 1 for found in results]
    size = min(size, MAX_WIDTH_IN / (columns + QUERY_SCALE + 0.3))
    chars = max_title or max(6, int(size * 15))
    title_chars = max(5, int(size * TITLE_CHARS_PER_INCH))
    # a row of its own per query leaves room for the taller query; wrapped rows share it
    row_height = size * (1.3 if max(spans) > 1 else 1.8 * max(1, QUERY_SCALE / 1.3))
    fig = plt.figure(figsize=(size * (columns + QUERY_SCALE + 0.3), row_height * sum(spans)))
    grid = fig.add_gridspec(sum(spans), columns + 2, width_ratios=[QUERY_SCALE, 0.3] + [1] * columns)
    for row, ((query_path, title), found) in enumerate(zip(queries, results)):
        top = sum(spans[:row])
        cell = grid[top, 0] if spans[row] == 1 else grid[top : top + spans[row], 0]
        _draw_query(fig.add_subplot(cell), query_path, title, chars)
        for col, result in enumerate(found):
            _draw_result(
                fig.add_subplot(grid[top + col // columns, col % columns + 2]),
                result,
                title_chars,
                note=f" {notes[row][col]}" if notes is not None else "",
                hit=None if hits is None else hits[row][col],
            )
    fig.tight_layout(h_pad=0.6, w_pad=0.3)
    if hits is not None:
        _hit_legend(fig, hit_rule)
    if suptitle:  # above the legend, the same distance whatever the figure's height
        y = 1 + (0.35 if hits is not None else 0.05) / fig.get_figheight()
        fig.suptitle(suptitle, y=y, va="bottom", weight="bold")
    return fig


def _draw_query(ax, query_path, title: str, chars: int) -> None:
    """The query's cell: its image captioned with `title`, or, for a text query, the text itself."""
    if query_path is not None:
        ax.imshow(thumbnail(query_path))
        ax.set_xlabel(textwrap.fill(title, chars), fontsize=MIN_FONT_PT)
    else:
        ax.set_facecolor("#f0f0f0")
        ax.text(
            0.5,
            0.5,
            textwrap.fill(title, max(6, chars - 3)),
            ha="center",
            va="center",
            fontsize=11,
            weight="bold",
            transform=ax.transAxes,
        )
    ax.set_title("query", fontsize=MIN_FONT_PT + 1, weight="bold")
    _bare(ax)


def _draw_result(ax, result: Result, title_chars: int, note: str, hit: bool | None) -> None:
    """One result's cell: thumbnail, rank and label above, score and note below, and a green or
    red border when `hit` is known."""
    ax.imshow(thumbnail(result.path))
    ax.set_title(shorten(f"{result.rank}. {result.label}", title_chars), fontsize=MIN_FONT_PT)
    ax.set_xlabel(f"{result.score:.3f}{note}", fontsize=MIN_FONT_PT)
    _bare(ax)
    if hit is not None:
        for spine in ax.spines.values():
            spine.set_edgecolor(HIT if hit else MISS)
            spine.set_linewidth(4)


def _hit_legend(fig, hit_rule: str) -> None:
    """The hit/miss colours and the rule that decides a hit, above the figure."""
    from matplotlib.patches import Patch

    fig.legend(
        handles=[Patch(color=HIT, label=f"hit: {hit_rule}"), Patch(color=MISS, label="miss")],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        frameon=False,
    )


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def save_figure(fig, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write a figure atomically (PNG unless the name says otherwise) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png", bbox_inches="tight")
    plt.close(fig)
    return path


def image_grid(
    paths: Sequence[str | os.PathLike],
    titles: Sequence[str] | None = None,
    *,
    columns: int = 5,
    size: float = 2.4,
    suptitle: str | None = None,
):
    """A grid of images with a title under each (label, caption, score...)."""
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(paths) // columns))
    size = min(size, MAX_WIDTH_IN / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * 1.25 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, path in enumerate(paths):
        ax = axes.flat[i]
        ax.imshow(thumbnail(path, 224))
        if titles is not None:
            ax.set_title(titles[i], fontsize=MIN_FONT_PT)
    if suptitle:
        fig.suptitle(suptitle, fontsize=13, weight="bold")
    fig.tight_layout()
    return fig


def captioned_grid(
    paths: Sequence[str | os.PathLike],
    labels: Sequence[str],
    captions: Sequence[str],
    *,
    columns: int = 4,
    size: float = 2.45,
    width: int = 30,
    lines: int = 3,
    suptitle: str | None = None,
):
    """An image grid titled with each image's label and a caption, wrapped to fit under the
    image (captions are sentences, far wider than a thumbnail)."""
    import textwrap

    titles = []
    for label, caption in zip(labels, captions):
        wrapped = textwrap.wrap(caption, width)
        if len(wrapped) > lines:
            wrapped = wrapped[:lines]
            wrapped[-1] = wrapped[-1][: width - 3] + "..."
        titles.append("\n".join([f"[{label}]", *wrapped]))
    return image_grid(paths, titles, columns=columns, size=size, suptitle=suptitle)
