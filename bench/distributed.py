"""Distributed feature extraction, measured: `python -m bench.distributed [--pascal N] [--clipart N]`.

1. Dask against Ray Data, 1 and 2 workers each, with the real CNN (vgg16-conv) on the first
   N Pascal Sentences photos: cluster start time, extraction time, photos/s (the choice).
2. Dask on a real collection bigger than Pascal: Debian's openclipart-png (8,121 PNGs under
   /usr/share/openclipart/png; `apt-get install openclipart-png`), the first N files in sorted
   path order, labelled by their top folder; 1 and 2 workers, then indexed and searched.
3. The openclipart index grown with `add` (`--grow N [--grow-add M]`): N + M files spread over
   the collection (every k-th), the first N indexed with `--backend usearch`, then the other M
   (default N/4) added; the add's time and
   photos/s (CNN included) against a rebuild from scratch over all N + M, and a search after
   the add that must find an added image by its own vector at rank 1.
Writes bench/results/distributed.json, keeping the figures of the parts skipped this time.
Caches go to a temporary folder (nothing is reused).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from bench.common import RESULTS, Timer, save, table
from imagesearch.datasets import Dataset, Item, load_dataset
from imagesearch.distributed import extract_features_distributed

CLIPART = Path("/usr/share/openclipart/png")


def clipart_dataset(n: int, spread: bool = False) -> Dataset:
    """The first n files in sorted path order, or (`spread`) every k-th one, k = files // n, so
    that a small sample spans the top folders (the first 60 files are all `animals`)."""
    paths = sorted(CLIPART.rglob("*.png"))
    if spread:  # the sample leaves out the few files over the engine's pixel limit
        from PIL import Image

        from imagesearch.images import MAX_PIXELS

        spaced = paths[:: max(1, len(paths) // n)]
        paths = [p for p in spaced if np.prod(Image.open(p).size) <= MAX_PIXELS][:n]
    else:
        paths = paths[:n]
    items = tuple(Item(p, p.relative_to(CLIPART).parts[0]) for p in paths)
    return Dataset(f"openclipart-{'spread' if spread else 'first'}{len(items)}", CLIPART, items)


def grow(n: int, m: int, tmp: Path) -> dict:
    """Index the first n clipart files (usearch), add the next m, and rebuild all n + m."""
    from imagesearch.index import EmbeddingIndex
    from imagesearch.indexing import build_index, item_records
    from imagesearch.updates import add_images

    everything = clipart_dataset(n + m, spread=True)
    first = everything.subset(range(n))
    with Timer() as built:
        build_index(first, tmp / "grown", backend="usearch", progress=False)
    records = item_records(everything, range(n, n + m))
    known = {str(Path(r["path"]).resolve()): r for r in records}
    with Timer() as added:
        report = add_images(tmp / "grown", [r["path"] for r in records], known)
    index = EmbeddingIndex.load(tmp / "grown")
    found = []
    for record in records:
        row = index.row_of_path(record["path"])
        found.append(row is not None and index.search(index.vectors[row], 1)[0].path == record["path"])
    with Timer() as rebuilt:  # a fresh cache: the rebuild embeds all n + m files again
        os.environ["IMAGESEARCH_HOME"] = str(tmp / "rebuild-home")
        build_index(everything, tmp / "rebuilt", backend="usearch", progress=False)
    figures = {
        "subset": (
            f"1 file in {len(sorted(CLIPART.rglob('*.png'))) // (n + m)} in sorted path order: the first {n} "
            f"indexed with --backend usearch, then the next {len(report.added)} added"
        ),
        "note": "index_s includes loading the CNN (first use in the process); add_s and rebuild_s do not",
        "index_s": round(built.seconds, 2),
        "add_s": round(added.seconds, 2),
        "add_photos_per_s": round(len(report.added) / added.seconds, 2),
        "add_index_only_s": round(report.seconds, 3),
        "rebuild_s": round(rebuilt.seconds, 2),
        "count_after_add": len(index),
        "added_found_at_rank_1": f"{sum(found)}/{len(found)}",
    }
    print(figures, flush=True)
    return figures


def measure(dataset: Dataset, engine: str, workers: int, cache: Path | bool) -> dict:
    run = extract_features_distributed(dataset, engine=engine, workers=workers, cache=cache)
    figures = {
        "engine": engine,
        "workers": workers,
        "photos": len(run.features.item_numbers),
        "cluster_start_s": round(run.start_s, 2),
        "extract_s": round(run.run_s, 2),
        "photos_per_s": round(run.photos_per_s, 2),
    }
    print(figures, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pascal", type=int, default=200, help="Pascal photos for the engine choice (0: skip)"
    )
    parser.add_argument("--clipart", type=int, default=2000, help="openclipart files (0: skip)")
    parser.add_argument("--grow", type=int, default=400, help="clipart files indexed, then grown (0: skip)")
    parser.add_argument("--grow-add", type=int, help="files then added (default: a quarter of --grow)")
    args = parser.parse_args()
    figures: dict = {"model": "vgg16-conv", "engines": [], "clipart": {}, "grown": {}}
    previous = RESULTS / "distributed.json"
    if previous.exists():  # a part skipped this time keeps its last figures
        figures.update({k: v for k, v in json.loads(previous.read_text()).items() if k in figures})
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        tmp = Path(tmp)
        if args.pascal:
            figures["engines"] = []
            pascal = load_dataset("pascal-sentences")
            subset = pascal.subset(range(args.pascal))
            for engine in ("dask", "ray"):
                for workers in (1, 2):
                    figures["engines"].append(measure(subset, engine, workers, tmp / f"{engine}-{workers}"))
        if args.clipart and CLIPART.is_dir():
            os.environ["IMAGESEARCH_HOME"] = str(tmp / "home")
            from imagesearch.engine import SearchEngine
            from imagesearch.indexing import build_index

            clipart = clipart_dataset(args.clipart)
            runs = [measure(clipart, "dask", 1, tmp / "clipart-1")]
            runs.append(measure(clipart, "dask", 2, True))  # the default cache: build_index reuses it
            with Timer() as built:
                report = build_index(clipart, tmp / "index", progress=False)
            engine = SearchEngine(tmp / "index")
            with Timer() as searched:
                for row in range(0, len(engine.images), max(1, len(engine.images) // 100)):
                    engine.similar_images(row, 10)
            queries = len(range(0, len(engine.images), max(1, len(engine.images) // 100)))
            figures["clipart"] = {
                "collection": "openclipart-png 1:0.18+dfsg-19, 8,121 PNGs",
                "subset": f"first {len(clipart)} files in sorted path order",
                "runs": runs,
                "index_s": round(built.seconds, 2),
                "features_from_cache": report.features_from_cache,
                "search_ms": round(1000 * searched.seconds / queries, 2),
            }
        if args.grow and CLIPART.is_dir():
            os.environ["IMAGESEARCH_HOME"] = str(tmp / "grow-home")
            figures["grown"] = grow(args.grow, args.grow_add or max(1, args.grow // 4), tmp)
    figures["clipart"].pop("add", None)  # an older run's note: "grown" measures the add now
    save("distributed", figures)
    rows = [
        (
            f"{r['engine']} x{r['workers']} ({r['photos']} photos)",
            f"start {r['cluster_start_s']} s, {r['photos_per_s']} photos/s",
        )
        for r in figures["engines"] + figures["clipart"].get("runs", [])
    ]
    print(table(rows))


if __name__ == "__main__":
    main()
