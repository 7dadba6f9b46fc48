"""Two writers at once: how many photos are lost when two `add` commands race on one index.

    .venv/bin/python -m bench.races [--races 20] [--backend annoy usearch]

Each race copies a small index (tests/data/index-28e5861, converted to the backend), starts two
real `python -m imagesearch add` processes at the same moment, each adding 5 different photos,
waits for both, and counts the photos of either set that the index (images and joint) does not
hold afterwards. The folder's write lock (imagesearch/folder.py) makes the second writer wait
for the first; without it, the later commit would drop the earlier one's photos.
Writes bench/results/races.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from bench.common import Timer, save, table
from imagesearch.datasets import embedded_root
from imagesearch.folder import IndexFolder
from imagesearch.index import EmbeddingIndex
from imagesearch.layout import IMAGES, JOINT

ROOT = Path(__file__).resolve().parents[1]
SMALL_INDEX = ROOT / "tests" / "data" / "index-28e5861"
PER_WRITER = 5


def small_index(folder: Path, backend: str) -> Path:
    """A copy of the small test index, its images and joint indexes rebuilt with `backend`."""
    shutil.copytree(SMALL_INDEX, folder)
    if backend == "annoy":
        return folder
    index_folder = IndexFolder(folder)
    for name in (IMAGES, JOINT):
        old = index_folder.load(name)
        settings = {
            k: v for k, v in old.metadata.items() if k not in ("format", "dim", "count", "n_trees", "seed")
        }
        model = settings.pop("model")
        new = EmbeddingIndex.build(old.vectors, list(old.records), model=model, backend=backend, **settings)
        index_folder.save(new, name)
    return folder


def race_photos(folder: Path) -> tuple[list[Path], list[Path]]:
    """Two sets of photos nobody indexed (mirrored embedded cats and clocks), one per writer."""
    sets = []
    for label, source in (("kitten", "cat"), ("timer", "clock")):
        out = folder / label
        out.mkdir(parents=True)
        for photo in sorted((embedded_root() / source).iterdir())[:PER_WRITER]:
            ImageOps.mirror(Image.open(photo).convert("RGB")).save(out / f"{photo.stem}-mirrored.png")
        sets.append(sorted(out.iterdir()))
    return sets[0], sets[1]


def race(folder: Path, first: list[Path], second: list[Path], wait: float = 300) -> dict:
    """Start two `add` processes at once; return their exit codes, stderr, and the photos lost."""
    command = [sys.executable, "-m", "imagesearch", "add", str(folder), "--wait", str(wait)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    writers = [
        subprocess.Popen([*command, *map(str, photos)], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for photos in (first, second)
    ]
    errors = [w.communicate()[1] for w in writers]
    lost = []
    for name in (IMAGES, JOINT):
        index = IndexFolder(folder).load(name)
        lost += [f"{name}:{p.name}" for p in first + second if index.row_of_path(p) is None]
    return {"returncodes": [w.returncode for w in writers], "stderr": errors, "lost": lost}


def run(races: int, backend: str) -> dict:
    lost, failed, waited = 0, 0, 0
    with Timer() as timer:
        for _ in range(races):
            with tempfile.TemporaryDirectory() as tmp:
                folder = small_index(Path(tmp) / "index", backend)
                first, second = race_photos(Path(tmp) / "photos")
                answer = race(folder, first, second)
                lost += len(answer["lost"])
                print(
                    f"{backend} race: exit codes {answer['returncodes']}, lost {answer['lost']}", flush=True
                )
                failed += sum(code != 0 for code in answer["returncodes"])
                waited += any("waiting for another process" in e for e in answer["stderr"])
    return {
        "races": races,
        "photos_lost": lost,
        "writers_failed": failed,
        "races_where_one_waited": waited,
        "seconds": round(timer.seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=20)
    parser.add_argument("--backend", nargs="+", default=["annoy", "usearch"])
    args = parser.parse_args()
    figures = {backend: run(args.races, backend) for backend in args.backend}
    rows = [(f"{b}: {k}", str(v)) for b, f in figures.items() for k, v in f.items()]
    print(table(rows))
    print(save("races", {"per_writer": PER_WRITER, **figures}))


if __name__ == "__main__":
    main()
