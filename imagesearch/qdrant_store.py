"""Serving an index from Qdrant, a vector database, for collections that outgrow one machine.

`export_index` copies an index folder's image (and joint) vectors with their payload (path,
label, key, row) into Qdrant collections; `QdrantSearch` answers the engine's queries from them
with the same `Result`s, so `search --store` prints the same JSON Lines as `search`. The index
folder still supplies what a person reads (model, word vectors, settings); the vectors are
served by Qdrant. A store is named by a URL:

- `qdrant://HOST:PORT`: a Qdrant server or cluster (`docker run -p 6333:6333 qdrant/qdrant`);
- `local:PATH`: Qdrant's local mode in a folder (no server; exact search, for up to ~20k points);
- `:memory:`: local mode in memory, for tests and notebooks.

Liked and disliked images (and words refining an image) steer a query as they do over the
folder (steer.py: the same functions): steering ranks every row by z-scored cosines, which no
nearest-neighbour query returns, so the first steered query reads the collections' vectors
(in row order, once) and ranks them here. Qdrant's own recommend query takes liked and disliked
examples without a query: `recommend(positive, negative, k)`.
Exporting (and the aliases an index is served under) is in qdrant_collections.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient, models

from .encoders import TextEncoder, text_encoder
from .engine import DEFAULT_K, TextAnswer
from .features import DEFAULT_RESAMPLE, embed_images
from .folder import IndexFolder, word_vectors_name
from .index import EmbeddingIndex, Result
from .layout import IMAGES, JOINT
from .models import LazyImageModel
from .qdrant_collections import StoreError, collection_name, export_index, open_store, served
from .steer import Item, Steering

__all__ = ["QdrantSearch", "StoreError", "collection_name", "export_index", "open_store"]

SCROLL_BATCH = 1024  # points per read when steering reads a collection


def _results(points) -> list[Result]:
    return [
        Result(rank, int(p.id), p.payload["path"], p.payload["label"], float(p.score))
        for rank, p in enumerate(points, start=1)
    ]


class QdrantSearch(Steering):
    """The search engine's image, text and steered queries, answered by Qdrant collections."""

    def __init__(self, folder: str | os.PathLike, client: QdrantClient):
        self.folder = Path(folder)
        self.client = client
        self.images = collection_name(folder, IMAGES)
        self.joint = collection_name(folder, JOINT)
        if not served(client, self.images):
            raise StoreError(
                f"the store has no collection {self.images!r}: run "
                f"`python -m imagesearch export {self.folder} --store STORE` first."
            )

    def _metadata(self, name: str) -> dict:
        folder = IndexFolder(self.folder)
        if not folder.has(name):
            raise StoreError(
                f"{folder.meta_file(name)} is missing: the index folder says which model and vectors to use."
            )
        return folder.metadata(name)

    @cached_property
    def image_model(self) -> LazyImageModel:
        return IndexFolder(self.folder).image_model(self._metadata(IMAGES))

    def _stored(self, collection: str, path: str | os.PathLike) -> tuple[np.ndarray, int] | None:
        """(vector, point id) of an image already in the collection, found by its path."""
        names = list({str(path), str(Path(path).resolve())})
        match = models.FieldCondition(key="path", match=models.MatchAny(any=names))
        points, _ = self.client.scroll(
            collection, scroll_filter=models.Filter(must=[match]), limit=1, with_vectors=True
        )
        return (np.asarray(points[0].vector, np.float32), int(points[0].id)) if points else None

    def _ids(self, paths: Sequence[str | os.PathLike]) -> list[int]:
        ids = []
        for path in paths:
            stored = self._stored(self.images, path)
            if stored is None:
                raise StoreError(f"{path} is not in the store's collection {self.images!r}.")
            ids.append(stored[1])
        return ids

    def query(self, collection: str, vector: np.ndarray, k: int, exclude: Sequence[int] = ()) -> list[Result]:
        excluded = models.Filter(must_not=[models.HasIdCondition(has_id=list(exclude))]) if exclude else None
        answer = self.client.query_points(
            collection, query=np.asarray(vector, np.float32).tolist(), limit=k, query_filter=excluded
        )
        return _results(answer.points)

    def similar_images(
        self,
        query: str | os.PathLike,
        k: int = DEFAULT_K,
        *,
        like: Sequence[Item] = (),
        unlike: Sequence[Item] = (),
        with_words: str | None = None,
        focus: str | None = None,
    ) -> list[Result]:
        """Images like an image file: looked up in the store when it is there, else embedded;
        steered by liked and disliked images or words as `SearchEngine.similar_images`."""
        if focus is not None:
            raise StoreError(
                "--focus reads the query's convolution map and class weights from the index folder: search it without --store."
            )
        stored = self._stored(self.images, query)
        if stored is not None:
            vector, row = stored
        else:
            resample = self._metadata(IMAGES).get("resample", DEFAULT_RESAMPLE)
            vector, row = embed_images(self.image_model, [query], resample=resample)[0], None
        if like or unlike or with_words is not None:
            return self._steered_images(vector, row, k, like, unlike, with_words)
        return self.query(self.images, vector, k, exclude=[row] if row is not None else [])

    def text_search(
        self, text: str, k: int = DEFAULT_K, *, like: Sequence[Item] = (), unlike: Sequence[Item] = ()
    ) -> TextAnswer:
        """Images for words, in the joint space (the folder names the word vectors), steered
        by liked and disliked images as `SearchEngine.text_search`."""
        self._require_joint()
        query = self.text_encoder.query(text)
        if like or unlike:
            return TextAnswer(
                text, self._steered_text(query.vector, k, like, unlike), query.known, query.unknown
            )
        return TextAnswer(text, self.query(self.joint, query.vector, k), query.known, query.unknown)

    # -- steering reads every row's vectors (steer.py) ---------------------------------------
    def _require_joint(self) -> None:
        if not self.has_joint:
            raise StoreError(f"the store has no joint collection {self.joint!r}: train, then export again.")

    @cached_property
    def has_joint(self) -> bool:
        return served(self.client, self.joint)

    @cached_property
    def text_encoder(self) -> TextEncoder:
        return text_encoder(word_vectors_name(self._metadata(JOINT)))

    def _fetch(self, collection: str, name: str) -> EmbeddingIndex:
        """A collection's vectors and payloads in row order, as an in-memory index (exact)."""
        points, offset = [], None
        while True:
            batch, offset = self.client.scroll(
                collection, limit=SCROLL_BATCH, offset=offset, with_vectors=True, with_payload=True
            )
            points += batch
            if offset is None:
                break
        points.sort(key=lambda p: int(p.id))
        if [int(p.id) for p in points] != list(range(len(points))):
            raise StoreError(
                f"the store's collection {collection!r} does not hold rows 0 to n-1: export again."
            )
        vectors = np.asarray([p.vector for p in points], np.float32).reshape(len(points), -1)
        records = [
            {"path": p.payload["path"], "label": p.payload["label"], "key": p.payload.get("key")}
            for p in points
        ]
        return EmbeddingIndex(vectors, dict(self._metadata(name)), None, records)

    @cached_property
    def image_index(self) -> EmbeddingIndex:
        return self._fetch(self.images, IMAGES)

    @cached_property
    def joint_index(self) -> EmbeddingIndex:
        self._require_joint()
        return self._fetch(self.joint, JOINT)

    def steering_index(self) -> EmbeddingIndex:
        return self.image_index

    def _joint_of(self, vector: np.ndarray, row: int | None) -> np.ndarray:
        if row is not None:
            return self.joint_index.vectors[row]
        model = IndexFolder(self.folder).load_joint_model(self.image_index, self.joint_index)
        return model.embed(vector[None, :])[0]

    def recommend(
        self,
        positive: Sequence[str | os.PathLike],
        negative: Sequence[str | os.PathLike] = (),
        k: int = DEFAULT_K,
    ) -> list[Result]:
        """Images like the liked ones and unlike the disliked ones (indexed image paths), by
        Qdrant's recommend query; the examples themselves are left out."""
        if not positive:
            raise StoreError("recommend needs at least one liked image.")
        query = models.RecommendQuery(
            recommend=models.RecommendInput(positive=self._ids(positive), negative=self._ids(negative))
        )
        return _results(self.client.query_points(self.images, query=query, limit=k).points)
