"""The notebooks' settings (module `config`, so that `imagesearch.settings()` stays the function):

Read from environment variables, so that the same notebooks run on Pascal with the offline
assets (the default), on the talk's exact setup (VGG16 fc2 + GloVe 300d, with internet), or on
the small embedded data set in the fast tests:

    IMAGESEARCH_DATASET   pascal-sentences (default) | embedded | a folder of class subfolders
    IMAGESEARCH_MODEL     vgg16-conv (default) | vgg16
    IMAGESEARCH_VECTORS   glove-6b-50d (default) | glove-6b-300d
    IMAGESEARCH_HOME      where downloads, features and indexes are cached
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .folder import IndexFolder
from .glove import DEFAULT_VECTORS
from .models import DEFAULT_MODEL
from .storage import cache_dir

DEFAULT_DATASET = "pascal-sentences"


@dataclass(frozen=True)
class Settings:
    dataset: str = DEFAULT_DATASET
    model: str = DEFAULT_MODEL
    vectors: str = DEFAULT_VECTORS

    @property
    def index_dir(self) -> Path:
        """Where this combination's index lives in the cache."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(self.dataset).name or self.dataset)
        return cache_dir("indexes") / f"{slug}-{self.model}-{self.vectors}"

    def load_dataset(self):
        from .datasets import load_dataset

        return load_dataset(self.dataset)

    def build_engine(self, *, train: bool = True, progress: bool = True):
        """A SearchEngine over this data set: indexed (and the joint model trained) on first use,
        from the cache afterwards."""
        from .engine import SearchEngine
        from .indexing import build_index, train_joint_index

        folder = self.index_dir
        build_index(self.load_dataset(), folder, model=self.model, progress=progress)
        if train and not IndexFolder(folder).has_joint:
            train_joint_index(folder, vectors=self.vectors)
        return SearchEngine(folder)

    engine = build_engine  # the notebooks' name for it

    def describe(self) -> str:
        return f"data set {self.dataset!r}, image model {self.model!r}, word vectors {self.vectors!r}"


def settings() -> Settings:
    """The notebooks' settings, from IMAGESEARCH_DATASET / _MODEL / _VECTORS."""
    return Settings(
        os.environ.get("IMAGESEARCH_DATASET", DEFAULT_DATASET),
        os.environ.get("IMAGESEARCH_MODEL", DEFAULT_MODEL),
        os.environ.get("IMAGESEARCH_VECTORS", DEFAULT_VECTORS),
    )
