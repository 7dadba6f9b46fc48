"""Steering figures on Pascal Sentences: how far a user can steer a search (issue 9).

    .venv/bin/python -m bench.steering [--index FOLDER] [--source DIR_OR_URL]

`--index` measures an index folder as it is (it needs maps for focus by class map, and a joint
model for the word-space parts); without it, Pascal is indexed with the offline defaults into a
temporary folder (features and maps from the cache when they are there) and the default joint
model trained. One function per part, each returning its figures; writes
bench/results/steering.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.common import save, table


def focus_part(engine) -> dict:
    """`focus_protocol` on the test split's two-object photos, and what a focused query costs."""
    from imagesearch.experiments import focus_protocol

    figures = focus_protocol(engine)
    label = engine.images.records[int(engine.split.test[0])]["label"]
    engine.similar_images(int(engine.split.test[0]), 10, focus=label)  # open the maps once
    start = time.perf_counter()
    rows = [int(r) for r in engine.split.test[:50]]
    for row in rows:
        engine.similar_images(row, 10, focus=engine.images.records[row]["label"])
    figures["focus_query_ms"] = round(1000 * (time.perf_counter() - start) / len(rows), 2)
    return figures


PARTS = {"focus": focus_part}


def index_folder(source: str | None) -> Path:
    from imagesearch.datasets import load_pascal_sentences
    from imagesearch.indexing import build_index, train_joint_index

    folder = Path(tempfile.mkdtemp(prefix="bench-steering-")) / "pascal"
    build_index(load_pascal_sentences(source=source), folder)
    train_joint_index(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", help="an index folder to measure as it is")
    parser.add_argument("--source", default=os.environ.get("IMAGESEARCH_PASCAL_SOURCE"))
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=list(PARTS))
    args = parser.parse_args()

    from imagesearch.engine import SearchEngine

    engine = SearchEngine(Path(args.index) if args.index else index_folder(args.source))
    figures = {"index": engine.images.metadata.get("dataset"), "model": engine.model_name}
    for name in args.parts:
        figures[name] = PARTS[name](engine)
    rows = [
        (f"{part}: {key}", str(value))
        for part in args.parts
        for key, value in figures[part].items()
        if not isinstance(value, (dict, list))
    ]
    print(table(rows))
    print(f"wrote {save('steering', figures)}")


if __name__ == "__main__":
    main()
