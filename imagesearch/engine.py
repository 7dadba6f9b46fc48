"""The search engine: one object over an index folder that answers every kind of query.

`build_index` turns a data set into an index folder (features, Annoy index, class weights for
focus); `SearchEngine` opens one lazily: the CNN is loaded only when a query image is not in
the index, and nothing is loaded twice.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import Dataset
from .features import DEFAULT_RESAMPLE, FeatureSet, embed_images, extract_features
from .focus import ClassWeights, fit_class_weights, focused_search
from .index import DEFAULT_TREES, EmbeddingIndex, IndexLoadError, Result
from .models import DEFAULT_MODEL, cached_image_model
from .splits import Split, stratified_split
from .storage import ImageSearchError, atomic_path

IMAGES = "images"
CLASS_WEIGHTS_FILE = "class_weights.npz"
SPLIT_SEED = 0


@dataclass
class BuildReport:
    folder: Path
    count: int
    skipped: list[tuple[str, str]]
    features_from_cache: bool
    reused: bool = False


def _item_records(dataset: Dataset, rows: np.ndarray) -> list[dict[str, Any]]:
    return [{"path": str(dataset[i].path), "label": dataset[i].label, "key": dataset[i].key,
             "captions": list(dataset[i].captions)} for i in rows]


def build_index(dataset: Dataset, out: str | os.PathLike, *, model: str = DEFAULT_MODEL,
                weights: str | None = None, n_trees: int = DEFAULT_TREES,
                on_error: str = "raise", force: bool = False, progress: bool = True,
                features: FeatureSet | None = None) -> BuildReport:
    """Index `dataset` into folder `out`: image features (cached), Annoy index, focus weights.

    A folder that already holds this very index is left as it is; one that holds another index
    is only replaced with `force=True`, so that nothing is overwritten by mistake.
    """
    out = Path(out)
    image_model = cached_image_model(model, weights)
    settings = {"dataset": dataset.name, "dataset_hash": dataset.content_hash,
                "weights": image_model.weights_id, "resample": DEFAULT_RESAMPLE, "n_trees": n_trees}
    if (out / f"{IMAGES}.json").exists():
        old = json.loads((out / f"{IMAGES}.json").read_text())
        same = old.get("model") == model and all(old.get(k) == v for k, v in settings.items())
        if same and (out / CLASS_WEIGHTS_FILE).exists():
            return BuildReport(out, old["count"], old.get("skipped", []), True, reused=True)
        if not force:
            raise ImageSearchError(
                f"{out} already holds an index of {old.get('dataset')!r} with model "
                f"{old.get('model')!r}; choose another --out, or pass --force to replace it.")
    if features is None:
        features = extract_features(dataset, image_model, on_error=on_error, progress=progress)
    items = _item_records(dataset, features.items)
    labels = [item["label"] for item in items]
    split = stratified_split(labels, seed=SPLIT_SEED)
    index = EmbeddingIndex.build(features.features, items, model=model, n_trees=n_trees,
                                 split=split.to_json(), skipped=features.skipped,
                                 **{k: v for k, v in settings.items() if k != "n_trees"})
    # Focus weights: the ImageNet head where the model has one, else a classifier of our own.
    if image_model.class_weights is not None:
        weights_ = ClassWeights(image_model.class_weights, tuple(image_model.class_names), "imagenet")
    else:
        weights_ = fit_class_weights(features.features, labels, split.train,
                                     source=f"logistic regression on {dataset.name} training split")
    with atomic_path(out / CLASS_WEIGHTS_FILE) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, weights=weights_.weights, classes=np.asarray(weights_.classes),
                     source=np.asarray(weights_.source))
    index.save(out, IMAGES)
    return BuildReport(out, len(items), features.skipped, features.from_cache)


class SearchEngine:
    """Queries over one index folder. Everything heavy is loaded on first use, once."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.images = EmbeddingIndex.load(self.folder, IMAGES)

    @property
    def model_name(self) -> str:
        return self.images.metadata["model"]

    @cached_property
    def image_model(self):
        return cached_image_model(self.model_name)

    @cached_property
    def class_weights(self) -> ClassWeights:
        path = self.folder / CLASS_WEIGHTS_FILE
        if not path.exists():
            raise IndexLoadError(f"{path} is missing; rebuild the index to search with focus.")
        with np.load(path) as data:
            return ClassWeights(data["weights"], tuple(str(c) for c in data["classes"]),
                                str(data["source"]))

    @cached_property
    def split(self) -> Split:
        return Split.from_json(self.images.metadata["split"])

    def image_vector(self, query: int | str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """(feature vector, row in the index or None) of an item number or an image file.

        An image that is in the index is looked up (no CNN run); any other file is embedded.
        """
        if isinstance(query, (int, np.integer)):
            if not 0 <= int(query) < len(self.images):
                raise IndexLoadError(f"item {query} is out of range: the index has "
                                     f"{len(self.images)} items.")
            return self.images.vectors[int(query)], int(query)
        row = self.images.row_of_path(query)
        if row is not None:
            return self.images.vectors[row], row
        vector = embed_images(self.image_model, [query],
                              resample=self.images.metadata.get("resample", DEFAULT_RESAMPLE))[0]
        return vector, None

    def similar_images(self, query: int | str | os.PathLike, k: int = 10, *,
                       focus: str | None = None, exact: bool = False) -> list[Result]:
        """Images like the query (an item number or an image file), optionally focused on a class."""
        vector, row = self.image_vector(query)
        exclude = [row] if row is not None else []
        if focus is None:
            return self.images.search(vector, k, exclude=exclude, exact=exact)
        rows, scores = focused_search(self.images.vectors, vector,
                                      self.class_weights.vector(focus), k, exclude)
        return self.images.results_for(rows, scores)
