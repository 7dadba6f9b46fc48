"""Indexing: a data set becomes an index folder that the search engine opens.

`build_index` writes the image features, their Annoy index, the class weights for focus and
(vgg16-conv) the images' convolution maps, which a focused query of an indexed image reads;
`train_joint_index` trains the image -> word-space model on those cached features and indexes
every image in word space. Both reuse what the folder already holds, and neither is needed to
search: the engine (`engine.py`) only reads what they wrote.

The index's JSON is the commit point: class weights, maps and the joint model are written
first, under names of the new generation that the JSON then records ("class_weights",
"model_dir"; the maps follow the index's generation), so an interrupted (re)build or
retraining leaves the previous index whole, with its own weights, maps and model.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import Dataset
from .features import DEFAULT_RESAMPLE, extract_features
from .focus import ClassWeights, fit_class_weights, focus_classes
from .index import DEFAULT_TREES, EmbeddingIndex
from .joint import DEFAULT_EPOCHS
from .layout import (  # noqa: F401  (the names of an index folder's files, imported from here too)
    CLASS_WEIGHTS_FILE,
    IMAGES,
    JOINT,
    JOINT_MODEL_DIR,
    MAPS_FILE,
    class_weights_file,
    generational,
    index_file,
    joint_model_dir,
    maps_file,
    next_generation,
)
from .models import DEFAULT_MODEL, LazyImageModel
from .splits import Split, stratified_split
from .storage import ImageSearchError, atomic_path
from .targets import DEFAULT_TARGETS, TARGETS, caption_targets, label_targets

SPLIT_SEED = 0


@dataclass
class BuildReport:
    folder: Path
    count: int
    skipped: list[tuple[str, str]]
    features_from_cache: bool
    reused: bool = False


def index_image_model(metadata: dict[str, Any]) -> LazyImageModel:
    """The image model of an image index (its metadata), refusing other weights: an image
    embedded with other weights than the collection's would be compared with the wrong vectors."""
    model = LazyImageModel(metadata["model"])
    recorded = metadata.get("weights")
    if recorded and model.weights_id != recorded:
        raise ImageSearchError(
            f"the index was built with {model.name} weights {recorded}, but the weights found here are "
            f"{model.weights_id}: rebuild it (`python -m imagesearch index DATASET --out DIR --force`) "
            "or install the weights it was built with."
        )
    return model


def item_records(dataset: Dataset, rows: np.ndarray) -> list[dict[str, Any]]:
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
    maps: bool = True,
    backend: str = "annoy",
) -> BuildReport:
    """Index `dataset` into folder `out`: image features (cached), Annoy index, focus weights,
    and the convolution maps for focus (`maps=False` leaves them out, 50 KB an image: focus then
    falls back to re-weighting).

    A folder that already holds this very index is left as it is (no CNN is built to find that
    out), or only gains its maps; one that holds another index is only replaced with
    `force=True`, so that nothing is overwritten by mistake.
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
    old = None
    if (out / f"{IMAGES}.json").exists():
        old = json.loads((out / f"{IMAGES}.json").read_text())
        old_maps = index_file(out, IMAGES, old.get("backend", "annoy"), int(old.get("generation", 0))).maps
        compared = {
            k: v for k, v in settings.items() if k != "n_trees" or backend == "annoy"
        }  # Annoy's alone
        same = old.get("model") == model and all(old.get(k) == v for k, v in compared.items())
        same = same and old.get("backend", "annoy") == backend
        want_maps = maps and image_model.has_maps
        old_weights = class_weights_file(out, old)
        if same and (old_weights is None or old_weights.exists()):
            if not want_maps or old_maps.exists():
                return BuildReport(out, old["count"], old.get("skipped", []), True, reused=True)
            # the same index without its maps: rebuilt below with them (same features, same split)
        elif not force:
            update = (
                " or --update to add what is new and drop what is gone,"
                if old.get("dataset") == dataset.name
                else ""
            )
            raise ImageSearchError(
                f"{out} already holds an index of {old.get('dataset')!r} with model "
                f"{old.get('model')!r}; choose another --out,{update} or pass --force to replace it."
            )
    features = extract_features(dataset, image_model, on_error=on_error, progress=progress, maps=maps)
    records = item_records(dataset, features.item_numbers)
    labels = [record["label"] for record in records]
    split = stratified_split(labels, seed=SPLIT_SEED)
    generation = next_generation(out / f"{IMAGES}.json")
    # Focus weights: the ImageNet head where the model has one, else a classifier of our own,
    # which needs two classes at least: a flat, unlabelled or one-class folder has no focus.
    if image_model.class_weights is not None:
        weights_ = ClassWeights(image_model.class_weights, tuple(image_model.class_names), "imagenet")
    elif focus_rows := focus_classes(labels, split.train):
        weights_ = fit_class_weights(
            features.features,
            labels,
            focus_rows,
            source=f"logistic regression on {dataset.name} training split",
        )
    else:
        weights_ = None
    weights_name = generational(CLASS_WEIGHTS_FILE, generation) if weights_ is not None else None
    index = EmbeddingIndex.build(
        features.features,
        records,
        model=model,
        n_trees=n_trees,
        backend=backend,
        split=split.to_json(),
        skipped=features.skipped,
        class_weights=weights_name,
        **{k: v for k, v in settings.items() if k != "n_trees"},
    )
    index.metadata["generation"] = generation
    if weights_ is not None:
        _save_class_weights(out / weights_name, weights_)
    index.save(out, IMAGES, maps=features.maps)  # the commit; then the old generation's files go
    old_weights = None if old is None else class_weights_file(out, old)
    if old_weights is not None and old_weights.name != weights_name:
        old_weights.unlink(missing_ok=True)
    return BuildReport(out, len(records), features.skipped, features.from_cache)


def _save_class_weights(path: Path, weights_: ClassWeights) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                weights=weights_.weights,
                classes=np.asarray(weights_.classes),
                source=np.asarray(weights_.source),
                intercept=weights_.intercepts,
            )


def joint_settings(images: EmbeddingIndex, vectors: str, vector_dim: int) -> dict[str, Any]:
    """What a joint model depends on; a saved model must match all of it to be used."""
    return {
        "image_model": images.metadata["model"],
        "feature_dim": images.dim,
        "vectors": vectors,
        "vector_dim": vector_dim,
        "dataset_hash": images.metadata.get("dataset_hash"),
    }


HEADS = ("ridge", "mlp")
DEFAULT_HEAD = "ridge"


def fit_joint_model(
    features: np.ndarray,
    records: list[dict[str, Any]],
    split: Split,
    kv,
    *,
    targets: str = DEFAULT_TARGETS,
    head: str = DEFAULT_HEAD,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    exclude_words: set[str] = frozenset(),
    settings: dict | None = None,
    verbose: int = 0,
):
    """The joint model of `features`, trained on the split's training rows (validation rows
    select it); test rows, their captions included, are never read.

    `targets`: "captions" (label and caption words) or "labels" (the talk's); `head`: "ridge"
    (closed form, the default) or "mlp" (the talk's Keras head, `epochs`, `seed`).
    """
    if targets not in TARGETS or head not in HEADS:
        raise ImageSearchError(
            f"targets must be one of {TARGETS} and head one of {HEADS}; got {targets!r}, {head!r}"
        )
    labels = [record["label"] for record in records]
    fit_rows = np.concatenate([split.train, split.val])
    y = np.full((len(records), kv.vector_size), np.nan, np.float32)  # test rows stay NaN: never read
    if targets == "labels":
        y[fit_rows] = label_targets(kv, [labels[r] for r in fit_rows])
    else:
        captions = [record.get("captions", []) for record in records]
        y[fit_rows] = caption_targets(
            kv, labels, captions, fit_rows, vocabulary_rows=split.train, exclude=exclude_words
        )
    settings = {**(settings or {}), "targets": targets, "head": head}
    if head == "ridge":
        from .ridge import train_ridge_model

        return train_ridge_model(features, y, split, settings=settings)
    from .joint import train_joint_model

    return train_joint_model(features, y, split, epochs=epochs, seed=seed, settings=settings, verbose=verbose)


def train_joint_index(
    folder: str | os.PathLike,
    *,
    vectors: str | None = None,
    targets: str = DEFAULT_TARGETS,
    head: str = DEFAULT_HEAD,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    verbose: int = 0,
):
    """Train the joint model on an index folder's cached features and index every image in
    word space. Needs no CNN: the features are the ones stored in the image index."""
    from .glove import DEFAULT_VECTORS, load_word_vectors

    folder = Path(folder)
    vectors = vectors or DEFAULT_VECTORS
    images = EmbeddingIndex.load(folder, IMAGES)
    kv = load_word_vectors(vectors)
    model = fit_joint_model(
        images.vectors,
        images.records,
        Split.from_json(images.metadata["split"]),
        kv,
        targets=targets,
        head=head,
        epochs=epochs,
        seed=seed,
        verbose=verbose,
        settings=joint_settings(images, vectors, kv.vector_size),
    )
    generation = next_generation(folder / f"{JOINT}.json")
    old = json.loads((folder / f"{JOINT}.json").read_text()) if generation else None
    model_dir = generational(JOINT_MODEL_DIR, generation)
    model.save(folder / model_dir)
    joint = EmbeddingIndex.build(
        model.embed(images.vectors),
        images.records,
        model=f"joint:{images.metadata['model']}:{vectors}",
        word_vectors=vectors,
        targets=targets,
        head=head,
        image_model=images.metadata["model"],
        dataset_hash=images.metadata.get("dataset_hash"),
        split=images.metadata["split"],
        backend=images.backend,
        model_dir=model_dir,
    )
    joint.metadata["generation"] = generation
    joint.save(folder, JOINT)  # the commit; then the old model goes
    if old is not None and joint_model_dir(folder, old).name != model_dir:
        shutil.rmtree(joint_model_dir(folder, old), ignore_errors=True)
    return model


def joint_variant(
    folder: str | os.PathLike,
    out: str | os.PathLike,
    *,
    head: str,
    targets: str,
    vectors: str | None = None,
    **train,
) -> Path:
    """A copy of index `folder` at `out` whose joint model is trained with another `head` and
    `targets` (to compare models on the same features and split). Reused when `out` already
    holds that very model on the same image index."""
    from .glove import DEFAULT_VECTORS

    folder, out, vectors = Path(folder), Path(out), vectors or DEFAULT_VECTORS
    images_json = (folder / f"{IMAGES}.json").read_text()
    if (out / f"{JOINT}.json").exists() and (out / f"{IMAGES}.json").read_text() == images_json:
        meta = EmbeddingIndex.load(out, JOINT).metadata
        wanted = {"head": head, "targets": targets, "word_vectors": vectors}
        if all(meta.get(key) == value for key, value in wanted.items()):
            return out
    ignore = shutil.ignore_patterns(f"{JOINT}.*", JOINT_MODEL_DIR)  # joint.gG too
    shutil.copytree(folder, out, ignore=ignore, dirs_exist_ok=True)
    train_joint_index(out, head=head, targets=targets, vectors=vectors, **train)
    return out
