"""The language protocol: words -> images and image -> tags, measured on the test split.

`evaluate_engine` is the joint model's report card (the CLI's `evaluate`, bench/language.py,
notebook 06); the zero-shot part retrains the joint model without a seeded draw of classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..captions import caption_word_sets
from ..indexing import label_targets
from ..joint import DEFAULT_EPOCHS, train_joint_model
from ..metrics import MIN_CAPTIONS, leave_one_out_precision, ranked_precision, relevant_to_word
from ..splits import Split
from ..text import STOP_WORDS, UnknownWordError, caption_tokens, fold_plural, query_vector, word_forms

HELDOUT_CLASSES = 5
CAPTION_WORDS = 30  # how many non-label caption words the default list holds


def default_caption_words(
    captions: Sequence[Sequence[str]],
    labels: Sequence[str],
    known: set | None = None,
    count: int = CAPTION_WORDS,
) -> list[str]:
    """The `count` content words that are relevant to the most images, chosen by frequency alone
    (never by how well they score): no stop words, no word of any class label, 3+ letters,
    and known to the word vectors when `known` is given."""
    word_sets, vocabulary = caption_word_sets(captions)
    label_words = {fold_plural(w, vocabulary) for label in labels for w in caption_tokens(label)}
    counts: dict[str, int] = {}
    for caps in word_sets:
        seen: dict[str, int] = {}
        for s in caps:
            for w in s:
                seen[w] = seen.get(w, 0) + 1
        for w, n in seen.items():
            if n >= MIN_CAPTIONS:
                counts[w] = counts.get(w, 0) + 1
    candidates = [
        w
        for w in counts
        if len(w) >= 3 and w not in STOP_WORDS and w not in label_words and (known is None or w in known)
    ]
    return sorted(candidates, key=lambda w: (-counts[w], w))[:count]


def heldout_classes(classes: Sequence[str], count: int = HELDOUT_CLASSES, seed: int = 0) -> list[str]:
    """Classes to hold out entirely from training: a seeded draw, not a choice by score."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(sorted(classes), size=min(count, len(classes)), replace=False).tolist())


def evaluate_engine(
    engine,
    *,
    words: Sequence[str] | None = None,
    heldout: int = HELDOUT_CLASSES,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
) -> dict:
    """Every metric on the test split of the engine's index (never used in training).

    - image_to_image_p10: test images query all others (image features, same class = relevant);
    - class_words_p10: each class word queries the test images in the joint space;
    - heldout_classes_p10: a model retrained without `heldout` classes, queried with their words,
      ranking the test images of those unseen classes (the zero-shot protocol; chance 1/heldout);
      heldout_classes_p10_all_test ranks all test images instead (chance 1/classes);
    - caption_words_p10 / _chance: non-label caption words (see default_caption_words); an image
      is relevant when 2+ of its captions say the word; chance = the word's prevalence;
    - tags_class_top5 / tags_caption_top5: share of test images whose top-5 tags hold a word of
      the label / a word of one of its captions.
    """

    items = engine.images.records
    labels = np.array([item["label"] for item in items])
    classes = sorted(set(labels.tolist()))
    split = engine.split
    test = split.test
    kv = engine.word_vectors
    joint_test = engine.joint_index.vectors[test]

    image_p10 = leave_one_out_precision(engine.images.vectors, labels, 10, queries=test)
    class_p10 = {
        c: ranked_precision(joint_test, query_vector(kv, c).vector, labels[test] == c) for c in classes
    }

    held = heldout_classes(classes, heldout, seed)
    keep = lambda rows: rows[~np.isin(labels[rows], held)]  # noqa: E731
    partial = train_joint_model(
        engine.images.vectors,
        label_targets(kv, labels.tolist()),
        Split(keep(split.train), keep(split.val), test),
        epochs=epochs,
        seed=seed,
    )
    held_vectors = partial.embed(engine.images.vectors[test])
    unseen = np.isin(labels[test], held)
    held_p10, held_p10_all = {}, {}
    for c in held:
        vector = query_vector(kv, c).vector
        # zero-shot protocol: rank the test images of the unseen classes only (chance 1/heldout)
        held_p10[c] = ranked_precision(held_vectors[unseen], vector, labels[test][unseen] == c)
        held_p10_all[c] = ranked_precision(held_vectors, vector, labels[test] == c)

    captions = [item.get("captions", []) for item in items]
    word_sets, vocabulary = caption_word_sets(captions)
    chosen = (
        list(words)
        if words is not None
        else default_caption_words(captions, classes, known=set(kv.key_to_index))
    )
    per_word = []
    for word in chosen:
        folded = fold_plural(word.lower().strip(), vocabulary)
        relevant = relevant_to_word(word_sets, folded)[test]
        record = {
            "word": word,
            "relevant": int(relevant.sum()),
            "p10": None,
            "chance": round(float(relevant.mean()), 4),
        }
        try:
            vector = query_vector(kv, word).vector
        except UnknownWordError:
            record["unknown"] = True
            per_word.append(record)
            continue
        if relevant.any():
            record["p10"] = round(ranked_precision(joint_test, vector, relevant), 4)
        per_word.append(record)
    scored = [w for w in per_word if w["p10"] is not None]

    tag_lists = [[t.word for t in engine.tags(int(row), 5)] for row in test]
    label_words = [set(caption_tokens(label)) for label in labels[test]]
    caption_words = [set().union(*caps) if caps else set() for caps in (word_sets[r] for r in test)]
    class_hits = [bool(word_forms(tags, lw) & lw) for tags, lw in zip(tag_lists, label_words)]
    caption_hits = [
        any(fold_plural(t, vocabulary) in cw for t in tags) for tags, cw in zip(tag_lists, caption_words)
    ]

    mean = lambda values: round(float(np.mean(values)), 4) if len(values) else None  # noqa: E731
    return {
        "test_images": int(len(test)),
        "image_to_image_p10": round(image_p10, 4),
        "class_words_p10": mean(list(class_p10.values())),
        "heldout_classes": held,
        "heldout_classes_p10": mean(list(held_p10.values())),
        "heldout_classes_p10_all_test": mean(list(held_p10_all.values())),
        "caption_words_p10": mean([w["p10"] for w in scored]),
        "caption_words_chance": mean([w["chance"] for w in scored]),
        "tags_class_top5": mean(class_hits),
        "tags_caption_top5": mean(caption_hits) if any(caption_words) else None,
        "per_class_p10": {c: round(p, 4) for c, p in class_p10.items()},
        "heldout_per_class_p10": {c: round(p, 4) for c, p in held_p10.items()},
        "words_source": "given"
        if words is not None
        else f"the {CAPTION_WORDS} most frequent non-label caption words (by images relevant)",
        "words": per_word,
    }


def split_examples(engine, count: int = 6, part: str = "test") -> list[int]:
    """Rows of `count` images of one split part, the first of classes spread evenly over the
    sorted class list: examples the models were not trained on (test), the same on every run."""
    rows = sorted(int(r) for r in getattr(engine.split, part))
    labels = [engine.images.records[r]["label"] for r in rows]
    classes = sorted(set(labels))
    step = max(1, len(classes) // max(count, 1))
    return [rows[labels.index(label)] for label in classes[::step][:count]]
