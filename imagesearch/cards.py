"""The search box's result cards without any widget: thumbnails as bytes, captions, the score
line and messages as HTML, and what each like/unlike toggle reads. Pure, so tests and other
front ends (a Voila page, a web app) share them with `widgets`."""

from __future__ import annotations

import html
import io
from functools import lru_cache

from .index import Result
from .plots import thumbnail
from .session import LIKE, UNLIKE

NO_FOCUS = "(none)"
NO_IMAGE = ""
NO_MARK = ""
#: Each result's toggle: words that read in full, with what each does as its tooltip.
MARKS = [("none", NO_MARK), ("like", LIKE), ("unlike", UNLIKE)]
MARK_TOOLTIPS = [
    "not marked: this result does not steer the search",
    "like: search for more like this result",
    "unlike: search for less like this result",
]
#: How a marked result shows its state: a word under its caption and a coloured frame.
MARK_STYLES = {LIKE: ("liked", "#1a7f37"), UNLIKE: ("disliked", "#b00020")}
THUMBNAIL_PX = 140
LEVEL_COLOURS = {"info": "#444", "warning": "#8a5a00", "error": "#b00020"}


def focus_class(choice: str | None) -> str | None:
    """The focus dropdown's value as the engine wants it: None for no focus."""
    return None if choice in (None, "", NO_FOCUS) else choice


@lru_cache(maxsize=4096)
def thumbnail_bytes(path: str, size: int = THUMBNAIL_PX) -> bytes:
    """JPEG bytes of a thumbnail: Image widgets send bytes, and small ones keep the page quick.
    Cached because the same images come back query after query."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(thumbnail(path, size)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def caption_html(
    result: Result, key: str, verdict: str | None = None, score_kind: str = "cosine", similar: int = 0
) -> str:
    """Rank, label and score under a thumbnail (the score's kind in its tooltip); the item key
    names the file; "n similar" when the index holds near duplicates of it; a liked or disliked
    result says so."""
    state = ""
    if similar > 0:
        state += (
            f'<br><span class="imagesearch-similar" style="color:#555" '
            f'title="near duplicates of this photo in the index">{similar} similar</span>'
        )
    if verdict in MARK_STYLES:
        word, colour = MARK_STYLES[verdict]
        state += f'<br><span class="imagesearch-state" style="color:{colour};font-weight:bold">{word}</span>'
    return (
        f'<div class="imagesearch-caption" title="{html.escape(key)}" '
        f'style="font-size:12px;line-height:1.25;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
        f'<b>{result.rank}. {html.escape(result.label)}</b> <span title="{html.escape(score_kind)}">'
        f"{result.score:.3f}</span><br>"
        f'<span style="color:#777">{html.escape(key)}</span>{state}</div>'
    )


def score_line_html(score_kind: str) -> str:
    """What the numbers under the thumbnails are, above the grid."""
    return f'<div class="imagesearch-scores" style="font-size:12px;color:#444">scores: {html.escape(score_kind)}</div>'


def message_html(message: str, level: str) -> str:
    return (
        f'<div class="imagesearch-message imagesearch-{level}" '
        f'style="color:{LEVEL_COLOURS[level]}">{html.escape(message)}</div>'
    )
