"""Language figures on Pascal Sentences: the evaluation table and the training-time ratio.

    .venv/bin/python -m bench.language [--source DIR_OR_URL] [--cnn-subset 64]

Indexes Pascal with the offline defaults (vgg16-conv + GloVe 6B 50d; features from the cache
when they are there), trains the joint model on the cached features (timed), runs
`evaluate_engine` on the test split, and times one epoch of the talk's way of training: the
same head on top of the VGG16 convolution base, every image going through the CNN, on a
subset, scaled to the training split. Writes bench/results/language.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.common import Timer, save, table


def cnn_epoch_seconds(dataset, rows, targets, batch_size: int = 32) -> float:
    """One epoch through VGG16 + head, the talk's way (CNN frozen, images decoded each time)."""
    from imagesearch.features import read_batch
    from imagesearch.joint import build_joint_head
    from imagesearch.keras_loader import keras
    from imagesearch.models import load_image_model

    keras = keras()
    model = load_image_model("vgg16-conv")
    base = model.keras_model
    base.trainable = False
    head = build_joint_head(512, targets.shape[1])
    inputs = keras.Input((224, 224, 3))
    full = keras.Model(inputs, head(base(inputs)))
    full.compile(optimizer="adam", loss=keras.losses.CosineSimilarity())
    paths = [dataset[i].path for i in rows]
    with Timer() as t:
        for start in range(0, len(paths), batch_size):
            _, batch, _ = read_batch(paths[start : start + batch_size], (224, 224), "bilinear", "raise")
            full.train_on_batch(
                model.preprocess(batch.astype(np.float32)), targets[start : start + batch_size]
            )
    return t.seconds


#: The joint models compared, on the same split: the talk's, the talk's targets with the ridge
#: fit, and the default (label and caption words, ridge).
CONFIGS = {
    "talk: mlp + labels": {"head": "mlp", "targets": "labels"},
    "ridge + labels": {"head": "ridge", "targets": "labels"},
    "ridge + captions (default)": {"head": "ridge", "targets": "captions"},
}


def train_command_seconds(folder: Path, runs: int = 3) -> float:
    """Median wall time of the whole `python -m imagesearch train DIR` (default model)."""
    times = []
    for _ in range(runs):
        with Timer() as t:
            subprocess.run(
                [sys.executable, "-m", "imagesearch", "train", str(folder)], check=True, capture_output=True
            )
        times.append(t.seconds)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=os.environ.get("IMAGESEARCH_PASCAL_SOURCE"))
    parser.add_argument("--cnn-subset", type=int, default=64)
    args = parser.parse_args()

    from imagesearch.datasets import load_pascal_sentences
    from imagesearch.engine import SearchEngine
    from imagesearch.experiments import evaluate_engine
    from imagesearch.indexing import build_index, train_joint_index
    from imagesearch.report import LANGUAGE_METRICS
    from imagesearch.targets import label_targets

    dataset = load_pascal_sentences(source=args.source)
    root = Path(tempfile.mkdtemp(prefix="bench-language-"))
    build_index(dataset, root / "images")
    models, reports, fit_s = {}, {}, {}
    for name, config in CONFIGS.items():
        folder = root / config["head"] / config["targets"]
        shutil.copytree(root / "images", folder)
        models[name] = train_joint_index(folder, **config)
        fit_s[name] = models[name].train_time_s
        reports[name] = evaluate_engine(SearchEngine(folder))
    default = root / "ridge" / "captions"
    train_s = train_command_seconds(default)

    engine = SearchEngine(default)
    split = engine.split
    rows = split.train[: args.cnn_subset]
    targets = label_targets(engine.word_vectors, [engine.images.records[i]["label"] for i in rows])
    subset_s = cnn_epoch_seconds(dataset, rows, targets)
    epoch_cnn_s = subset_s * len(split.train) / len(rows)
    talk = models["talk: mlp + labels"]
    epochs = len(talk.history["loss"])

    figures = {
        "dataset": "pascal-sentences",
        "image_model": "vgg16-conv",
        "vectors": "glove-6b-50d",
        "test_images": reports[name]["test_images"],
        "heldout_classes": reports[name]["heldout_classes"],
        "constant_tags": reports[name]["constant_tags"],
        "models": {name: {k: report[k] for k in LANGUAGE_METRICS} for name, report in reports.items()},
        "fit_s": {name: round(s, 2) for name, s in fit_s.items()},
        "train_command_s": round(train_s, 2),
        "mlp_epochs_run": epochs,
        "train_images": int(len(split.train)),
        "cnn_epoch_subset_images": int(len(rows)),
        "cnn_epoch_subset_s": round(subset_s, 1),
        "cnn_epoch_estimated_s": round(epoch_cnn_s, 1),
        "cnn_epoch_over_cached_epoch": round(epoch_cnn_s / (fit_s["talk: mlp + labels"] / epochs), 1),
        "words": {name: report["words"] for name, report in reports.items()},
    }
    path = save("language", figures)
    names = list(CONFIGS)
    print(
        table(
            [("metric", " | ".join(names))]
            + [(k, " | ".join(str(figures["models"][n][k]) for n in names)) for k in LANGUAGE_METRICS]
        )
    )
    print(table([(k, str(v)) for k, v in figures.items() if k not in ("words", "models")]))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
