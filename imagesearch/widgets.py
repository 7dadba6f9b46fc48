"""A live search box for notebooks and Voila: words, a picked image or an uploaded one.

Everything a user can ask the engine goes through one small widget, so that the notebooks can
show the search engine answering as one types. The box keeps its last answer in plain
attributes (`results`, `tags`, `message`, `query`) so that tests and notebook cells can read it
without a browser, and `flush()` runs a search that is still waiting for typing to pause.
"""
from __future__ import annotations

import html
import io
import logging
import re
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import ipywidgets as widgets

from .images import ImageLoadError
from .index import Result
from .storage import ImageSearchError
from .text import UnknownWordError, quoted

logger = logging.getLogger(__name__)

NO_FOCUS = "(none)"
NO_IMAGE = ""
DEBOUNCE_S = 0.3
THUMBNAIL_PX = 140
TEXT, IMAGE, UPLOAD = "text", "image", "upload"
HINT = "Type words, pick an image or upload one."


@dataclass(frozen=True)
class Query:
    """What the box is answering: kind is text, image (an item key) or upload (a file name)."""

    kind: str | None = None
    value: str = ""


# --- pure helpers ------------------------------------------------------------------------------

def focus_class(choice: str | None) -> str | None:
    """The focus dropdown's value as the engine wants it: None for no focus."""
    return None if choice in (None, "", NO_FOCUS) else choice


def unknown_words_message(words: Sequence[str]) -> str:
    """Said when no word of a query is known: name them, so a typo is easy to spot."""
    noun = "word" if len(words) == 1 else "words"
    return (f"Unknown {noun}: {quoted(words)} (not in the word vectors' vocabulary). "
            "Check the spelling, or use other common English words.")


def ignored_words_note(words: Sequence[str]) -> str:
    return f"ignored: {quoted(words)} (not in the vocabulary)" if words else ""


def upload_suffix(name: str) -> str:
    """A safe file suffix for an uploaded file (Pillow reads the bytes, not the name)."""
    suffix = Path(name or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".img"


@lru_cache(maxsize=4096)
def thumbnail_bytes(path: str, size: int = THUMBNAIL_PX) -> bytes:
    """JPEG bytes of a thumbnail: Image widgets send bytes, and small ones keep the page quick.
    Cached because the same images come back query after query."""
    from PIL import Image

    from .plots import thumbnail

    buffer = io.BytesIO()
    Image.fromarray(thumbnail(path, size)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def caption_html(result: Result, key: str) -> str:
    """Rank, label and cosine score under a thumbnail; the item key names the file."""
    return (f'<div class="imagesearch-caption" title="{html.escape(key)}" '
            f'style="font-size:12px;line-height:1.25;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
            f"<b>{result.rank}. {html.escape(result.label)}</b> {result.score:.3f}<br>"
            f'<span style="color:#777">{html.escape(key)}</span></div>')


def report_lines(results: Sequence[Result], keys: Sequence[str]) -> list[str]:
    """Results as plain text: item keys (never absolute paths) and scores to 3 decimals, so
    that a notebook's printed answers repeat exactly from one machine to another."""
    width = max((len(keys[r.item]) for r in results), default=0)
    return [f"{r.rank:>2}. {keys[r.item]:<{width}}  {r.label:<12} {r.score:.3f}" for r in results]


class Debouncer:
    """Calls `fn` once input pauses for `delay` seconds: each call replaces the waiting one.

    With delay <= 0 it calls at once. `flush()` runs the waiting call now and waits for one that
    is running (tests, notebook cells), so nothing depends on timing unless one wants it to.
    """

    def __init__(self, fn: Callable[..., Any], delay: float = DEBOUNCE_S):
        self.fn = fn
        self.delay = delay
        self._lock = threading.Condition()
        self._timer: threading.Timer | None = None
        self._pending: tuple | None = None
        self._token = 0
        self._running = 0

    def __call__(self, *args) -> None:
        if self.delay <= 0:
            self.cancel()
            self.fn(*args)
            return
        with self._lock:
            self._token += 1
            self._pending = args
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._fire, args=(self._token,))
            self._timer.daemon = True
            self._timer.start()

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def _take(self, token: int | None = None) -> tuple | None:
        with self._lock:
            if token is not None and token != self._token:
                return None  # a later call replaced this one
            args, self._pending = self._pending, None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._running += args is not None
            return args

    def _call(self, args: tuple) -> None:
        try:
            self.fn(*args)
        finally:
            with self._lock:
                self._running -= 1
                self._lock.notify_all()

    def _fire(self, token: int) -> None:
        args = self._take(token)
        if args is not None:
            self._call(args)

    def flush(self, timeout: float | None = None) -> bool:
        """Run the waiting call now, and wait for a running one; False when none was waiting."""
        args = self._take()
        if args is not None:
            self._call(args)
        with self._lock:
            self._lock.wait_for(lambda: self._running == 0, timeout)
        return args is not None

    def cancel(self) -> None:
        """Forget the waiting call (a running one finishes)."""
        args = self._take()
        if args is not None:
            with self._lock:
                self._running -= 1


# --- the widget --------------------------------------------------------------------------------

class SearchBox:
    """Search an engine by words, by an image of its data set, or by an uploaded image.

    Display it in a notebook (it is the last expression of a cell, or `display(box)`); read the
    answer from `results`, `tags`, `message` and `query`. Typing waits `debounce` seconds for a
    pause before searching; `flush()` searches at once.
    """

    def __init__(self, engine, *, k: int = 8, max_k: int = 30, debounce: float = DEBOUNCE_S,
                 thumbnail_size: int = THUMBNAIL_PX, n_tags: int = 6):
        self.engine = engine
        self.thumbnail_size = thumbnail_size
        self.n_tags = n_tags
        self.keys = [item["key"] for item in engine.images.items]
        self._rows = {key: row for row, key in enumerate(self.keys)}
        self.query = Query()
        self.results: list[Result] = []
        self.tags: list = []
        self.message = ""
        self.message_kind = "info"
        self._lock = threading.RLock()     # one search at a time: typing runs in a timer thread
        self._local = threading.local()    # "quiet" while the box itself resets an input
        self._upload_dir = Path(tempfile.mkdtemp(prefix="imagesearch-upload-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._upload_dir, True)
        self._upload_path: Path | None = None
        self._uploads = 0
        self._debounced = Debouncer(self._on_text_pause, debounce)

        try:
            classes = list(engine.class_weights.classes)
        except ImageSearchError as error:  # an index without focus weights still searches
            logger.info("no focus classes: %s", error)
            classes = []
        self.text = widgets.Text(placeholder="e.g. a dog on a sofa", description="Words",
                                 continuous_update=True, layout=widgets.Layout(width="24em"))
        self.image = widgets.Dropdown(options=[("(pick an image)", NO_IMAGE)] + [(k_, k_) for k_ in self.keys],
                                      value=NO_IMAGE, description="or image",
                                      layout=widgets.Layout(width="24em"))
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="or upload")
        self.k = widgets.IntSlider(value=min(k, max_k), min=1, max=max_k, description="results",
                                   continuous_update=False)
        self.focus = widgets.Dropdown(options=[NO_FOCUS] + classes, value=NO_FOCUS,
                                      description="focus", disabled=not classes,
                                      layout=widgets.Layout(width="16em"))
        self.status = widgets.HTML()
        self.query_image = widgets.Image(format="jpeg", layout=self._square(display="none"))
        self.tag_line = widgets.HTML()
        self.grid = widgets.Box(layout=widgets.Layout(display="flex", flex_flow="row wrap"))
        self._cells: list[tuple[widgets.Image, widgets.HTML, widgets.VBox]] = []
        for widget, name in [(self.text, "query"), (self.image, "image"), (self.upload, "upload"),
                             (self.k, "k"), (self.focus, "focus"), (self.status, "status"),
                             (self.tag_line, "tags"), (self.grid, "results")]:
            widget.add_class(f"imagesearch-{name}")
        self.widget = widgets.VBox([
            widgets.HBox([self.text, self.k]),
            widgets.HBox([self.image, self.upload, self.focus]),
            self.status,
            widgets.HBox([self.query_image, self.tag_line], layout=widgets.Layout(align_items="center")),
            self.grid,
        ])
        self.text.observe(self._on_text, "value")
        self.image.observe(self._on_image, "value")
        self.upload.observe(self._on_upload, "value")
        self.k.observe(self._on_setting, "value")
        self.focus.observe(self._on_setting, "value")
        self._answer([], [], HINT, "info")

    # -- display --------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A stable text form: the default one is the VBox's repr, which holds image bytes.
        bundle["text/plain"] = f"SearchBox over {len(self.keys)} images"
        return bundle

    def close(self) -> None:
        """Close the box's widgets (their models live in the kernel until closed) and uploads."""
        self._debounced.cancel()
        pending = [self.widget]
        pending += [widget for cell in self._cells for widget in cell]
        while pending:
            widget = pending.pop()
            pending.extend(getattr(widget, "children", ()))
            widget.close()
        self._finalizer()

    # -- what tests and cells use -----------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Search now for text still waiting for a typing pause, and wait for a search that typing
        started; False if no text was waiting."""
        return self._debounced.flush(timeout)

    def refresh(self) -> None:
        """Answer again with the current k and focus (typed text that still waits comes first)."""
        if not self._debounced.flush():
            self._run(self._search)

    def report(self) -> str:
        """The answer as text for a notebook: the message, results and tags."""
        lines = [self.message] if self.message else []
        lines += report_lines(self.results, self.keys)
        if self.tags:
            lines.append("tags: " + ", ".join(f"{t.word} {t.score:.3f}" for t in self.tags))
        return "\n".join(lines)

    @property
    def captions(self) -> list[str]:
        """The visible captions' text, without markup."""
        return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell[1].value)).split())
                for cell in self._cells[:len(self.grid.children)]]

    # -- events ---------------------------------------------------------------------------
    @property
    def _quiet(self) -> bool:
        return getattr(self._local, "quiet", False)

    def _set_quietly(self, widget, value) -> None:
        """Reset another input without it starting a search of its own."""
        self._local.quiet = True
        try:
            widget.value = value
        finally:
            self._local.quiet = False

    def _on_text(self, change) -> None:
        if not self._quiet:
            self._debounced(change["new"])

    def _on_text_pause(self, text: str) -> None:
        with self._lock:
            self.query = Query(TEXT, text) if text.strip() else Query()
            self._set_quietly(self.image, NO_IMAGE)
            self._run(self._search)

    def _on_image(self, change) -> None:
        if self._quiet or change["new"] == NO_IMAGE:
            return
        self._debounced.cancel()
        with self._lock:
            self.query = Query(IMAGE, change["new"])
            self._set_quietly(self.text, "")
            self._run(self._search)

    def _on_upload(self, change) -> None:
        if self._quiet or not change["new"]:
            return
        self._debounced.cancel()
        upload = change["new"][0]
        with self._lock:
            self._set_quietly(self.upload, ())  # the same file uploaded again must count again
            self.search_upload(upload["name"], bytes(upload["content"]))

    def _on_setting(self, change) -> None:
        if not self._quiet:
            self.refresh()

    def search_upload(self, name: str, data: bytes) -> None:
        """Search with an image that is not in the data set (what the upload button does)."""
        with self._lock:
            if self._upload_path is not None:
                self._upload_path.unlink(missing_ok=True)
            self._uploads += 1
            self._upload_path = self._upload_dir / f"upload-{self._uploads}{upload_suffix(name)}"
            self._upload_path.write_bytes(data)
            self.query = Query(UPLOAD, name or self._upload_path.name)
            self._set_quietly(self.text, "")
            self._set_quietly(self.image, NO_IMAGE)
            self._run(self._search)

    # -- searching --------------------------------------------------------------------------
    def _run(self, search: Callable[[], None]) -> None:
        """Run a search; its errors become the box's message, never a trace in the page."""
        with self._lock:
            self._say("searching…", "info")
            try:
                search()
            except UnknownWordError as error:
                self._answer([], [], unknown_words_message(error.words), "error")
            except ImageSearchError as error:
                self._answer([], [], str(error), "error")
            except Exception as error:  # a bug: say so in the page, keep the trace in the log
                logger.exception("search failed")
                self._answer([], [], f"The search failed unexpectedly: {type(error).__name__}: {error}",
                             "error")

    def _search(self) -> None:
        query, k, focus = self.query, self.k.value, focus_class(self.focus.value)
        if query.kind is None:
            self._answer([], [], HINT, "info")
        elif query.kind == TEXT:
            answer = self.engine.text_search(query.value, k)
            notes = [f"{len(answer.results)} images for {query.value.strip()!r}"]
            if answer.unknown:
                notes.append(ignored_words_note(answer.unknown))
            if focus:
                notes.append("focus applies to image queries only")
            self._answer(answer.results, [], "; ".join(notes), "warning" if answer.unknown else "info")
        else:
            source = self._rows[query.value] if query.kind == IMAGE else self._upload_path
            try:
                results = self.engine.similar_images(source, k, focus=focus)
            except ImageLoadError as error:  # its advice is about indexing, not about uploads
                if query.kind != UPLOAD:
                    raise
                raise ImageSearchError(f"Cannot read the uploaded {query.value!r} as an image: "
                                       f"{error.reason}.") from None
            tags, note = self._tags(source)
            what = query.value if query.kind == IMAGE else f"the uploaded {query.value!r}"
            text = f"{len(results)} images like {what}" + (f", focused on {focus!r}" if focus else "")
            self._answer(results, tags, text + (f"; {note}" if note else ""), "info", source)

    def _tags(self, source) -> tuple[list, str]:
        """Tags need the joint model; without one the image results still count."""
        try:
            return self.engine.tags(source, self.n_tags), ""
        except ImageSearchError as error:
            return [], f"no tags: {error}"

    # -- showing ----------------------------------------------------------------------------
    def _say(self, message: str, kind: str) -> None:
        self.message, self.message_kind = message, kind
        colour = {"info": "#444", "warning": "#8a5a00", "error": "#b00020"}[kind]
        self.status.value = (f'<div class="imagesearch-message imagesearch-{kind}" '
                             f'style="color:{colour}">{html.escape(message)}</div>')

    def _answer(self, results: list[Result], tags: list, message: str, kind: str,
                source: int | Path | None = None) -> None:
        self.results, self.tags = list(results), list(tags)
        self._say(message, kind)
        self._show(source)

    def _square(self, **layout) -> widgets.Layout:
        """Thumbnails keep their aspect ratio inside equal squares, so that the grid lines up."""
        size = f"{self.thumbnail_size}px"
        return widgets.Layout(width=size, height=size, object_fit="contain", **layout)

    def _cell(self, i: int):
        while len(self._cells) <= i:  # cells are reused: new widgets per query would pile up
            image = widgets.Image(format="jpeg", layout=self._square())
            caption = widgets.HTML(layout=widgets.Layout(width=f"{self.thumbnail_size}px", overflow="hidden"))
            box = widgets.VBox([image, caption], layout=widgets.Layout(margin="4px"))
            box.add_class("imagesearch-result")
            self._cells.append((image, caption, box))
        return self._cells[i]

    def _show(self, source: int | Path | None = None) -> None:
        cells = []
        for i, result in enumerate(self.results):
            image, caption, box = self._cell(i)
            image.value = thumbnail_bytes(result.path, self.thumbnail_size)
            caption.value = caption_html(result, self.keys[result.item])
            cells.append(box)
        self.grid.children = tuple(cells)
        if source is None:
            self.query_image.layout.display = "none"
        else:
            path = self.engine.images.items[source]["path"] if isinstance(source, int) else source
            self.query_image.value = thumbnail_bytes(str(path), self.thumbnail_size)
            self.query_image.layout.display = None
        self.tag_line.value = ("<b>tags:</b> " + ", ".join(
            f"{html.escape(t.word)} <span style='color:#777'>{t.score:.2f}</span>" for t in self.tags)
            if self.tags else "")
