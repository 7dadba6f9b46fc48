"""A Qdrant store's collections: opening a store by its URL, the names an index is served
under, and exporting an index folder into them (qdrant_store.py searches them).

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
from urllib.parse import urlparse

from qdrant_client import QdrantClient, models

from .folder import DEFAULT_WAIT, IndexFolder
from .layout import IMAGES, JOINT
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


def served(client: QdrantClient, alias: str) -> bool:
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
