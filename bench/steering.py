"""Steering figures on Pascal Sentences: relevance feedback and image + words queries.

    .venv/bin/python -m bench.steering INDEX_COPY [--parts feedback,composed]

Run it on a copy of a Pascal index with the default joint model trained into it
(`python -m imagesearch train COPY`). Each part is one function returning its figures; the
results are merged into bench/results/steering.json (parts not run keep their last figures).
"""

from __future__ import annotations

import argparse
import json

from bench.common import RESULTS, Timer, save, table


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


PARTS = {"feedback": feedback, "composed": composed}


def rows(results: dict) -> list[tuple[str, str]]:
    out = []
    if "feedback" in results:
        for who, fig in ((k, results["feedback"][k]) for k in ("images", "class_words")):
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
            out.append(
                (
                    f"composed test P@10: {key if key != w else 'composed (weight ' + w + ')'}",
                    f"{test.get(key)}",
                )
            )
    return out


def main(argv=None) -> int:
    from imagesearch.engine import SearchEngine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", help="a Pascal index folder with a trained joint model (a copy)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    engine = SearchEngine(args.index)
    path = RESULTS / "steering.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results.pop("measured", None), results.pop("machine", None)
    for part in args.parts.split(","):
        results[part] = PARTS[part.strip()](engine)
    save("steering", results)
    print(table(rows(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
