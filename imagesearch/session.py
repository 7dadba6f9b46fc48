"""A search session without any UI: a query in, results and messages out.

What the search box shows is decided here, so that tests and notebook cells can ask questions and
read answers without widgets or a browser. The question is a small frozen `Query`; the session
keeps the last one, so that changing one setting (k, focus) asks the same question again. A
question can be steered: results marked liked or disliked (relevance feedback, kept until a new
question is asked) and an image refined by words ("this photo, but on grass"); see
imagesearch.feedback and imagesearch.composed. The widgets only forward and render.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .duplicates import similar_count
from .images import ImageLoadError
from .index import Result
from .queries import DEFAULT_K, HINT, IMAGE, LIKE, N_TAGS, TEXT, UNLIKE, UPLOAD, Answer, Query  # noqa: F401 (re-exported)
from .storage import ImageSearchError
from .text import UnknownWordError, quoted

logger = logging.getLogger(__name__)


# --- pure helpers ------------------------------------------------------------------------------


def unknown_words_message(words: Sequence[str]) -> str:
    """Said when no word of a query is known: name them, so a typo is easy to spot."""
    noun = "word" if len(words) == 1 else "words"
    return (
        f"Unknown {noun}: {quoted(words)} (not in the word vectors' vocabulary). "
        "Check the spelling, or use other common English words."
    )


def ignored_words_note(words: Sequence[str]) -> str:
    return f"ignored: {quoted(words)} (not in the vocabulary)" if words else ""


def marks_note(query: Query) -> str:
    """How many results the question marks, e.g. ", 2 liked, 1 disliked"."""
    parts = [
        f"{len(marks)} {name}"
        for marks, name in ((query.liked, "liked"), (query.disliked, "disliked"))
        if marks
    ]
    return "".join(f", {p}" for p in parts)


def upload_suffix(name: str) -> str:
    """A safe file suffix for an uploaded file (Pillow reads the bytes, not the name)."""
    suffix = Path(name or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".img"


def report_lines(results: Sequence[Result], keys: Sequence[str]) -> list[str]:
    """Results as plain text: item keys (never absolute paths) and scores to 3 decimals, so
    that a notebook's printed answers repeat exactly from one machine to another."""
    width = max((len(keys[r.row]) for r in results), default=0)
    return [f"{r.rank:>2}. {keys[r.row]:<{width}}  {r.label:<12} {r.score:.3f}" for r in results]


# --- the session -------------------------------------------------------------------------------


class SearchSession:
    """Answers queries against one engine and remembers the last query and answer.

    Errors never escape: unknown words, unreadable uploads and missing models become the answer's
    message (level "error"), so that a page shows a sentence, not a trace.
    """

    def __init__(self, engine, *, k: int = DEFAULT_K, n_tags: int = N_TAGS):
        self.engine = engine
        self.n_tags = n_tags
        self.keys = [item["key"] for item in engine.images.records]
        self.rows = {key: row for row, key in enumerate(self.keys)}
        try:
            self.classes = list(engine.class_weights.classes)
        except ImageSearchError as error:  # an index without focus weights still searches
            logger.info("no focus classes: %s", error)
            self.classes = []
        self.query = Query(k=k)
        self.answer = Answer(self.query)
        self._upload_dir = Path(tempfile.mkdtemp(prefix="imagesearch-upload-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._upload_dir, True)
        self._upload_path: Path | None = None  # the last uploaded file, and the name it came with
        self._upload_name: str | None = None
        self._uploads = 0

    # -- asking ---------------------------------------------------------------------------
    def ask(self, query: Query) -> Answer:
        """Answer `query` and remember both."""
        self.query = query
        try:
            self.answer = self._search(query)
        except UnknownWordError as error:
            self.answer = Answer(query, message=unknown_words_message(error.words), level="error")
        except ImageSearchError as error:
            self.answer = Answer(query, message=str(error), level="error")
        except Exception as error:  # a bug: say so in the answer, keep the trace in the log
            logger.exception("search failed")
            self.answer = Answer(
                query,
                level="error",
                message=(f"The search failed unexpectedly: {type(error).__name__}: {error}"),
            )
        return self.answer

    def search_text(self, text: str) -> Answer:
        """Words (they replace an image query)."""
        return self.ask(self._new(text=text))

    def search_image(self, key: str) -> Answer:
        """An image of the data set, by item key (it replaces the words)."""
        return self.ask(self._new(image=key))

    def refine(self, words: str) -> Answer:
        """The image asked about, refined by words ("on grass"); empty words: the image alone."""
        if self.query.kind not in (IMAGE, UPLOAD):
            return self.search_text(words)
        return self.ask(replace(self.query, text=words))

    def mark(self, key: str, verdict: str | None) -> Answer:
        """Mark a result liked (LIKE), disliked (UNLIKE) or neither (None), and search again."""
        if verdict not in (LIKE, UNLIKE, None):
            raise ValueError(f"verdict must be {LIKE!r}, {UNLIKE!r} or None, not {verdict!r}")
        liked, disliked = self.query.liked - {key}, self.query.disliked - {key}
        if verdict == LIKE:
            liked |= {key}
        elif verdict == UNLIKE:
            disliked |= {key}
        return self.ask(replace(self.query, liked=liked, disliked=disliked))

    def verdict(self, key: str) -> str | None:
        """LIKE, UNLIKE or None: how the current question marks an item."""
        return LIKE if key in self.query.liked else UNLIKE if key in self.query.disliked else None

    def similar_counts(self, results: Sequence[Result]) -> list[int]:
        """How many near duplicates of each result the index holds: its card's "n similar"."""
        return similar_count(self.engine.images.vectors, [r.row for r in results]).tolist()

    def mark_notes(self, results: Sequence[Result] | None = None) -> list[str]:
        """ "liked", "disliked" or "" for each result (default: the last answer's), to write under
        a result grid's thumbnails: which results steer the search."""
        results = self.answer.results if results is None else results
        names = {LIKE: "liked", UNLIKE: "disliked", None: ""}
        return [names[self.verdict(self.keys[r.row])] for r in results]

    @property
    def score_kind(self) -> str:
        """What the last answer's scores are: cosine similarities (in the joint space for a photo
        refined by words), or steering scores once results are liked or disliked (a sum of
        z-scored cosines, see `imagesearch.feedback`: not bounded by 1)."""
        if self.query.liked or self.query.disliked:
            return "steering score (sum of z-scored cosines)"
        return "cosine in word space" if self.query.words or self.query.kind == TEXT else "cosine"

    def _new(self, text: str = "", image: str | None = None, upload: str | None = None) -> Query:
        """A new question keeps the settings (k, focus) but not the marks of the last one."""
        return replace(
            self.query, text=text, image=image, upload=upload, liked=frozenset(), disliked=frozenset()
        )

    def search_upload(self, name: str, data: bytes) -> Answer:
        """An image that is not in the data set: its bytes go to a temporary file the engine reads
        (kept for the next question with other settings, removed by `close`)."""
        if self._upload_path is not None:
            self._upload_path.unlink(missing_ok=True)
        self._uploads += 1
        self._upload_path = self._upload_dir / f"upload-{self._uploads}{upload_suffix(name)}"
        self._upload_path.write_bytes(data)
        self._upload_name = name or self._upload_path.name
        return self.ask(self._new(upload=self._upload_name))

    def change(self, **settings) -> Answer:
        """The same question with other settings, e.g. `change(k=4)` or `change(focus=None)`."""
        return self.ask(replace(self.query, **settings))

    def report(self) -> str:
        """The last answer as text for a notebook: the message, results and tags."""
        answer = self.answer
        lines = [answer.message] if answer.message else []
        if answer.results:
            lines.append(f"    scores: {self.score_kind}")
        lines += report_lines(answer.results, self.keys)
        if answer.tags:
            lines.append("tags: " + ", ".join(f"{t.word} {t.score:.3f}" for t in answer.tags))
        return "\n".join(lines)

    def close(self) -> None:
        """Remove the uploaded files."""
        self._finalizer()

    # -- answering ------------------------------------------------------------------------
    def _search(self, query: Query) -> Answer:
        if query.kind is None:
            return Answer(query)
        if query.kind == TEXT:
            return self._text_answer(query)
        return self._image_answer(query)

    def _text_answer(self, query: Query) -> Answer:
        found = self.engine.text_search(query.text, query.k, **self._marks(query))
        notes = [f"{len(found.results)} images for {query.text.strip()!r}" + marks_note(query)]
        if found.unknown:
            notes.append(ignored_words_note(found.unknown))
        if query.focus:
            notes.append("focus applies to image queries only")
        return Answer(query, found.results, [], "; ".join(notes), "warning" if found.unknown else "info")

    def _image_answer(self, query: Query) -> Answer:
        if query.kind == IMAGE and query.image not in self.rows:
            raise ImageSearchError(f"No image {query.image!r} in this index; pick one of its item keys.")
        if query.kind == IMAGE:
            source, path = self.rows[query.image], self.engine.images.records[self.rows[query.image]]["path"]
        elif query.upload != self._upload_name:
            raise ImageSearchError(
                f"No uploaded file {query.upload!r}; upload the image first (search_upload)."
            )
        else:
            source = path = self._upload_path
        focus = None if query.steered else query.focus
        try:
            steer = self._marks(query) | ({"with_words": query.words} if query.words else {})
            results = self.engine.similar_images(source, query.k, focus=focus, **steer)
        except ImageLoadError as error:  # its advice is about indexing, not about uploads
            if query.kind != UPLOAD:
                raise
            raise ImageSearchError(
                f"Cannot read the uploaded {query.upload!r} as an image: {error.reason}."
            ) from None
        tags, note = self._tags(source)
        what = query.image if query.kind == IMAGE else f"the uploaded {query.upload!r}"
        text = f"{len(results)} images like {what}" + (f" with {query.words!r}" if query.words else "")
        text += (f", focused on {query.focus!r}" if focus else "") + marks_note(query)
        if query.focus and not focus:
            text += "; focus is off while the search is steered"
        return Answer(query, results, tags, text + (f"; {note}" if note else ""), "info", str(path))

    def _marks(self, query: Query) -> dict:
        for key in query.liked | query.disliked:
            if key not in self.rows:
                raise ImageSearchError(f"No image {key!r} in this index to like or unlike; mark a result.")
        marks = {"like": sorted(query.liked), "unlike": sorted(query.disliked)}
        return {name: keys for name, keys in marks.items() if keys}  # none: a plain search

    def _tags(self, source) -> tuple[list, str]:
        """Tags need the joint model; without one the image results still count."""
        try:
            return self.engine.tags(source, self.n_tags), ""
        except ImageSearchError as error:
            return [], f"no tags: {error}"
