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

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .backends import build_options
from .datasets import Dataset
from .features import DEFAULT_RESAMPLE, extract_features
from .focus import ClassWeights, fit_class_weights, focus_classes
from .folder import DEFAULT_WAIT, LOCK_FILE, IndexFolder, joint_settings, word_vectors_name
from .heads import DEFAULT_HEAD, HEADS, HEADS_REGISTRY, train_head  # noqa: F401  (HEADS: read from here too)
from .index import EmbeddingIndex
from .joint import DEFAULT_EPOCHS
from .layout import DEFAULT_BACKEND, IMAGES, JOINT, JOINT_MODEL_DIR, generational
from .models import DEFAULT_MODEL, LazyImageModel
from .pretrained import IMAGE_MODEL as PRETRAINED_IMAGE_MODEL
from .pretrained import shipped_class_weights, shipped_model, unlabelled
from .records import item_records
from .splits import Split, stratified_split
from .storage import ImageSearchError
from .targets import DEFAULT_TARGETS, TARGETS, caption_targets, label_targets

SPLIT_SEED = 0


@dataclass
class BuildReport:
    folder: Path
    count: int
    skipped: list[tuple[str, str]]
    features_from_cache: bool
    reused: bool = False


def build_index(
    dataset: Dataset,
    out: str | os.PathLike,
    *,
    model: str = DEFAULT_MODEL,
    weights: str | None = None,
    backend_options: dict[str, Any] | None = None,
    on_error: str = "raise",
    force: bool = False,
    progress: bool = True,
    maps: bool = True,
    backend: str = DEFAULT_BACKEND,
    wait: float = DEFAULT_WAIT,
) -> BuildReport:
    """Index `dataset` into folder `out`: image features (cached), the `backend`'s index (its
    `backend_options`: Annoy's {"n_trees": 50}), focus weights, and the convolution maps for
    focus (`maps=False` leaves them out, 50 KB an image: focus then re-weights instead).

    A folder that already holds this very index is left as it is (no CNN is built to find that
    out), or only gains its maps; one that holds another index is only replaced with
    `force=True`, so that nothing is overwritten by mistake. The folder's write lock is held
    throughout (`wait`: how long to wait for another writer).
    """
    folder = IndexFolder(out)
    image_model = LazyImageModel(model, weights)
    options = build_options(backend, backend_options)  # an option the backend lacks fails here
    record = build_record(dataset, image_model)
    settings = {**record, **options}
    wanted = (model, settings, backend, maps and image_model.has_maps)
    if folder.has(IMAGES) and not rebuilds(folder, *wanted, force=force):
        old = folder.metadata(IMAGES)
        return BuildReport(folder.path, old["count"], old.get("skipped", []), True, reused=True)
    with folder.writing(wait):
        features = extract_features(dataset, image_model, on_error=on_error, progress=progress, maps=maps)
        records = item_records(dataset, features.item_numbers)
        labels = [record["label"] for record in records]
        split = stratified_split(labels, seed=SPLIT_SEED)
        old = folder.metadata(IMAGES) if folder.has(IMAGES) else None
        generation = folder.next_generation(IMAGES)
        class_weights = class_weights_for(image_model, features.features, labels, split, dataset.name)
        weights_name = class_weights and folder.write_class_weights(class_weights, generation)
        index = EmbeddingIndex.build(
            features.features,
            records,
            model=model,
            backend=backend,
            backend_options=options,
            split=split.to_json(),
            skipped=features.skipped,
            class_weights=weights_name,
            **record,
        )
        index.metadata["generation"] = generation
        folder.save(index, IMAGES, maps=features.maps)  # the commit; then the old generation's files go
        old_weights = None if old is None else folder.class_weights_file(old)
        if old_weights is not None and old_weights.name != weights_name:
            old_weights.unlink(missing_ok=True)
        if model == PRETRAINED_IMAGE_MODEL and unlabelled(records, split.train):
            use_shipped_model(folder)
    return BuildReport(folder.path, len(records), features.skipped, features.from_cache)


def build_record(dataset: Dataset, image_model: LazyImageModel) -> dict[str, Any]:
    """What an image index records of its build; the same record means the same index."""
    return {
        "dataset": dataset.name,
        "dataset_hash": dataset.content_hash,
        "weights": image_model.weights_id,
        "resample": DEFAULT_RESAMPLE,
    }


def rebuilds(
    folder: IndexFolder, model: str, settings: dict, backend: str, want_maps: bool, *, force: bool
) -> bool:
    """Whether a folder that holds an image index is rebuilt: not when it is this very index
    (with its maps, when wanted); an index of something else only with `force` (else an error)."""
    old = folder.metadata(IMAGES)
    same = old.get("model") == model and all(old.get(k) == v for k, v in settings.items())
    same = same and old.get("backend", DEFAULT_BACKEND) == backend
    old_weights = folder.class_weights_file(old)  # None: a collection with no class focus
    if same and (old_weights is None or old_weights.exists()):
        # the same index without its maps: rebuilt with them (same features, same split)
        return want_maps and not folder.committed_maps(old).exists()
    if not force:
        update = (
            " or --update to add what is new and drop what is gone,"
            if old.get("dataset") == settings["dataset"]
            else ""
        )
        raise ImageSearchError(
            f"{folder.path} already holds an index of {old.get('dataset')!r} with model "
            f"{old.get('model')!r}; choose another --out,{update} or pass --force to replace it."
        )
    return True


def class_weights_for(
    image_model: LazyImageModel, features, labels, split: Split, dataset: str
) -> ClassWeights | None:
    """Focus weights: the ImageNet head where the model has one, else a classifier of our own (two
    classes at least); a flat or one-class folder gets the shipped Pascal classes, or no focus."""
    if image_model.class_weights is not None:
        return ClassWeights(image_model.class_weights, tuple(image_model.class_names), "imagenet")
    if not (rows := focus_classes(labels, split.train)):
        return shipped_class_weights() if image_model.name == PRETRAINED_IMAGE_MODEL else None  # Pascal's 20
    return fit_class_weights(
        features, labels, rows, source=f"logistic regression on {dataset} training split"
    )


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
    if targets not in TARGETS or head not in HEADS_REGISTRY:
        raise ImageSearchError(
            f"targets must be one of {TARGETS} and head one of {tuple(HEADS_REGISTRY)}; got {targets!r}, {head!r}"
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
    return train_head(head, features, y, split, epochs=epochs, seed=seed, settings=settings, verbose=verbose)


def train_joint_index(
    folder: str | os.PathLike,
    *,
    vectors: str | None = None,
    targets: str = DEFAULT_TARGETS,
    head: str = DEFAULT_HEAD,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    verbose: int = 0,
    wait: float = DEFAULT_WAIT,
):
    """Train the joint model on an index folder's cached features and index every image in
    word space. Needs no CNN: the features are the ones stored in the image index. Holds the
    folder's write lock (`wait`: how long to wait for another writer)."""
    from .glove import DEFAULT_VECTORS, load_word_vectors

    folder = IndexFolder(folder)
    vectors = vectors or DEFAULT_VECTORS
    with folder.writing(wait):
        images = folder.images()
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
        save_joint_index(folder, images, model, vectors=vectors, targets=targets, head=head)
    return model


def use_shipped_model(folder: IndexFolder) -> None:
    """Give a collection with no labels or captions the shipped joint model (pretrained.py):
    word search and tags at once, with no training step."""
    images = folder.images()
    model = shipped_model()
    vectors = model.settings["vectors"]
    model.settings = {**model.settings, **joint_settings(images, vectors, model.ridge.vector_dim)}
    save_joint_index(folder, images, model, vectors=vectors, targets="captions", head="pretrained")


def save_joint_index(folder: IndexFolder, images: EmbeddingIndex, model, **recorded: str) -> None:
    """Save `model` and every image in its word space as the folder's next joint generation;
    the JSON commits both, then the previous model goes."""
    old = folder.metadata(JOINT) if folder.has_joint else None
    generation = folder.next_generation(JOINT)
    model_dir = generational(JOINT_MODEL_DIR, generation)
    model.save(folder.path / model_dir)
    joint = EmbeddingIndex.build(
        model.embed(images.vectors),
        images.records,
        model=JOINT,  # what it maps and with what: "image_model" and "word_vectors", each named once
        word_vectors=recorded["vectors"],
        targets=recorded["targets"],
        head=recorded["head"],
        image_model=images.metadata["model"],
        dataset_hash=images.metadata.get("dataset_hash"),
        split=images.metadata["split"],
        backend=images.backend,
        model_dir=model_dir,
    )
    joint.metadata["generation"] = generation
    folder.save(joint, JOINT)  # the commit; then the old model goes
    if old is not None and folder.joint_model_dir(old).name != model_dir:
        shutil.rmtree(folder.joint_model_dir(old), ignore_errors=True)


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

    source, copy, vectors = IndexFolder(folder), IndexFolder(out), vectors or DEFAULT_VECTORS
    if copy.has_joint and copy.metadata(IMAGES) == source.metadata(IMAGES):
        meta = copy.metadata(JOINT)
        wanted = {"head": head, "targets": targets}
        if word_vectors_name(meta) == vectors and all(meta.get(k) == v for k, v in wanted.items()):
            return copy.path
    ignore = shutil.ignore_patterns(f"{JOINT}.*", JOINT_MODEL_DIR, LOCK_FILE)  # joint.gG too
    shutil.copytree(source.path, copy.path, ignore=ignore, dirs_exist_ok=True)
    train_joint_index(copy.path, head=head, targets=targets, vectors=vectors, **train)
    return copy.path
