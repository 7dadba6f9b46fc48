"""A live search box for notebooks and Voila: the ipywidgets view of a `SearchSession`.

The view only lays out widgets, forwards their events to the session and renders its answer
(thumbnails, captions, tags, a message line). What to search and what to say is the session's
concern (`imagesearch.session`), so tests drive that without widgets. The word box searches when
one presses Enter or leaves it (`continuous_update=False`, the way ipywidgets documents
debouncing a text box): no search per keystroke, and no timer threads touching widgets.
"""

from __future__ import annotations

import contextlib
import html
import re
from functools import partial

import ipywidgets as widgets

from .cards import (  # noqa: F401 (widgets.* for the notebooks and tests)
    LEVEL_COLOURS,
    MARK_STYLES,
    MARK_TOOLTIPS,
    MARKS,
    NO_FOCUS,
    NO_IMAGE,
    NO_MARK,
    THUMBNAIL_PX,
    caption_html,
    focus_class,
    message_html,
    score_line_html,
    thumbnail_bytes,
)
from .session import DEFAULT_K, N_TAGS, Answer, SearchSession

# --- the view ----------------------------------------------------------------------------------


class SearchBox:
    """Search an engine by words, by an image of its data set, or by an uploaded image.

    Display it in a notebook (it is the last expression of a cell, or `display(box)`); read the
    answer from `results`, `tags`, `message` and `query` (the session's last answer), or print
    `report()`.
    """

    def __init__(
        self,
        engine,
        *,
        k: int = DEFAULT_K,
        max_k: int = 30,
        thumbnail_size: int = THUMBNAIL_PX,
        n_tags: int = N_TAGS,
    ):
        self.session = SearchSession(engine, k=min(k, max_k), n_tags=n_tags)
        self.thumbnail_size = thumbnail_size
        self._rendering = False  # True while the view copies the answer's query into its inputs
        self._cells: list[tuple[widgets.Image, widgets.HTML, widgets.ToggleButtons, widgets.VBox]] = []
        self._build_inputs(max_k)
        self._build_outputs()
        self.widget = self._layout()
        self._wire_events()
        self._render(self.session.answer)

    def _build_inputs(self, max_k: int) -> None:
        """The question's widgets: words, an image of the data set, an upload, words that refine
        an image, the number of results and the focus class."""
        classes = self.session.classes
        self.text = widgets.Text(
            placeholder="e.g. a dog on a sofa, then Enter",
            description="Words",
            continuous_update=False,
            layout=widgets.Layout(width="24em"),
        )
        self.image = widgets.Dropdown(
            options=[("(pick an image)", NO_IMAGE)] + [(k_, k_) for k_ in self.keys],
            value=NO_IMAGE,
            description="or image",
            layout=widgets.Layout(width="24em"),
        )
        self.refine = widgets.Text(
            placeholder="e.g. on grass, then Enter",
            description="with words",
            continuous_update=False,
            disabled=True,
            layout=widgets.Layout(width="24em"),
        )
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="or upload")
        self.k = widgets.IntSlider(
            value=self.session.query.k, min=1, max=max_k, description="results", continuous_update=False
        )
        self.focus = widgets.Dropdown(
            options=[NO_FOCUS] + classes,
            value=NO_FOCUS,
            description="focus",
            disabled=not classes,
            layout=widgets.Layout(width="16em"),
        )

    def _build_outputs(self) -> None:
        """The answer's widgets: the message line, the query's thumbnail and tags, what the scores
        are, and the grid of results."""
        self.status = widgets.HTML()
        self.query_image = widgets.Image(format="jpeg", layout=self._square(display="none"))
        self.tag_line = widgets.HTML()
        self.score_line = widgets.HTML()
        self.grid = widgets.Box(layout=widgets.Layout(display="flex", flex_flow="row wrap"))

    def _layout(self) -> widgets.VBox:
        """Everything in one box; CSS classes name the parts for the browser test and for styling."""
        for widget, name in [
            (self.text, "query"),
            (self.image, "image"),
            (self.upload, "upload"),
            (self.k, "k"),
            (self.focus, "focus"),
            (self.refine, "refine"),
            (self.status, "status"),
            (self.tag_line, "tags"),
            (self.score_line, "score-kind"),
            (self.grid, "results"),
        ]:
            widget.add_class(f"imagesearch-{name}")
        return widgets.VBox(
            [
                widgets.HBox([self.text, self.k]),
                widgets.HBox([self.image, self.upload, self.focus]),
                self.refine,
                self.status,
                widgets.HBox([self.query_image, self.tag_line], layout=widgets.Layout(align_items="center")),
                self.score_line,
                self.grid,
            ]
        )

    def _wire_events(self) -> None:
        """Each input forwards its changes to the session (the toggles are wired in `_cell`)."""
        self.text.observe(self._on_text, "value")
        self.image.observe(self._on_image, "value")
        self.refine.observe(self._on_refine, "value")
        self.upload.observe(self._on_upload, "value")
        self.k.observe(self._on_setting, "value")
        self.focus.observe(self._on_setting, "value")

    # -- the session's answer, for cells and tests ----------------------------------------
    keys = property(lambda self: self.session.keys)
    query = property(lambda self: self.session.query)
    results = property(lambda self: self.session.answer.results)
    tags = property(lambda self: self.session.answer.tags)
    message = property(lambda self: self.session.answer.message)
    level = property(lambda self: self.session.answer.level)

    def report(self) -> str:
        """The answer as text for a notebook: the message, results and tags."""
        return self.session.report()

    def search_upload(self, name: str, data: bytes) -> None:
        """Search with an image that is not in the data set (what the upload button does)."""
        self._ask(self.session.search_upload, name, data)

    @property
    def captions(self) -> list[str]:
        """The visible captions' text, without markup."""
        return [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell[1].value)).split())
            for cell in self._cells[: len(self.grid.children)]
        ]

    # -- display --------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A stable text form: the default one is the VBox's repr, which holds image bytes.
        bundle["text/plain"] = f"SearchBox over {len(self.keys)} images"
        return bundle

    def close(self) -> None:
        """Close the box's widgets (their models live in the kernel until closed) and uploads."""
        pending = [self.widget] + [widget for cell in self._cells for widget in cell]
        while pending:
            widget = pending.pop()
            pending.extend(getattr(widget, "children", ()))
            widget.close()
        self.session.close()

    # -- events: forwarded to the session ---------------------------------------------------
    def _on_text(self, change) -> None:
        if not self._rendering:
            self._ask(self.session.search_text, change["new"])

    def _on_image(self, change) -> None:
        if not self._rendering and change["new"] != NO_IMAGE:
            self._ask(self.session.search_image, change["new"])

    def _on_refine(self, change) -> None:
        if not self._rendering:
            self._ask(self.session.refine, change["new"])

    def _on_mark(self, i: int, change) -> None:
        if not self._rendering and i < len(self.results):
            self._ask(self.session.mark, self.keys[self.results[i].row], change["new"] or None)

    def mark(self, i: int, verdict: str | None) -> None:
        """Like (LIKE), unlike (UNLIKE) or unmark (None) the i-th result shown: what its toggle does."""
        self._cells[i][2].value = verdict or NO_MARK

    def _on_upload(self, change) -> None:
        if self._rendering or not change["new"]:
            return
        upload = change["new"][0]
        with self._quietly():
            self.upload.value = ()  # the same file uploaded again must count again
        self.search_upload(upload["name"], bytes(upload["content"]))

    def _on_setting(self, change) -> None:
        if not self._rendering:
            self._ask(self.session.change, k=self.k.value, focus=focus_class(self.focus.value))

    def _ask(self, method, *args, **kwargs) -> None:
        self.status.value = message_html("searching…", "info")  # reaches the page before the answer
        self._render(method(*args, **kwargs))

    # -- rendering --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _quietly(self):
        """Set inputs without them asking the session again."""
        self._rendering = True
        try:
            yield
        finally:
            self._rendering = False

    def _render(self, answer: Answer) -> None:
        query = answer.query
        with self._quietly():
            self.text.value = query.text
            self.image.value = query.image or NO_IMAGE
            self.k.value = query.k
            self.focus.value = query.focus or NO_FOCUS
            self.refine.value = query.text if query.kind in ("image", "upload") else ""
            self.refine.disabled = query.kind not in ("image", "upload")
            for i, result in enumerate(answer.results):
                self._cell(i)[2].value = self.session.verdict(self.keys[result.row]) or NO_MARK
        self.status.value = message_html(answer.message, answer.level)
        kind = self.session.score_kind
        self.score_line.value = score_line_html(kind) if answer.results else ""
        cells = []
        similar = self.session.similar_counts(answer.results)
        for i, result in enumerate(answer.results):
            image, caption, _, box = self._cell(i)
            verdict = self.session.verdict(self.keys[result.row])
            image.value = thumbnail_bytes(result.path, self.thumbnail_size)
            caption.value = caption_html(result, self.keys[result.row], verdict, kind, similar[i])
            colour = MARK_STYLES[verdict][1] if verdict in MARK_STYLES else "transparent"
            box.layout.border = f"3px solid {colour}"
            cells.append(box)
        self.grid.children = tuple(cells)
        if answer.query_path is None:
            self.query_image.layout.display = "none"
        else:
            self.query_image.value = thumbnail_bytes(answer.query_path, self.thumbnail_size)
            self.query_image.layout.display = None
        self.tag_line.value = (
            "<b>tags:</b> "
            + ", ".join(
                f"{html.escape(t.word)} <span style='color:#777'>{t.score:.2f}</span>" for t in answer.tags
            )
            if answer.tags
            else ""
        )

    def _square(self, **layout) -> widgets.Layout:
        """Thumbnails keep their aspect ratio inside equal squares, so that the grid lines up."""
        size = f"{self.thumbnail_size}px"
        return widgets.Layout(width=size, height=size, object_fit="contain", **layout)

    def _cell(self, i: int):
        while len(self._cells) <= i:  # cells are reused: new widgets per query would pile up
            image = widgets.Image(format="jpeg", layout=self._square())
            caption = widgets.HTML(layout=widgets.Layout(width=f"{self.thumbnail_size}px", overflow="hidden"))
            toggle = widgets.ToggleButtons(
                options=MARKS,
                value=NO_MARK,
                tooltips=MARK_TOOLTIPS,
                style={"button_width": "auto", "font_weight": "normal"},
                layout=widgets.Layout(width=f"{self.thumbnail_size}px"),
            )
            toggle.add_class("imagesearch-mark")
            toggle.observe(partial(self._on_mark, len(self._cells)), "value")
            box = widgets.VBox([image, caption, toggle], layout=widgets.Layout(margin="4px", padding="2px"))
            box.add_class("imagesearch-result")
            self._cells.append((image, caption, toggle, box))
        return self._cells[i]
