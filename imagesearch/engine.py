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
from .features import DEFAULT_RESAMPLE, embed_images, extract_features
from .focus import ClassWeights, fit_class_weights, focused_search
from .index import DEFAULT_TREES, EmbeddingIndex, IndexLoadError, Result
from .joint import DEFAULT_EPOCHS
from .models import DEFAULT_MODEL, LazyImageModel
from .splits import Split, stratified_split
from .storage import ImageSearchError, atomic_path

IMAGES = "images"
JOINT = "joint"  # the joint-space index: NAME.ann/.npy/.json beside the image index
JOINT_MODEL_DIR = "joint"  # the trained head: joint/joint.keras + joint/joint.json
CLASS_WEIGHTS_FILE = "class_weights.npz"
SPLIT_SEED = 0
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


@dataclass
class BuildReport:
    folder: Path
    count: int
    skipped: list[tuple[str, str]]
    features_from_cache: bool
    reused: bool = False


def _item_records(dataset: Dataset, rows: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "path": str(dataset[i].path),
            "label": dataset[i].label,
            "key": dataset[i].key,
            "captions": list(dataset[i].captions),
        }
        for i in rows
    ]


def build_index(
    dataset: Dataset,
    out: str | os.PathLike,
    *,
    model: str = DEFAULT_MODEL,
    weights: str | None = None,
    n_trees: int = DEFAULT_TREES,
    on_error: str = "raise",
    force: bool = False,
    progress: bool = True,
) -> BuildReport:
    """Index `dataset` into folder `out`: image features (cached), Annoy index, focus weights.

    A folder that already holds this very index is left as it is (no CNN is built to find that
    out); one that holds another index is only replaced with `force=True`, so that nothing is
    overwritten by mistake.
    """
    out = Path(out)
    image_model = LazyImageModel(model, weights)
    settings = {
        "dataset": dataset.name,
        "dataset_hash": dataset.content_hash,
        "weights": image_model.weights_id,
        "resample": DEFAULT_RESAMPLE,
        "n_trees": n_trees,
    }
    if (out / f"{IMAGES}.json").exists():
        old = json.loads((out / f"{IMAGES}.json").read_text())
        same = old.get("model") == model and all(old.get(k) == v for k, v in settings.items())
        if same and (out / CLASS_WEIGHTS_FILE).exists():
            return BuildReport(out, old["count"], old.get("skipped", []), True, reused=True)
        if not force:
            raise ImageSearchError(
                f"{out} already holds an index of {old.get('dataset')!r} with model "
                f"{old.get('model')!r}; choose another --out, or pass --force to replace it."
            )
    features = extract_features(dataset, image_model, on_error=on_error, progress=progress)
    records = _item_records(dataset, features.item_numbers)
    labels = [record["label"] for record in records]
    split = stratified_split(labels, seed=SPLIT_SEED)
    index = EmbeddingIndex.build(
        features.features,
        records,
        model=model,
        n_trees=n_trees,
        split=split.to_json(),
        skipped=features.skipped,
        **{k: v for k, v in settings.items() if k != "n_trees"},
    )
    # Focus weights: the ImageNet head where the model has one, else a classifier of our own.
    if image_model.class_weights is not None:
        weights_ = ClassWeights(image_model.class_weights, tuple(image_model.class_names), "imagenet")
    else:
        weights_ = fit_class_weights(
            features.features,
            labels,
            split.train,
            source=f"logistic regression on {dataset.name} training split",
        )
    with atomic_path(out / CLASS_WEIGHTS_FILE) as tmp:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                weights=weights_.weights,
                classes=np.asarray(weights_.classes),
                source=np.asarray(weights_.source),
            )
    index.save(out, IMAGES)
    return BuildReport(out, len(records), features.skipped, features.from_cache)


def joint_settings(images: EmbeddingIndex, vectors: str, vector_dim: int) -> dict[str, Any]:
    """What a joint model depends on; a saved model must match all of it to be used."""
    return {
        "image_model": images.metadata["model"],
        "feature_dim": images.dim,
        "vectors": vectors,
        "vector_dim": vector_dim,
        "dataset_hash": images.metadata.get("dataset_hash"),
    }


def label_targets(kv, labels: list[str]) -> np.ndarray:
    """Each item's training target: the (unit, mean-of-words) vector of its label."""
    from .text import label_vector

    by_label = {label: label_vector(kv, label) for label in sorted(set(labels))}
    return np.stack([by_label[label] for label in labels]).astype(np.float32)


def train_joint_index(
    folder: str | os.PathLike,
    *,
    vectors: str | None = None,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    verbose: int = 0,
):
    """Train the joint model on an index folder's cached features and index every image in
    word space. Needs no CNN: the features are the ones stored in the image index."""
    from .glove import DEFAULT_VECTORS, load_word_vectors
    from .joint import train_joint_model

    folder = Path(folder)
    vectors = vectors or DEFAULT_VECTORS
    images = EmbeddingIndex.load(folder, IMAGES)
    kv = load_word_vectors(vectors)
    labels = [item["label"] for item in images.records]
    split = Split.from_json(images.metadata["split"])
    model = train_joint_model(
        images.vectors,
        label_targets(kv, labels),
        split,
        epochs=epochs,
        seed=seed,
        settings=joint_settings(images, vectors, kv.vector_size),
        verbose=verbose,
    )
    model.save(folder / JOINT_MODEL_DIR)
    joint = EmbeddingIndex.build(
        model.embed(images.vectors),
        images.records,
        model=f"joint:{images.metadata['model']}:{vectors}",
        word_vectors=vectors,
        image_model=images.metadata["model"],
        dataset_hash=images.metadata.get("dataset_hash"),
        split=images.metadata["split"],
    )
    joint.save(folder, JOINT)
    return model


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
        return LazyImageModel(self.model_name)

    @cached_property
    def class_weights(self) -> ClassWeights:
        path = self.folder / CLASS_WEIGHTS_FILE
        if not path.exists():
            raise IndexLoadError(f"{path} is missing; rebuild the index to search with focus.")
        with np.load(path) as data:
            return ClassWeights(data["weights"], tuple(str(c) for c in data["classes"]), str(data["source"]))

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

    def similar_images(
        self,
        query: int | str | os.PathLike,
        k: int = DEFAULT_K,
        *,
        focus: str | None = None,
        exact: bool = False,
    ) -> list[Result]:
        """Images like the query (an item number or an image file), optionally focused on a class."""
        vector, row = self.image_vector(query)
        exclude = [row] if row is not None else []
        if focus is None:
            return self.images.search(vector, k, exclude=exclude, exact=exact)
        rows, scores = focused_search(
            self.images.vectors, vector, self.class_weights.vector(focus), k, exclude
        )
        return self.images.results_for(rows, scores)

    # -- language: text search, tags, similar words ---------------------------------------
    @cached_property
    def joint_index(self) -> EmbeddingIndex:
        if not (self.folder / f"{JOINT}.json").exists():
            raise IndexLoadError(
                f"{self.folder} has no joint image-word model yet: train it with "
                f"`python -m imagesearch train {self.folder}`."
            )
        return EmbeddingIndex.load(self.folder, JOINT)

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
        return load_joint_model(self.folder / JOINT_MODEL_DIR, expect=expect)

    @cached_property
    def tag_words(self) -> tuple[list[str], np.ndarray]:
        """The tag vocabulary (frequent words, no stop words) and its unit vectors."""
        from .text import tag_matrix

        return tag_matrix(self.word_table, TAG_VOCABULARY_SIZE)

    def text_search(self, text: str, k: int = DEFAULT_K) -> TextAnswer:
        """Images for any words: labels, words that are no label, several words (the mean of
        their content words; stop words, case and punctuation do not count)."""
        from .text import query_vector

        query = query_vector(self.word_table, text)
        return TextAnswer(text, self.joint_index.search(query.vector, k), query.known, query.unknown)

    def joint_vector(self, query: int | str | os.PathLike) -> np.ndarray:
        """An image in word space: looked up when indexed, else CNN + joint model."""
        vector, row = self.image_vector(query)
        if row is not None:
            return self.joint_index.vectors[row]
        return self.joint_model.embed(vector[None, :])[0]

    def tags(self, query: int | str | os.PathLike, k: int = DEFAULT_TAGS) -> list[Tag]:
        """The words nearest to an image in the joint space (no stop words)."""
        words, matrix = self.tag_words
        scores = matrix @ self.joint_vector(query)
        top = np.argsort(-scores, kind="stable")[:k]
        return [Tag(rank, words[i], float(scores[i])) for rank, i in enumerate(top, start=1)]

    def similar_words(self, word: str, k: int = DEFAULT_K) -> list[tuple[str, float]]:
        from .words import similar_words

        return similar_words(self.word_vectors, word, k)
