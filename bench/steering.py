"""Steering figures on Pascal Sentences: focus, relevance feedback and image + words (issue 9).

    .venv/bin/python -m bench.steering [--index FOLDER] [--source DIR_OR_URL] [--parts focus feedback composed]

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

from bench.common import Timer, save, table


def focus(engine) -> dict:
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


def feedback(engine) -> dict:
    """The simulated user (imagesearch.experiments.steering.feedback_figures), test split."""
    from imagesearch.experiments.steering import feedback_figures

    with Timer() as t:
        figures = feedback_figures(engine)
    return {**figures, "seconds": round(t.seconds, 1)}


def composed(engine) -> dict:
    """Image + words: P@10 per words weight on validation (how it was chosen) and on test."""
    from imagesearch.composed import WORDS_WEIGHT
    from imagesearch.experiments.steering import WEIGHTS, composed_precision

    weights = sorted(set(WEIGHTS) | {WORDS_WEIGHT})
    val = composed_precision(engine, engine.split.val, weights)
    test = composed_precision(engine, engine.split.test, weights)
    name = lambda d: {str(k): v for k, v in d.items()}  # noqa: E731 (JSON keys are strings)
    return {"words_weight": WORDS_WEIGHT, "val": name(val), "test": name(test)}


PARTS = {"focus": focus, "feedback": feedback, "composed": composed}


def rows(results: dict) -> list[tuple[str, str]]:
    out = [
        (f"focus: {key}", str(value))
        for key, value in results.get("focus", {}).items()
        if not isinstance(value, (dict, list))
    ]
    if "feedback" in results:
        for who in ("images", "class_words"):
            fig = results["feedback"][who]
            for r in range(len(fig["none"])):
                out.append(
                    (
                        f"feedback {who} round {r + 1}: none -> feedback",
                        f"{fig['none'][r]:.3f} -> {fig['feedback'][r]:.3f}",
                    )
                )
    if "composed" in results:
        test, w = results["composed"]["test"], str(results["composed"]["words_weight"])
        for key in ("image_only", "image_joint", "words_only", w):
            label = key if key != w else f"composed (weight {w})"
            out.append((f"composed test P@10: {label}", f"{test.get(key)}"))
    return out


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
    print(table(rows(figures)))
    print(f"wrote {save('steering', figures)}")


if __name__ == "__main__":
    main()
