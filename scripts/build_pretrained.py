"""Rebuild the shipped joint model and focus class weights (imagesearch/data/pretrained/).

    IMAGESEARCH_PASCAL_SOURCE=DIR python scripts/build_pretrained.py [--out DIR]

Pascal Sentences, vgg16-conv features (cached), GloVe 6B 50-d. The ridge map is fitted on the
training split (lambda chosen on the validation split, float64), the caption-transfer bank is
the training images; k, the blend weight and the bank targets' label share are chosen on the validation split: the most non-label
caption-word P@10 among settings whose class-word P@10 stays within 0.01 of the ridge map's. Test rows are never read.
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

KS = (5, 10, 20)
BLENDS = (0.5, 1.0, 2.0, 4.0)
#: Share of the label in the bank's targets (targets.LABEL_WEIGHT is the ridge map's): less label
#: lets the neighbours' caption words through.
LABEL_WEIGHTS = (0.7, 0.3, 0.0)
CLASS_SLACK = 0.01  # how much validation class-word P@10 the transfer may cost


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
    score = rows_scorer(records, split.val, kv, split.train)
    base = [round(v, 4) for v in score(ridge.embed(x[split.val]))]
    grid, banks = {}, {}
    for lw in LABEL_WEIGHTS:
        banks[lw] = caption_targets(
            kv, labels, captions, bank_rows, vocabulary_rows=split.train, label_weight=lw
        )
        for k in KS:
            for blend in BLENDS:
                arrays = {**ridge_arrays(ridge), "bank": bank, "bank_targets": banks[lw]}
                model = _model(arrays, {"k": k, "blend": blend})
                grid[(lw, k, blend)] = [round(v, 4) for v in score(model.embed(x[split.val]))]
    # Keep the class words (within CLASS_SLACK of the ridge map alone), then the most caption words.
    kept = [key for key, (c, _) in grid.items() if c >= base[0] - CLASS_SLACK]
    lw, k, blend = max(kept, key=lambda key: (grid[key][1], grid[key][0], -key[2], -key[1]))
    bank_targets = banks[lw]
    print(
        f"validation P@10 (class words, caption words): ridge alone {base}; chosen",
        (lw, k, blend),
        grid[(lw, k, blend)],
    )
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
        "bank_label_weight": lw,
        "bank_images": int(len(bank_rows)),
    }
    recipe = {
        "dataset": "pascal-sentences (training split; validation split chooses lambda, k, blend)",
        "image_model": settings["image_model"],
        "word_vectors": DEFAULT_VECTORS,
        "settings": full,
        "validation_p10_ridge_alone": base,
        "validation_p10_class_words_caption_words": {
            f"label_weight={a} k={b} blend={c}": v for (a, b, c), v in grid.items()
        },
        "chosen": f"label_weight={lw} k={k} blend={blend}",
        "classes": list(weights.classes),
        "sha256": {name: sha256(out / name) for name in SHIPPED_FILES},
    }
    (out / RECIPE_FILE).write_text(json.dumps(recipe, indent=1, sort_keys=True) + "\n")
    print(
        f"written to {out}: " + ", ".join(f"{n} {(out / n).stat().st_size // 1024} KB" for n in SHIPPED_FILES)
    )


def ridge_arrays(ridge) -> dict[str, np.ndarray]:
    return {"weights": ridge.weights, "bias": ridge.bias, "mean": ridge.mean}


if __name__ == "__main__":
    main()
