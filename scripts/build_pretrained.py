"""Rebuild the shipped joint model and focus class weights (imagesearch/data/pretrained/).

    IMAGESEARCH_PASCAL_SOURCE=DIR python scripts/build_pretrained.py [--out DIR]

Pascal Sentences, vgg16-conv features (cached), GloVe 6B 50-d. The ridge map is fitted on the
training split (lambda chosen on the validation split, float64), the caption-transfer bank is
the training images; k and the blend weight are chosen on the validation split by the mean
P@10 of the class words and the non-label caption words. Test rows are never read.
Deterministic: same inputs, same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagesearch.pretrained import PRETRAINED_DIR, RECIPE_FILE, SHIPPED_FILES, _model, sha256  # noqa: E402

KS = (5, 10, 20, 40)
BLENDS = (0.0, 0.5, 1.0, 1.5, 2.0)


def word_p10(vectors, kv, words, relevant_of) -> float:
    """Mean P@10 over `words` of ranking `vectors` by cosine to each word's vector."""
    from imagesearch.metrics import ranked_precision
    from imagesearch.text import query_vector

    return float(
        np.mean([ranked_precision(vectors, query_vector(kv, w).vector, relevant_of(w)) for w in words])
    )


def rows_scorer(records, rows, kv, train_rows):
    """(class-word P@10, caption-word P@10) of joint vectors of `rows`, judged by their labels
    and captions; the caption words are chosen from the training rows' captions."""
    from imagesearch.captions import caption_word_sets
    from imagesearch.experiments.captionwords import default_caption_words
    from imagesearch.metrics import relevant_to_word
    from imagesearch.text import fold_plural

    labels = np.array([r["label"] for r in records])
    classes = sorted(set(labels.tolist()))
    captions = [r.get("captions", []) for r in records]
    words = default_caption_words(
        [captions[i] for i in train_rows], labels[train_rows].tolist(), set(kv.key_to_index)
    )
    word_sets, vocabulary = caption_word_sets(captions)

    def score(vectors):
        c = word_p10(vectors, kv, classes, lambda w: labels[rows] == w)
        w = word_p10(
            vectors, kv, words, lambda w: relevant_to_word(word_sets, fold_plural(w, vocabulary))[rows]
        )
        return c, w

    return score


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # no compression, no timestamps: the same arrays give the same bytes
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=os.environ.get("IMAGESEARCH_PASCAL_SOURCE"))
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR)
    args = parser.parse_args()

    from imagesearch.datasets import load_pascal_sentences
    from imagesearch.features import l2_normalize
    from imagesearch.focus import fit_class_weights
    from imagesearch.folder import IndexFolder
    from imagesearch.glove import DEFAULT_VECTORS, load_word_vectors
    from imagesearch.indexing import build_index, fit_joint_model, joint_settings
    from imagesearch.ridge import centred
    from imagesearch.splits import Split
    from imagesearch.targets import caption_targets

    dataset = load_pascal_sentences(source=args.source)
    folder = IndexFolder(Path(tempfile.mkdtemp(prefix="pretrained-")) / "index")
    build_index(dataset, folder.path, maps=False, progress=False)
    images = folder.images()
    x, records = np.asarray(images.vectors, np.float32), images.records
    split = Split.from_json(images.metadata["split"])
    kv = load_word_vectors(DEFAULT_VECTORS)
    settings = joint_settings(images, DEFAULT_VECTORS, kv.vector_size)
    ridge = fit_joint_model(x, records, split, kv, settings=settings)

    labels = [r["label"] for r in records]
    captions = [r.get("captions", []) for r in records]
    bank_rows = split.train
    bank = centred(x[bank_rows], ridge.mean).astype(np.float16)
    bank_targets = caption_targets(kv, labels, captions, bank_rows, vocabulary_rows=split.train)
    score = rows_scorer(records, split.val, kv, split.train)
    grid = {}
    for k in KS:
        for blend in BLENDS:
            model = _model(
                {**ridge_arrays(ridge), "bank": bank, "bank_targets": bank_targets}, {"k": k, "blend": blend}
            )
            grid[f"k={k} blend={blend}"] = [round(v, 4) for v in score(model.embed(x[split.val]))]
    best = max(grid, key=lambda key: (round(sum(grid[key]) / 2, 4), -KS.index(int(key.split()[0][2:]))))
    k, blend = int(best.split()[0][2:]), float(best.split()[1][6:])
    print("validation (class words, caption words) P@10:", json.dumps(grid, indent=1), "chosen:", best)

    weights = fit_class_weights(x, labels, split.train, source="fitted on pascal-sentences training split")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "ridge.npz": npz_bytes(**ridge_arrays(ridge)),
        "bank.npz": npz_bytes(bank=bank, bank_targets=bank_targets.astype(np.float16)),
        "class_weights.npz": npz_bytes(
            weights=weights.weights.astype(np.float32),
            intercept=weights.intercepts,
            classes=np.array(weights.classes),
            source=np.array(weights.source),
        ),
    }
    assert tuple(files) == SHIPPED_FILES
    for name, data in files.items():
        (out / name).write_bytes(data)
    full = {
        **{k2: v for k2, v in ridge.settings.items() if k2 != "split"},
        "head": "pretrained",
        "k": k,
        "blend": blend,
        "bank_images": int(len(bank_rows)),
    }
    recipe = {
        "dataset": "pascal-sentences (training split; validation split chooses lambda, k, blend)",
        "image_model": settings["image_model"],
        "word_vectors": DEFAULT_VECTORS,
        "settings": full,
        "validation_p10_class_words_caption_words": grid,
        "chosen": best,
        "classes": list(weights.classes),
        "sha256": {name: sha256(out / name) for name in SHIPPED_FILES},
    }
    (out / RECIPE_FILE).write_text(json.dumps(recipe, indent=1, sort_keys=True) + "\n")
    print(
        f"written to {out}: " + ", ".join(f"{n} {(out / n).stat().st_size // 1024} KB" for n in SHIPPED_FILES)
    )
    del l2_normalize


def ridge_arrays(ridge) -> dict[str, np.ndarray]:
    return {"weights": ridge.weights, "bias": ridge.bias, "mean": ridge.mean}


if __name__ == "__main__":
    main()
