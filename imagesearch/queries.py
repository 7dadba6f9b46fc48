"""A search box's question and answer: the small frozen `Query` a session keeps (so that changing
one setting asks the same question again) and the `Answer` it shows. Plain values, apart from
the session that computes them (session.py), so widgets and tests can build and read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .index import Result

TEXT, IMAGE, UPLOAD = "text", "image", "upload"
HINT = "Type words, pick an image or upload one."
DEFAULT_K = 8
N_TAGS = 6
LIKE, UNLIKE = "like", "unlike"


@dataclass(frozen=True)
class Query:
    """One question: words, or an image of the data set (its item key), or the uploaded file
    (its name), with how many results and an optional focus class. With an image, `text` holds
    the words that refine it; `liked` and `disliked` hold item keys of marked results."""

    text: str = ""
    image: str | None = None
    upload: str | None = None
    k: int = DEFAULT_K
    focus: str | None = None
    liked: frozenset[str] = frozenset()
    disliked: frozenset[str] = frozenset()

    def __post_init__(self):
        if self.image is not None and self.upload is not None:
            raise ValueError("a query has one image: a data set image or an upload, not both")
        if self.liked & self.disliked:
            raise ValueError(f"liked and disliked at once: {sorted(self.liked & self.disliked)}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")

    @property
    def kind(self) -> str | None:
        """text, image or upload; None for an empty query."""
        if self.image is not None:
            return IMAGE
        if self.upload is not None:
            return UPLOAD
        return TEXT if self.text.strip() else None

    @property
    def words(self) -> str | None:
        """The words that refine an image query (None: the image alone, or a text query)."""
        return self.text.strip() or None if self.kind in (IMAGE, UPLOAD) else None

    @property
    def steered(self) -> bool:
        return bool(self.liked or self.disliked or self.words)

    @property
    def value(self) -> str:
        """The words, item key or file name the query is about."""
        return {IMAGE: self.image, UPLOAD: self.upload, TEXT: self.text}.get(self.kind) or ""


@dataclass(frozen=True)
class Answer:
    """What a session says to a query; `level` is info, warning or error, `query_path` the image
    file the query is about (None for words)."""

    query: Query
    results: list[Result] = field(default_factory=list)
    tags: list = field(default_factory=list)
    message: str = HINT
    level: str = "info"
    query_path: str | None = None
