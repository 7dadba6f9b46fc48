"""Serving an index from Qdrant, a vector database, for collections that outgrow one machine.

`export_index` copies an index folder's image (and joint) vectors with their payload (path,
label, key, row) into Qdrant collections; `QdrantSearch` answers the engine's queries from them
with the same `Result`s, so `search --store` prints the same JSON Lines as `search`. The index
folder still supplies what a person reads (model, word vectors, settings); the vectors are
served by Qdrant. A store is named by a URL:

- `qdrant://HOST:PORT`: a Qdrant server or cluster (`docker run -p 6333:6333 qdrant/qdrant`);
- `local:PATH`: Qdrant's local mode in a folder (no server; exact search, for up to ~20k points);
- `:memory:`: local mode in memory, for tests and notebooks.

Qdrant's recommend query takes liked and disliked examples: `recommend(positive, negative, k)`.

Each index is served under an alias named after its folder (basename and the collection id in
its JSON: the same on any machine, and two folders of the same name do not collide). An export fills a new collection, then
moves the alias onto it in one operation and drops the old one: queries see the old copy or
the new one, never a half-filled one, and an interrupted export leaves the old one served.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from qdrant_client import QdrantClient, models

from .encoders import text_encoder
from .engine import DEFAULT_K, TextAnswer
from .features import DEFAULT_RESAMPLE, embed_images
from .folder import DEFAULT_WAIT, IndexFolder, word_vectors_name
from .index import Result
from .layout import IMAGES, JOINT
from .models import LazyImageModel
from .storage import ImageSearchError

UPSERT_BATCH = 256


class StoreError(ImageSearchError):
    """A store URL that cannot be used, or a collection that is missing."""


def open_store(url: str) -> QdrantClient:
    """A Qdrant client for `qdrant://HOST:PORT`, `local:PATH` or `:memory:`."""
    if url == ":memory:":
        return QdrantClient(":memory:")
    if url.startswith("local:"):
        return QdrantClient(path=url.removeprefix("local:"))
    parsed = urlparse(url)
    if parsed.scheme == "qdrant" and parsed.hostname:
        return QdrantClient(host=parsed.hostname, port=parsed.port or 6333)
    raise StoreError(
        f"unknown store {url!r}: use qdrant://HOST:PORT (a Qdrant server), local:PATH (a folder) or :memory:."
    )


def collection_name(folder: str | os.PathLike, name: str) -> str:
    """The alias an index of a folder is served under: `<folder name>-<collection id>-images`
    (and `-joint`). The id is stored in the image index's JSON (made at its first save, then
    kept), so that the name is the same on every machine and after the folder moves, and two
    folders of one name, built apart, do not collide. Older indexes without one: a hash of what
    they were built from (data set hash, model, weights, backend)."""
    index_folder = IndexFolder(folder)
    folder = index_folder.path
    if not index_folder.has(IMAGES):
        raise StoreError(
            f"{index_folder.meta_file(IMAGES)} is missing: build an index in {folder} (`python -m imagesearch "
            f"index DATASET --out {folder}`), then `python -m imagesearch export {folder} --store STORE`."
        )
    metadata = index_folder.metadata(IMAGES)
    identity = (
        metadata.get("collection_id")
        or hashlib.sha256(
            json.dumps([metadata.get(k) for k in ("dataset_hash", "model", "weights", "backend")]).encode()
        ).hexdigest()
    )
    return f"{folder.resolve().name}-{identity[:12]}-{name}"


def _alias_target(client: QdrantClient, alias: str) -> str | None:
    return next((a.collection_name for a in client.get_aliases().aliases if a.alias_name == alias), None)


def _served(client: QdrantClient, alias: str) -> bool:
    return _alias_target(client, alias) is not None or client.collection_exists(alias)


def _switch_alias(client: QdrantClient, alias: str, collection: str) -> None:
    """Point `alias` at `collection` (one atomic operation), then drop what it pointed at."""
    old = _alias_target(client, alias)
    operations = [
        models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
        )
    ]
    if old is not None:
        operations.insert(0, models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
    client.update_collection_aliases(change_aliases_operations=operations)
    if old is not None and old != collection:
        client.delete_collection(old)


def export_index(
    folder: str | os.PathLike, client: QdrantClient, *, wait: float = DEFAULT_WAIT
) -> dict[str, int]:
    """Copy every index of `folder` (images, and joint when trained) into a new collection and
    serve it under the index's alias in place of an older copy. Returns {alias: points}. Holds
    the folder's write lock, so that two exports do not fill the same collection."""
    index_folder = IndexFolder(folder)
    with index_folder.writing(wait):
        return dict(_export(index_folder, name, client) for name in (IMAGES, JOINT) if index_folder.has(name))


def _export(index_folder: IndexFolder, name: str, client: QdrantClient) -> tuple[str, int]:
    """Copy index `name` into the collection its alias does not serve, then switch the alias."""
    folder = index_folder.path
    index = index_folder.load(name)
    alias = collection_name(folder, name)
    slot = "b" if _alias_target(client, alias) == f"{alias}-a" else "a"  # the one not served
    collection = f"{alias}-{slot}"
    if client.collection_exists(collection):  # left by an interrupted export
        client.delete_collection(collection)
    client.create_collection(
        collection, vectors_config=models.VectorParams(size=index.dim, distance=models.Distance.COSINE)
    )
    with warnings.catch_warnings():  # local mode scans without one, and says so
        warnings.filterwarnings("ignore", "Payload indexes have no effect", UserWarning)
        client.create_payload_index(collection, "path", models.PayloadSchemaType.KEYWORD)
    for start in range(0, len(index), UPSERT_BATCH):
        stop = min(start + UPSERT_BATCH, len(index))
        points = [
            models.PointStruct(
                id=row,
                vector=vector.tolist(),
                payload={
                    "path": record["path"],
                    "label": record["label"],
                    "key": record.get("key"),
                    "row": row,
                },
            )
            for row, vector, record in zip(
                range(start, stop), index.vectors[start:stop], index.records[start:stop]
            )
        ]
        client.upsert(collection, points=points)
    _switch_alias(client, alias, collection)
    return alias, len(index)


def _results(points) -> list[Result]:
    return [
        Result(rank, int(p.id), p.payload["path"], p.payload["label"], float(p.score))
        for rank, p in enumerate(points, start=1)
    ]


class QdrantSearch:
    """The search engine's image, text and feedback queries, answered by Qdrant collections."""

    def __init__(self, folder: str | os.PathLike, client: QdrantClient):
        self.folder = Path(folder)
        self.client = client
        self.images = collection_name(folder, IMAGES)
        self.joint = collection_name(folder, JOINT)
        if not _served(client, self.images):
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

    def similar_images(self, query: str | os.PathLike, k: int = DEFAULT_K, *, focus: str | None = None):
        """Images like an image file: looked up in the store when it is there, else embedded."""
        if focus is not None:
            raise StoreError(
                "--focus reads the query's convolution map and class weights from the index folder: search it without --store."
            )
        stored = self._stored(self.images, query)
        if stored is not None:
            return self.query(self.images, stored[0], k, exclude=[stored[1]])
        resample = self._metadata(IMAGES).get("resample", DEFAULT_RESAMPLE)
        return self.query(self.images, embed_images(self.image_model, [query], resample=resample)[0], k)

    def text_search(self, text: str, k: int = DEFAULT_K) -> TextAnswer:
        """Images for words, in the joint space (the folder names the word vectors)."""
        if not _served(self.client, self.joint):
            raise StoreError(f"the store has no joint collection {self.joint!r}: train, then export again.")
        query = text_encoder(word_vectors_name(self._metadata(JOINT))).query(text)
        return TextAnswer(text, self.query(self.joint, query.vector, k), query.known, query.unknown)

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
