"""Steering a search, the same over an index folder (engine.py) and a Qdrant store
(qdrant_store.py): liked and disliked images named by row, item key or path, and a query
ranked exactly over every row by feedback scores (feedback.py) or, refined by words alone, by
cosine in the joint space (composed.py). `Steering` gives both searchers these queries.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from .composed import composed_vector
from .encoders import TextEncoder
from .feedback import feedback_scores
from .index import FEEDBACK, EmbeddingIndex, Result
from .ranking import top_k
from .storage import ImageSearchError

Item = int | str | os.PathLike  # an indexed image: its row, its item key or its file path


class UnknownItemError(ImageSearchError):
    """A liked or disliked item that the index does not hold."""


def rows_by_key(index: EmbeddingIndex) -> dict[str, int]:
    """Row of each item key (the first row where a key repeats)."""
    return {str(item.get("key")): row for row, item in reversed(list(enumerate(index.records)))}


def item_row(index: EmbeddingIndex, by_key: dict[str, int], item: Item, where: str | os.PathLike) -> int:
    """The row of an indexed image named by row number, item key (`by_key`) or file path."""
    if isinstance(item, (int, np.integer)):
        if 0 <= int(item) < len(index):
            return int(item)
    else:
        row = by_key.get(str(item))
        row = index.row_of_path(item) if row is None else row
        if row is None and str(item).isdigit() and int(str(item)) < len(index):
            row = int(str(item))
        if row is not None:
            return row
    raise UnknownItemError(
        f"{str(item)!r} is not in the index {where}: like or unlike an indexed image by its "
        f"item key (e.g. {index.records[0].get('key')!r}), its file path or its row "
        f"(0 to {len(index) - 1})."
    )


def steered_results(
    images: EmbeddingIndex,
    image_query: np.ndarray | None,
    joint: tuple[EmbeddingIndex, np.ndarray] | None,
    liked: Sequence[int],
    disliked: Sequence[int],
    k: int,
    exclude: Sequence[int] = (),
    words: np.ndarray | None = None,
) -> list[Result]:
    """A steered query ranked exactly over every row, by the search engine and the Qdrant store
    alike. `image_query`: the query's image vector (None for words); `joint`: (joint index, the
    query's joint vector), None where there is no joint space; `words`: a refinement (`--with`)
    composed with the joint vector. Without likes or dislikes a composed query ranks by cosine
    in the joint space; otherwise by feedback scores (feedback.py) over the spaces given."""
    spaces = [] if image_query is None else [(images.vectors, image_query)]
    if joint is not None:
        joint_index, query = joint
        if words is not None:
            query = composed_vector(query, words)
            if not len(liked) and not len(disliked):  # the composed query alone
                return images.results_for(*top_k(joint_index.vectors @ query, k, exclude))
        spaces.append((joint_index.vectors, query))
    return images.results_for(*top_k(feedback_scores(spaces, liked, disliked), k, exclude), kind=FEEDBACK)


class Steering:
    """Steered image and text queries for a searcher that holds every row's vectors: its
    `steering_index()` (the image index) and `joint_index`, `has_joint`, `text_encoder`, and
    `_joint_of(vector, row)` (an image's joint vector)."""

    folder: Path
    joint_index: EmbeddingIndex
    has_joint: bool
    text_encoder: TextEncoder

    def steering_index(self) -> EmbeddingIndex:
        raise NotImplementedError

    def _joint_of(self, vector: np.ndarray, row: int | None) -> np.ndarray:
        raise NotImplementedError

    @cached_property
    def _rows_by_key(self) -> dict[str, int]:
        return rows_by_key(self.steering_index())

    def item_row(self, item: Item) -> int:
        """The row of an indexed image named by row number, item key or file path."""
        return item_row(self.steering_index(), self._rows_by_key, item, self.folder)

    def _steered_images(self, vector, row, k, like, unlike, with_words) -> list[Result]:
        liked, disliked = [self.item_row(i) for i in like], [self.item_row(i) for i in unlike]
        words = None if with_words is None else self.text_encoder.query(with_words).vector
        joint = (
            (self.joint_index, self._joint_of(vector, row)) if words is not None or self.has_joint else None
        )
        exclude = [row] if row is not None else []
        return steered_results(self.steering_index(), vector, joint, liked, disliked, k, exclude, words)

    def _steered_text(self, vector, k, like, unlike) -> list[Result]:
        liked, disliked = [self.item_row(i) for i in like], [self.item_row(i) for i in unlike]
        return steered_results(self.steering_index(), None, (self.joint_index, vector), liked, disliked, k)
