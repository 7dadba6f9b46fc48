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
from typing import Any

import numpy as np

from .encoders import TextEncoder, text_encoder
from .features import DEFAULT_RESAMPLE, embed_image_maps, embed_images
from .focus import ClassWeights, focused_query, focused_search
from .folder import IndexFolder, word_vectors_name
from .index import EmbeddingIndex, IndexLoadError, IndexQueryError, Result, exact_search
from .layout import IMAGES, JOINT
from .models import LazyImageModel
from .ranking import top_k
from .splits import Split
from .steer import Item, Steering, UnknownItemError  # noqa: F401 (its error, here too)
from .storage import ImageSearchError

TAG_VOCABULARY_SIZE = 20_000
DEFAULT_K = 10  # results of a search, words of a similar-words query
DEFAULT_TAGS = 5  # tags of an image


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


class SearchEngine(Steering):
    """Queries over one index folder. Everything heavy is loaded on first use, once."""

    def __init__(self, folder: str | os.PathLike):
        self.index_folder = IndexFolder(folder)
        self.folder = self.index_folder.path
        self.images = self.index_folder.load(IMAGES)

    def steering_index(self) -> EmbeddingIndex:
        return self.images

    @property
    def model_name(self) -> str:
        return self.images.metadata["model"]

    @cached_property
    def image_model(self) -> LazyImageModel:
        return self.index_folder.image_model(self.images.metadata)

    @cached_property
    def class_weights(self) -> ClassWeights:
        return self.index_folder.read_class_weights(self.images.metadata)

    @cached_property
    def focus_maps(self) -> np.ndarray | None:
        """The images' convolution maps (memory-mapped), or None: focus then re-weights."""
        return self.index_folder.read_maps(self.images)

    @cached_property
    def split(self) -> Split:
        return Split.from_json(self.images.metadata["split"])

    def image_vector(self, query: int | str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """(feature vector, row in the index or None) of an item number or an image file.

        An image that is in the index is looked up (no CNN run); any other file is embedded.
        """
        if isinstance(query, (int, np.integer)):
            if not 0 <= int(query) < len(self.images):
                raise IndexQueryError(
                    f"item {query} is out of range: the index has {len(self.images)} items."
                )
            return self.images.vectors[int(query)], int(query)
        row = self.images.row_of_path(query)
        if row is not None:
            return self.images.vectors[row], row
        vector = embed_images(
            self.image_model, [query], resample=self.images.metadata.get("resample", DEFAULT_RESAMPLE)
        )[0]
        return vector, None

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
        ones sink), so that a user can still see and change what they marked. Each result's
        `score_kind` says which: "cosine" or "feedback".

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
        joint = self.index_folder.load(JOINT)
        if len(joint) != len(self.images):  # an interrupted add or remove: rows no longer pair up
            raise IndexLoadError(
                f"the joint index in {self.folder} has {len(joint)} rows but the image index has "
                f"{len(self.images)}: an update was interrupted. Rerun the same `python -m imagesearch "
                f"add` (or `remove`) on {self.folder} to complete it, or rebuild the index."
            )
        return joint

    @property
    def has_joint(self) -> bool:
        return self.index_folder.has_joint

    @property
    def vectors_name(self) -> str:
        return word_vectors_name(self.joint_index.metadata)

    @cached_property
    def word_vectors(self):
        """gensim KeyedVectors, for word search and training (importing gensim takes a second)."""
        from .glove import load_word_vectors

        return load_word_vectors(self.vectors_name, progress=False)

    @cached_property
    def word_table(self):
        """The same vectors as plain memory-mapped arrays: what text queries and tags read."""
        table = getattr(self.text_encoder, "table", None)  # GloVe's encoder reads this very table
        if table is None:
            from .glove import load_word_table

            table = load_word_table(self.vectors_name, progress=False)
        return table

    @cached_property
    def text_encoder(self) -> TextEncoder:
        """What turns a text query into a vector of the joint space (encoders.py)."""
        return text_encoder(self.vectors_name)

    @cached_property
    def joint_model(self):
        return self.index_folder.load_joint_model(self.images, self.joint_index)

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
        query = self.text_encoder.query(text)
        if not like and not unlike:
            return TextAnswer(text, self.joint_index.search(query.vector, k), query.known, query.unknown)
        return TextAnswer(text, self._steered_text(query.vector, k, like, unlike), query.known, query.unknown)

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
        top, scores = top_k(matrix @ self.joint_vector(query), k)
        return [Tag(rank, words[i], float(s)) for rank, (i, s) in enumerate(zip(top, scores), start=1)]

    def similar_words(self, word: str, k: int = DEFAULT_K) -> list[tuple[str, float]]:
        from .words import similar_words

        return similar_words(self.word_vectors, word, k)
