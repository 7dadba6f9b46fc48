"""Start-up of a text query from the command line, against an image query by indexed path.

    .venv/bin/python -m bench.startup INDEX_DIR [--runs 7]

Times whole processes (`python -m imagesearch search INDEX_DIR --text "dog on a beach" --json`
and the same with `--image PATH` of the index's first image), after one warm-up run of each,
and reports the medians and their ratio: a text query must not cost much more than an image
query, although it needs the word vectors. Also times word search (`similar_words`, exact over
the 100k most frequent words) in this process. The index needs a joint model (`train`).
Writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import save, table

TEXT_QUERY = "dog on a beach"


def wall_times(command: list[str], runs: int) -> list[float]:
    """Seconds per run of `command`, after one untimed warm-up run."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def word_search_ms(vectors: str, queries: list[str]) -> float:
    from imagesearch.glove import load_word_vectors
    from imagesearch.words import similar_words

    kv = load_word_vectors(vectors, progress=False)
    similar_words(kv, queries[0])  # the first call computes gensim's norms once
    times = []
    for query in queries:
        started = time.perf_counter()
        similar_words(kv, query)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    joint = args.index / "joint.json"
    if not joint.is_file():
        raise SystemExit(
            f"error: {args.index} has no joint model; run python -m imagesearch train {args.index}"
        )
    from imagesearch.index import EmbeddingIndex  # the items are in images.items.arrow since format 2

    image = EmbeddingIndex.load(args.index).records[0]["path"]
    vectors = json.loads(joint.read_text())["word_vectors"]
    cli = [sys.executable, "-m", "imagesearch", "search", str(args.index), "--json"]

    text_s = statistics.median(wall_times(cli + ["--text", TEXT_QUERY], args.runs))
    image_s = statistics.median(wall_times(cli + ["--image", image], args.runs))
    words_ms = word_search_ms(vectors, ["king", "cat", "dog beach", "red car", "ocean", "kitchen table"])
    figures = {
        "index": str(args.index),
        "runs": args.runs,
        "text_query": TEXT_QUERY,
        "text_query_s": round(text_s, 3),
        "image_query_s": round(image_s, 3),
        "text_to_image_ratio": round(text_s / image_s, 2),
        "vectors": vectors,
        "word_search_ms": round(words_ms, 1),
    }
    path = save("startup", figures)
    print(
        table(
            [
                (f"text query CLI, median of {args.runs} (s)", f"{text_s:.2f}"),
                (f"image query by indexed path, median of {args.runs} (s)", f"{image_s:.2f}"),
                ("ratio text / image", f"{text_s / image_s:.2f}"),
                (f"word search, exact over 100k words ({vectors}, ms)", f"{words_ms:.1f}"),
            ]
        )
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
