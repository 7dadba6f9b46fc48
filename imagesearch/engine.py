"""The search engine: one object over an index folder that answers every kind of query.

`SearchEngine` opens a folder written by `indexing.py` lazily: the CNN is loaded only when a
query image is not in the index, word vectors only for words, and nothing is loaded twice.
A focused search reads the query's convolution map from the index's memory-mapped maps file
(or runs the CNN once on a new photo), never the CNN over the collection.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .composed import composed_vector
from .features import DEFAULT_RESAMPLE, embed_image_maps, embed_images
from .feedback import feedback_scores, top_rows
from .focus import ClassWeights, NoClassesError, focused_query, focused_search
from .index import EmbeddingIndex, IndexLoadError, Result, exact_search
from .indexing import (
    IMAGES,
    JOINT,
    class_weights_file,
    index_image_model,
    joint_model_dir,
    joint_settings,
    maps_file,
)
from .models import LazyImageModel
from .splits import Split
from .storage import ImageSearchError

TAG_VOCABULARY_SIZE = 20_000
DEFAULT_K = 10  # results of a search, words of a similar-words query
DEFAULT_TAGS = 5  # tags of an image

Item = int | str | os.PathLike  # an indexed image: its row, its item key or its file path


class UnknownItemError(ImageSearchError):
    """A liked or disliked item that the index does not hold."""


@dataclass(frozen=True)
class TextAnswer:
    """Results of a text query, with the words it used and those it ignored as unknown."""

    query: str
    results: list[Result]
    known: tuple[str, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class Tag:
    rank: int
    word: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "word": self.word, "score": round(float(self.score), 4)}


class SearchEngine:
    """Queries over one index folder. Everything heavy is loaded on first use, once."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.images = EmbeddingIndex.load(self.folder, IMAGES)

    @property
    def model_name(self) -> str:
        return self.images.metadata["model"]

    @cached_property
    def image_model(self) -> LazyImageModel:
        return index_image_model(self.images.metadata)

    @cached_property
    def class_weights(self) -> ClassWeights:
        path = class_weights_file(self.folder, self.images.metadata)
        if path is None:
            raise NoClassesError(
                f"{self.folder} has no class focus: its photos have fewer than two labels "
                "(index a folder of class subfolders with --labels folders to focus on its classes)."
            )
        if not path.exists():
            raise IndexLoadError(f"{path} is missing; rebuild the index to search with focus.")
        with np.load(path) as data:
            intercept = data["intercept"] if "intercept" in data.files else None  # older files: 0
            return ClassWeights(
                data["weights"], tuple(str(c) for c in data["classes"]), str(data["source"]), intercept
            )

    @cached_property
    def focus_maps(self) -> np.ndarray | None:
        """The images' convolution maps (memory-mapped), or None: focus then re-weights."""
        path = maps_file(self.folder, self.images)
        if not path.exists():
            return None
        maps = np.load(path, mmap_mode="r")
        if len(maps) != len(self.images):
            raise IndexLoadError(
                f"{path} has {len(maps)} maps for {len(self.images)} images: out of step with the index "
                "(an interrupted add or remove?). Rebuild with `python -m imagesearch index DATASET --out "
                f"{self.folder} --force`, or delete {path.name} to focus by re-weighting."
            )
        return maps

    @cached_property
    def split(self) -> Split:
        return Split.from_json(self.images.metadata["split"])

    def image_vector(self, query: int | str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """(feature vector, row in the index or None) of an item number or an image file.

        An image that is in the index is looked up (no CNN run); any other file is embedded.
        """
        if isinstance(query, (int, np.integer)):
            if not 0 <= int(query) < len(self.images):
                raise IndexLoadError(f"item {query} is out of range: the index has {len(self.images)} items.")
            return self.images.vectors[int(query)], int(query)
        row = self.images.row_of_path(query)
        if row is not None:
            return self.images.vectors[row], row
        vector = embed_images(
            self.image_model, [query], resample=self.images.metadata.get("resample", DEFAULT_RESAMPLE)
        )[0]
        return vector, None

    @cached_property
    def _rows_by_key(self) -> dict[str, int]:
        return {str(item.get("key")): row for row, item in reversed(list(enumerate(self.images.records)))}

    def item_row(self, item: Item) -> int:
        """The row of an indexed image named by row number, item key or file path."""
        if isinstance(item, (int, np.integer)):
            if 0 <= int(item) < len(self.images):
                return int(item)
        else:
            row = self._rows_by_key.get(str(item))
            row = self.images.row_of_path(item) if row is None else row
            if row is None and str(item).isdigit() and int(str(item)) < len(self.images):
                row = int(str(item))
            if row is not None:
                return row
        raise UnknownItemError(
            f"{str(item)!r} is not in the index {self.folder}: like or unlike an indexed image by its "
            f"item key (e.g. {self.images.records[0].get('key')!r}), its file path or its row "
            f"(0 to {len(self.images) - 1})."
        )

    def similar_images(
        self,
        query: int | str | os.PathLike,
        k: int = DEFAULT_K,
        *,
        like: Sequence[Item] = (),
        unlike: Sequence[Item] = (),
        with_words: str | None = None,
        focus: str | None = None,
        exact: bool = False,
    ) -> list[Result]:
        """Images like the query (an item number or an image file), optionally focused on a class,
        steered by liked and disliked images (see `imagesearch.feedback`) or refined by words
        (`with_words`: see `imagesearch.composed`). A steered search ranks exactly; its scores
        are then the steering scores (a sum of z-scored cosines with feedback), not cosines.
        Liked and disliked images stay in the ranking (liked ones usually come first, disliked
        ones sink), so that a user can still see and change what they marked.

        Focus pools the query's convolution map under the class's per-position probability
        (`focus.focused_query`) when the index holds maps; otherwise (model vgg16, or an index
        built with --no-maps) it re-weights the pooled features by the class weights (the talk's).
        """
        if focus is not None and (like or unlike or with_words is not None):
            raise ImageSearchError(
                "focus cannot be combined with liked/disliked images or words yet: ask with one of them."
            )
        if focus is not None and self.focus_maps is not None:
            weights = self.class_weights
            columns = weights.columns(focus)  # an unknown class fails before any CNN run
            query_map, row = self.image_map(query)
            vector = focused_query(query_map, weights.weights, weights.intercepts, columns)
            rows, scores = exact_search(self.images.vectors, vector, k, [row] if row is not None else [])
            return self.images.results_for(rows, scores)
        vector, row = self.image_vector(query)
        exclude = [row] if row is not None else []
        if like or unlike or with_words is not None:
            return self._steered_images(vector, row, k, like, unlike, with_words)
        if focus is None:
            return self.images.search(vector, k, exclude=exclude, exact=exact)
        rows, scores = focused_search(
            self.images.vectors, vector, self.class_weights.vector(focus), k, exclude
        )
        return self.images.results_for(rows, scores)

    def _steered_images(self, vector, row, k, like, unlike, with_words) -> list[Result]:
        liked, disliked = [self.item_row(i) for i in like], [self.item_row(i) for i in unlike]
        spaces = [(self.images.vectors, vector)]
        if with_words is not None:
            from .text import query_vector

            words = query_vector(self.word_table, with_words).vector
            joint_query = composed_vector(self._joint_of(vector, row), words)
            spaces.append((self.joint_index.vectors, joint_query))
            if not liked and not disliked:  # the composed query alone: cosine in the joint space
                spaces = spaces[1:]
        elif self.has_joint:
            spaces.append((self.joint_index.vectors, self._joint_of(vector, row)))
        scores = feedback_scores(spaces, liked, disliked)
        if len(spaces) == 1 and not liked and not disliked:
            scores = spaces[0][0] @ spaces[0][1]
        return self.images.results_for(*top_rows(scores, k, [row] if row is not None else []))

    def image_map(self, query: int | str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """(convolution map, row or None) of an item number or an image file: read from the
        index's maps when indexed, else one CNN pass over that photo."""
        row = int(query) if isinstance(query, (int, np.integer)) else self.images.row_of_path(query)
        if row is not None:
            self.image_vector(row)  # the range check
            return np.asarray(self.focus_maps[row], np.float32), row
        resample = self.images.metadata.get("resample", DEFAULT_RESAMPLE)
        return embed_image_maps(self.image_model, [query], resample=resample)[1][0], None

    # -- language: text search, tags, similar words ---------------------------------------
    @cached_property
    def joint_index(self) -> EmbeddingIndex:
        if not (self.folder / f"{JOINT}.json").exists():
            raise IndexLoadError(
                f"{self.folder} has no joint image-word model yet: train it with "
                f"`python -m imagesearch train {self.folder}`."
            )
        joint = EmbeddingIndex.load(self.folder, JOINT)
        if len(joint) != len(self.images):  # an interrupted add or remove: rows no longer pair up
            raise IndexLoadError(
                f"the joint index in {self.folder} has {len(joint)} rows but the image index has "
                f"{len(self.images)}: an update was interrupted. Rerun the same `python -m imagesearch "
                f"add` (or `remove`) on {self.folder} to complete it, or rebuild the index."
            )
        return joint

    @property
    def has_joint(self) -> bool:
        return (self.folder / f"{JOINT}.json").exists()

    @property
    def vectors_name(self) -> str:
        return self.joint_index.metadata["word_vectors"]

    @cached_property
    def word_vectors(self):
        """gensim KeyedVectors, for word search and training (importing gensim takes a second)."""
        from .glove import load_word_vectors

        return load_word_vectors(self.vectors_name, progress=False)

    @cached_property
    def word_table(self):
        """The same vectors as plain memory-mapped arrays: what text queries and tags read."""
        from .glove import load_word_table

        return load_word_table(self.vectors_name, progress=False)

    @cached_property
    def joint_model(self):
        from .joint import load_joint_model

        expect = joint_settings(self.images, self.vectors_name, self.joint_index.dim)
        return load_joint_model(joint_model_dir(self.folder, self.joint_index.metadata), expect=expect)

    @cached_property
    def tag_words(self) -> tuple[list[str], np.ndarray]:
        """The tag vocabulary (frequent words, no stop words) and its unit vectors."""
        from .text import tag_matrix

        return tag_matrix(self.word_table, TAG_VOCABULARY_SIZE)

    def text_search(
        self, text: str, k: int = DEFAULT_K, *, like: Sequence[Item] = (), unlike: Sequence[Item] = ()
    ) -> TextAnswer:
        """Images for any words: labels, words that are no label, several words (the mean of
        their content words; stop words, case and punctuation do not count). Liked and disliked
        images steer it as in `similar_images`, in the word space alone: adding the image space
        (liked mean minus disliked mean, words having no image vector) lowered class-word
        queries from 0.895 to 0.710 after one round on Pascal (bench/steering.py)."""
        from .text import query_vector

        query = query_vector(self.word_table, text)
        if not like and not unlike:
            return TextAnswer(text, self.joint_index.search(query.vector, k), query.known, query.unknown)
        liked, disliked = [self.item_row(i) for i in like], [self.item_row(i) for i in unlike]
        spaces = [(self.joint_index.vectors, query.vector)]
        rows, scores = top_rows(feedback_scores(spaces, liked, disliked), k)
        return TextAnswer(text, self.images.results_for(rows, scores), query.known, query.unknown)

    def _joint_of(self, vector: np.ndarray, row: int | None) -> np.ndarray:
        if row is not None:
            return self.joint_index.vectors[row]
        return self.joint_model.embed(vector[None, :])[0]

    def joint_vector(self, query: int | str | os.PathLike) -> np.ndarray:
        """An image in word space: looked up when indexed, else CNN + joint model."""
        return self._joint_of(*self.image_vector(query))

    def tags(self, query: int | str | os.PathLike, k: int = DEFAULT_TAGS) -> list[Tag]:
        """The words nearest to an image in the joint space (no stop words)."""
        words, matrix = self.tag_words
        scores = matrix @ self.joint_vector(query)
        top = np.argsort(-scores, kind="stable")[:k]
        return [Tag(rank, words[i], float(scores[i])) for rank, i in enumerate(top, start=1)]

    def similar_words(self, word: str, k: int = DEFAULT_K) -> list[tuple[str, float]]:
        from .words import similar_words

        return similar_words(self.word_vectors, word, k)
