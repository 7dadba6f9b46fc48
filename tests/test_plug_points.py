"""Plug points: a nearest-neighbour backend registered from this test alone (no package file
changed) builds, saves, opens, searches, grows and shrinks an index folder end to end."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from imagesearch import backends
from imagesearch.engine import SearchEngine
from imagesearch.folder import IndexFolder
from imagesearch.index import EmbeddingIndex
from imagesearch.layout import IMAGES
from imagesearch.ranking import top_k

OLD = Path(__file__).parent / "data" / "index-28e5861"


class ExactBackend:
    """A toy backend: brute force over a copy of the vectors, saved as .npy."""

    name = "toy-exact"
    suffix = ".toy.npy"
    updatable = True
    rerank = 0

    def __init__(self, dim):
        self.dim, self.vectors = dim, np.zeros((0, dim), np.float32)

    @classmethod
    def from_settings(cls, dim, settings):
        return cls(dim)

    def settings(self):
        return {"metric": "cosine"}

    def build(self, vectors):
        self.vectors = np.asarray(vectors, np.float32)

    def search(self, vector, k, exclude=(), search_k=-1):
        return top_k(self.vectors @ vector, k, exclude)

    def add(self, all_vectors):
        self.build(all_vectors)

    def remove(self, rows, all_vectors):
        self.build(all_vectors)

    def save(self, path):
        with open(path, "wb") as f:
            np.save(f, self.vectors)

    def load(self, path):
        self.vectors = np.load(path)


@pytest.fixture
def toy_backend(monkeypatch):
    monkeypatch.setitem(backends.REGISTRY, ExactBackend.name, (ExactBackend, {}))
    return ExactBackend.name


def test_a_backend_registered_from_a_test_serves_an_index_end_to_end(toy_backend, tmp_path):
    old = IndexFolder(OLD).images()
    folder = IndexFolder(tmp_path / "index")
    index = EmbeddingIndex.build(
        np.asarray(old.vectors), list(old.records), model="vgg16-conv", backend=toy_backend
    )
    folder.save(index, IMAGES)
    assert (folder.path / "images.toy.npy").exists() and folder.metadata()["backend"] == toy_backend

    engine = SearchEngine(folder.path)
    assert engine.images.updatable
    ann = engine.similar_images(0, 5)
    exact = engine.similar_images(0, 5, exact=True)
    assert [r.row for r in ann] == [r.row for r in exact] == [3, 7, 15, 2, 11]  # as the Annoy index

    loaded = folder.images()
    loaded.add(
        np.asarray(old.vectors[:1]) * -1,
        [{"path": "/x/new.png", "label": "new", "key": "new", "captions": []}],
    )
    folder.save(loaded, IMAGES)
    again = folder.images()
    assert len(again) == 17 and again.search(-np.asarray(old.vectors[0]), 1)[0].path == "/x/new.png"
    again.remove([16])
    folder.save(again, IMAGES)
    assert len(folder.images()) == 16
    assert sorted(p.name for p in folder.path.glob("images*.toy.npy")) == [
        "images.g2.toy.npy"
    ]  # old ones gone


def test_an_unknown_backend_is_a_clear_error(tmp_path):
    with pytest.raises(backends.BackendError, match="unknown index backend 'nope'"):
        EmbeddingIndex.build(
            np.eye(3, dtype=np.float32),
            [{"path": str(i), "label": "a"} for i in range(3)],
            model="m",
            backend="nope",
        )
    shutil.rmtree(tmp_path, ignore_errors=True)


class ToyEncoder:
    """A toy text encoder: the words "left" and "right" point along the first two axes."""

    def __init__(self, name):
        self.name, self.dim = name, 3

    def query(self, text):
        from imagesearch.text import WordQuery

        axis = {"left": 0, "right": 1}[text]
        vector = np.zeros(3, np.float32)
        vector[axis] = 1
        return WordQuery(vector, (text,), (), ())


def test_a_text_encoder_registered_from_a_test_answers_text_queries(monkeypatch, tmp_path):
    from imagesearch import encoders
    from imagesearch.layout import JOINT

    monkeypatch.setitem(encoders.TEXT_ENCODERS, "toy-words", ToyEncoder)
    folder = IndexFolder(tmp_path / "index")
    shutil.copytree(OLD, folder.path)
    images = folder.images()
    rng = np.random.default_rng(0)
    vectors = np.abs(rng.normal(size=(len(images), 3))).astype(np.float32)
    vectors[5], vectors[9] = [1, 0.01, 0], [0.01, 1, 0]  # row 5 points left, row 9 right
    joint = EmbeddingIndex.build(vectors, list(images.records), model="toy", word_vectors="toy-words")
    folder.save(joint, JOINT)
    engine = SearchEngine(folder.path)
    assert engine.text_search("left", 1).results[0].row == 5
    assert engine.text_search("right", 1).results[0].row == 9
    assert engine.text_encoder.name == "toy-words"


def test_an_image_model_with_another_map_grid_is_one_registry_entry(monkeypatch):
    """A model whose maps are 10 x 10 (say a ResNet at 320 px) declares its grid in its entry;
    the feature cache shapes its maps from it, even for a collection with no image."""
    from imagesearch import models
    from imagesearch.features import _concatenate_maps

    spec = models.ImageModelSpec(
        lambda weights: None, dim=2048, weights_id=lambda w: "toy", has_maps=True, map_grid=(10, 10)
    )
    monkeypatch.setitem(models.IMAGE_MODELS, "toy-resnet", spec)
    lazy = models.LazyImageModel("toy-resnet")
    assert lazy.map_shape == (10, 10, 2048)
    assert _concatenate_maps([], lazy.map_shape).shape == (0, 10, 10, 2048)
    assert models.LazyImageModel().map_shape == (7, 7, 512)
