"""The shipped joint model on photos it has never seen, with no labels: Pascal's 200 test photos.

    IMAGESEARCH_PASCAL_SOURCE=DIR .venv/bin/python -m bench.shipped

Copies the test split's photos into one flat folder (no class subfolders, no captions),
indexes it through the package (`build_index` of a one-label data set: the index gets the
shipped model and class weights, pretrained.py), and ranks the photos by cosine in its joint
space for the 20 class words and the 30 non-label caption words (the list `evaluate_engine`
scores). Hits are judged from the photos' true labels and captions (2+ captions use the word).
Beside it, in the same run: chance (share of hits), a constant answer (the same 10 photos for
every word), the collection's own model (ridge + captions, trained on Pascal's training split,
scored on the same test photos) and the shipped ridge map alone (blend 0).
Writes bench/results/shipped.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from bench.common import save, table


def p10(vectors, kv, words, relevant) -> dict[str, float]:
    from imagesearch.metrics import ranked_precision
    from imagesearch.text import query_vector

    return {w: ranked_precision(vectors, query_vector(kv, w).vector, relevant(w)) for w in words}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=os.environ.get("IMAGESEARCH_PASCAL_SOURCE"))
    args = parser.parse_args()

    from imagesearch.captions import caption_word_sets
    from imagesearch.datasets import Dataset, Item, load_pascal_sentences
    from imagesearch.engine import SearchEngine
    from imagesearch.experiments.captionwords import default_caption_words
    from imagesearch.indexing import build_index, train_joint_index
    from imagesearch.metrics import relevant_to_word
    from imagesearch.pretrained import shipped_model
    from imagesearch.text import fold_plural

    root = Path(tempfile.mkdtemp(prefix="bench-shipped-"))
    pascal = load_pascal_sentences(source=args.source)
    build_index(pascal, root / "pascal", maps=False, progress=False)
    own = train_joint_index(root / "pascal")  # the collection's own model (default head, targets)
    del own
    reference = SearchEngine(root / "pascal")
    records = reference.images.records
    test = reference.split.test
    labels = np.array([r["label"] for r in records])
    classes = sorted(set(labels.tolist()))
    captions = [r.get("captions", []) for r in records]
    kv = reference.word_vectors
    words = default_caption_words(captions, classes, known=set(kv.key_to_index))
    word_sets, vocabulary = caption_word_sets(captions)

    flat = root / "photos"
    flat.mkdir()
    by_path = {item.key: item for item in pascal}
    for row in test:
        source = by_path[records[row]["key"]].path
        assert not (flat / source.name).exists(), source.name
        shutil.copy2(source, flat / source.name)
    names = sorted(p.name for p in flat.iterdir())
    dataset = Dataset("my-photos", flat, tuple(Item(flat / n, "photos") for n in names))
    build_index(dataset, root / "index", maps=False, progress=False)
    engine = SearchEngine(root / "index")
    head = engine.joint_index.metadata.get("head")
    assert head == "pretrained", f"the flat index did not get the shipped model (head {head!r})"
    # The true label and captions of each flat photo, by file name (judging only).
    row_of = {Path(records[r]["key"]).name: r for r in test}
    truth = np.array([row_of[Path(r["key"]).name] for r in engine.images.records])

    def relevant_class(w):
        return labels[truth] == w

    def relevant_word(w):
        return relevant_to_word(word_sets, fold_plural(w, vocabulary))[truth]

    ridge_only = shipped_model()
    ridge_only.blend = 0.0
    own_vectors = reference.joint_index.vectors[truth]
    spaces = {
        "shipped model, flat folder": engine.joint_index.vectors,
        "shipped ridge map alone (blend 0)": ridge_only.embed(engine.images.vectors),
        "collection's own model (ridge + captions)": own_vectors,
    }
    rows = {}
    for name, vectors in spaces.items():
        c, w = p10(vectors, kv, classes, relevant_class), p10(vectors, kv, words, relevant_word)
        rows[name] = {
            "class_words_p10": round(float(np.mean(list(c.values()))), 4),
            "caption_words_p10": round(float(np.mean(list(w.values()))), 4),
            "per_word": {k: round(v, 2) for k, v in {**c, **w}.items()},
        }
    first10 = np.zeros(len(truth), bool)
    first10[:10] = True
    rows["constant answer (same 10 photos)"] = {
        "class_words_p10": round(float(np.mean([relevant_class(c)[first10].mean() for c in classes])), 4),
        "caption_words_p10": round(float(np.mean([relevant_word(w)[first10].mean() for w in words])), 4),
    }
    rows["chance (share of hits)"] = {
        "class_words_p10": round(float(np.mean([relevant_class(c).mean() for c in classes])), 4),
        "caption_words_p10": round(float(np.mean([relevant_word(w).mean() for w in words])), 4),
    }
    figures = {
        "photos": int(len(truth)),
        "image_model": engine.images.metadata["model"],
        "index_head": head,
        "class_weights": engine.class_weights.source,
        "class_words": classes,
        "caption_words": words,
        "results": rows,
    }
    path = save("shipped", figures)
    print(
        table(
            [("", "class words P@10 | caption words P@10")]
            + [(n, f"{r['class_words_p10']} | {r['caption_words_p10']}") for n, r in rows.items()]
        )
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
