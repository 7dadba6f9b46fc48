"""Where each file of an index folder lives, generation by generation.

An index's JSON names its generation G; the files of that generation are `NAME.gG.*` (plain
`NAME.*` for generation 0). Class weights and the joint model are named in the JSON instead
("class_weights", "model_dir"), since updates keep them while the index moves on. Nothing is
overwritten under a name the JSON points at: a new generation is written beside the old one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

IMAGES = "images"
JOINT = "joint"  # the joint-space index: NAME.ann/.npy/.json beside the image index
JOINT_MODEL_DIR = "joint"  # the trained head: joint/joint.keras + joint/joint.json (generation 0)
CLASS_WEIGHTS_FILE = "class_weights.npz"  # generation 0; later ones class_weights.gG.npz
MAPS_FILE = f"{IMAGES}.maps.npy"  # n x 7 x 7 x 512 float16, rows as images.npy (generation 0)
ANN_SUFFIXES = {"annoy": ".ann", "usearch": ".usearch"}


class GenerationFiles(NamedTuple):
    """The files of one index generation; the JSON names the generation, and is written last."""

    ann: Path
    vectors: Path
    items: Path  # the records, by column (records.py)
    maps: Path  # the focus maps, in image indexes of models that have them

    def written(self, maps: bool) -> set[Path]:
        return {self.ann, self.vectors, self.items} | ({self.maps} if maps else set())


def index_file(folder: os.PathLike, name: str, backend: str, generation: int) -> GenerationFiles:
    """The files of an index generation; generation 0 keeps the plain names."""
    stem = Path(folder) / (name if generation == 0 else f"{name}.g{generation}")
    suffix = ANN_SUFFIXES.get(backend, ".usearch")
    return GenerationFiles(*(Path(f"{stem}{end}") for end in (suffix, ".npy", ".items.arrow", ".maps.npy")))


def next_generation(meta_file: Path) -> int:
    """0 in a new folder; one past the generation a folder's index JSON names."""
    return int(json.loads(meta_file.read_text()).get("generation", 0)) + 1 if meta_file.exists() else 0


def generational(name: str, generation: int) -> str:
    stem, dot, suffix = name.partition(".")
    return name if generation == 0 else f"{stem}.g{generation}{dot}{suffix}"


def class_weights_file(folder: str | os.PathLike, metadata: dict[str, Any]) -> Path | None:
    """The class weights an image index's JSON names (older indexes: class_weights.npz); None
    for a collection with fewer than two classes, which has no class focus."""
    name = metadata.get("class_weights", CLASS_WEIGHTS_FILE)
    return None if name is None else Path(folder) / name


def maps_file(folder: str | os.PathLike, images) -> Path:
    """The focus maps of an image index's generation (absent when it keeps none)."""
    return images.files(folder, IMAGES).maps


def joint_model_dir(folder: str | os.PathLike, metadata: dict[str, Any]) -> Path:
    """The joint model a joint index's JSON names (older indexes: joint/)."""
    return Path(folder) / metadata.get("model_dir", JOINT_MODEL_DIR)
