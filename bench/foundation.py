"""Foundation figures on Pascal Sentences with the offline default model (vgg16-conv).

    .venv/bin/python -m bench.foundation [--source DIR_OR_URL] [--subset 200]

Measures, in one run: a cold `index` (features computed) against a warm one (features from
the cache), feature extraction images/s, Annoy build time, query latency of Annoy and exact
search, leave-one-out precision@10 (relevant = same class), Annoy's recall@10 against exact
search, and on a class-balanced subset: bilinear vs nearest-neighbour resizing and pretrained
vs random weights. Writes bench/results/foundation.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Timer, save, table


def run_index(out: Path, home: Path, source: str | None) -> float:
    env = {**os.environ, "IMAGESEARCH_HOME": str(home)}
    command = [sys.executable, "-m", "imagesearch", "index", "pascal-sentences", "--out", str(out)]
    if source:
        command += ["--from", source]
    with Timer() as t:
        subprocess.run(command, check=True, env=env)
    return t.seconds


def balanced_subset(labels, per_class: int) -> list[int]:
    rows, seen = [], {}
    for row, label in enumerate(labels):
        if seen.get(label, 0) < per_class:
            seen[label] = seen.get(label, 0) + 1
            rows.append(row)
    return rows


def random_vgg16_conv():
    import keras

    from imagesearch.models import ImageModel, torchvision_preprocess

    keras.utils.set_random_seed(0)
    base = keras.applications.VGG16(include_top=False, weights=None, pooling="avg", input_shape=(224, 224, 3))
    return ImageModel("vgg16-conv-random", 512, "random-seed0", base, torchvision_preprocess)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=os.environ.get("IMAGESEARCH_PASCAL_SOURCE"))
    parser.add_argument(
        "--subset", type=int, default=10, help="images per class for the resize/random comparison"
    )
    args = parser.parse_args()

    from imagesearch.datasets import load_pascal_sentences
    from imagesearch.engine import SearchEngine
    from imagesearch.experiments import annoy_recall
    from imagesearch.features import extract_features
    from imagesearch.index import EmbeddingIndex
    from imagesearch.metrics import leave_one_out_precision
    from imagesearch.models import load_image_model

    work = Path(tempfile.mkdtemp(prefix="bench-foundation-"))
    home = work / "home"
    # Fetch first so the cold run times the CNN, not the download.
    os.environ["IMAGESEARCH_HOME"] = str(home)
    dataset = load_pascal_sentences(source=args.source)
    cold = run_index(work / "index1", home, args.source)
    warm = run_index(work / "index2", home, args.source)

    engine = SearchEngine(work / "index1")
    index = engine.images
    labels = [item["label"] for item in index.records]
    items = index.records
    with Timer() as t:
        rebuilt = EmbeddingIndex.build(index.vectors, items, model="vgg16-conv")
    build_s = t.seconds
    queries = list(range(len(index)))
    with Timer() as t:
        for row in queries:
            index.search(index.vectors[row], 10, exclude=[row])
    annoy_ms = t.seconds / len(queries) * 1000
    with Timer() as t:
        for row in queries:
            index.search(index.vectors[row], 10, exclude=[row], exact=True)
    exact_ms = t.seconds / len(queries) * 1000
    p10 = leave_one_out_precision(index.vectors, labels, 10)
    recall = annoy_recall(index, 10)
    del rebuilt

    # Resizing and weights, on a class-balanced subset (features not cached: fair timing).
    subset = dataset.subset(balanced_subset(dataset.labels, args.subset), name="pascal-bench-subset")
    model = load_image_model("vgg16-conv")
    sub_p10 = {}
    for resample in ("bilinear", "nearest"):
        with Timer() as t:
            feats = extract_features(subset, model, resample=resample, cache=False, progress=False)
        sub_p10[resample] = leave_one_out_precision(feats.features, subset.labels, 10)
        if resample == "bilinear":
            images_per_s = len(subset) / t.seconds
    feats = extract_features(subset, random_vgg16_conv(), cache=False, progress=False)
    sub_p10["random"] = leave_one_out_precision(feats.features, subset.labels, 10)

    figures = {
        "dataset": "pascal-sentences (1000 images, 20 classes)",
        "model": "vgg16-conv",
        "loo_precision_at_10": round(p10, 4),
        "chance_precision_at_10": round(49 / 999, 4),
        "annoy_recall_at_10": round(recall, 4),
        "annoy_trees": index.metadata["n_trees"],
        "index_cold_s": round(cold, 1),
        "index_warm_s": round(warm, 1),
        "cold_over_warm": round(cold / warm, 1),
        "feature_images_per_s": round(images_per_s, 2),
        "annoy_build_s": round(build_s, 3),
        "query_annoy_ms": round(annoy_ms, 3),
        "query_exact_ms": round(exact_ms, 3),
        "exact_over_annoy": round(exact_ms / annoy_ms, 1),
        "subset_images": len(subset),
        "subset_p10_bilinear": round(sub_p10["bilinear"], 4),
        "subset_p10_nearest": round(sub_p10["nearest"], 4),
        "subset_p10_random_weights": round(sub_p10["random"], 4),
    }
    path = save("foundation", figures)
    print(table([(k, str(v)) for k, v in figures.items()]))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
