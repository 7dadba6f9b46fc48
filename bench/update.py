"""What `index DIR --out IDX --update` costs for 1,000 new photos in a folder of 10,000.

    IMAGESEARCH_HOME=... IMAGESEARCH_PASCAL_SOURCE=... .venv/bin/python -m bench.update \
        [--base 10000] [--new 1000] [--embed-sample 64] [--backends usearch annoy]

Embedding 11,000 photos on a laptop CPU takes about an hour, so the two parts are measured apart:

1. The embedding: `embedding.embed_files` (what `--update` runs, with the focus maps) on
   `--embed-sample` real Pascal photos, uncached: seconds per photo, times `--new`.
2. Everything else, for real, on a real folder: 11,000 small JPEG files on disk, an index of the
   first 10,000 (512-d vectors and 7 x 7 x 512 focus maps, seeded random: the update's work does
   not depend on their values), then `--update` as the command runs it: scanning the folder,
   finding what is new, adding 1,000 rows to the vectors, the ANN index and the maps (a new
   generation of each, the JSON last). Only the CNN is replaced, by the precomputed vectors and
   maps of the new photos, so its time is not counted twice.

The figure: update seconds / embedding seconds of the new photos (goal: under 5%). Writes
bench/results/update.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import Timer, save, table

DIM, MAP_SHAPE = 512, (7, 7, 512)


def embedding_seconds_per_photo(sample: int) -> float:
    from imagesearch.datasets import load_pascal_sentences
    from imagesearch.embedding import embed_files
    from imagesearch.models import LazyImageModel

    pascal = load_pascal_sentences(progress=False)
    paths = pascal.paths[:: max(1, len(pascal) // sample)][:sample]
    model = LazyImageModel("vgg16-conv")
    embed_files(model, paths[:8], maps=True, progress=False, cache=False)  # build the CNN once
    with Timer() as timer:
        embed_files(model, paths, maps=True, progress=False, cache=False)
    return timer.seconds / len(paths)


def write_photos(folder: Path, count: int, start: int = 0) -> list[Path]:
    """Small real JPEG files, 100 to a folder (a nested collection, as a photo library is)."""
    from PIL import Image

    rng = np.random.default_rng(start)
    paths = []
    for n in range(start, start + count):
        path = folder / f"{n // 100:03d}" / f"IMG_{n:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path, quality=80)
        paths.append(path)
    return paths


def base_index(folder: Path, photos: Path, backend: str, count: int, seed: int = 0) -> None:
    """An index of the photo folder's first `count` photos, as `index` writes it (with maps)."""
    from imagesearch.features import DEFAULT_RESAMPLE, MAPS_DTYPE
    from imagesearch.index import EmbeddingIndex
    from imagesearch.models import LazyImageModel
    from imagesearch.photos import load_photos
    from imagesearch.splits import stratified_split
    from imagesearch.storage import atomic_path

    dataset, _ = load_photos(photos, "none")
    records = [
        {"path": str(item.path), "label": item.label, "key": item.key, "captions": []} for item in dataset
    ][:count]
    rng = np.random.default_rng(seed)
    index = EmbeddingIndex.build(
        rng.normal(size=(count, DIM)).astype(np.float32),
        records,
        model="vgg16-conv",
        backend=backend,
        split=stratified_split([""] * count).to_json(),
        weights=LazyImageModel("vgg16-conv").weights_id,
        resample=DEFAULT_RESAMPLE,
        dataset=photos.name,
        class_weights=None,
    )
    index.metadata["generation"] = 0

    def maps(path: Path) -> None:
        with atomic_path(path) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=MAPS_DTYPE, shape=(count, *MAP_SHAPE))
            for start in range(0, count, 1000):
                out[start : start + 1000] = rng.random((min(1000, count - start), *MAP_SHAPE))
            out.flush()
            del out

    index.save(folder, "images", maps=maps)


def measure_update(work: Path, backend: str, base: int, new: int) -> dict:
    """Seconds of `--update` adding `new` photos to an index of `base`, the CNN left out."""
    import imagesearch.updates as updates
    from imagesearch.embedding import EmbeddedFiles
    from imagesearch.features import MAPS_DTYPE
    from imagesearch.photos import load_collection

    photos, folder = work / "photos", work / f"index-{backend}"
    shutil.rmtree(folder, ignore_errors=True)
    new_files = sorted(photos.rglob("*.jpg"))[base:]
    for path in new_files:  # the new photos arrive after the index was built
        path.rename(path.with_suffix(".new"))
    base_index(folder, photos, backend, base)
    for path in new_files:
        path.with_suffix(".new").rename(path)
    rng = np.random.default_rng(1)
    precomputed = EmbeddedFiles(
        rng.normal(size=(new, DIM)).astype(np.float32), rng.random((new, *MAP_SHAPE)).astype(MAPS_DTYPE), None
    )
    asked = []

    def no_cnn(model, paths, **kwargs):  # the CNN's part is measured apart
        asked.append(len(paths))
        return precomputed

    real, updates.embed_files = updates.embed_files, no_cnn
    try:
        with Timer() as scan_timer:
            dataset, _ = load_collection(str(photos), "auto", exclude=[folder])
        with Timer() as update_timer:
            report = updates.update_from_dataset(folder, dataset)
    finally:
        updates.embed_files = real
    assert asked == [new] and len(report.added) == new, (asked, len(report.added))
    return {
        "scan_s": round(scan_timer.seconds, 2),
        "update_s": round(update_timer.seconds, 2),
        "total_s": round(scan_timer.seconds + update_timer.seconds, 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--embed-sample", type=int, default=64)
    parser.add_argument("--backends", nargs="+", default=["usearch", "annoy"])
    args = parser.parse_args(argv)

    per_photo = embedding_seconds_per_photo(args.embed_sample)
    embed_new = per_photo * args.new
    figures = {
        "base_photos": args.base,
        "new_photos": args.new,
        "embed_s_per_photo": round(per_photo, 4),
        "embed_sample": args.embed_sample,
        "embed_new_s": round(embed_new, 1),
    }
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        write_photos(work / "photos", args.base + args.new)
        figures["write_photos_s"] = round(time.perf_counter() - start, 1)
        for backend in args.backends:
            part = measure_update(work, backend, args.base, args.new)
            part["share_of_embedding"] = round(part["total_s"] / embed_new, 4)
            figures[backend] = part
    save("update", figures)
    rows = [("embedding, s a photo (vgg16-conv with maps)", f"{per_photo:.3f}")]
    rows.append((f"embedding {args.new} new photos, s", f"{embed_new:.0f}"))
    for backend in args.backends:
        part = figures[backend]
        rows.append(
            (
                f"{backend}: scan + update of {args.base:,} + {args.new:,}, s",
                f"{part['scan_s']} + {part['update_s']} = {part['share_of_embedding']:.1%} of the embedding",
            )
        )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
