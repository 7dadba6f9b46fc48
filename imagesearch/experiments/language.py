"""The language protocol: words -> images and image -> tags, measured on the test split.

`evaluate_engine` is the joint model's report card (the CLI's `evaluate`, bench/language.py,
notebook 06); the zero-shot part retrains the joint model without a seeded draw of classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..captions import caption_word_sets
from ..engine import DEFAULT_TAGS
from ..indexing import fit_joint_model
from ..joint import DEFAULT_EPOCHS
from ..metrics import (
    class_prior_scores,
    expected_precision,
    leave_one_out_precision,
    most_used_words,
    ranked_precision,
    relevant_to_word,
)
from ..splits import Split
from ..text import (
    NoContentWordError,
    UnknownWordError,
    class_words,
    fold_plural,
    naming_words,
    word_forms,
)
from .captionwords import CAPTION_WORDS, default_caption_words
from .focus import focus_protocol
from .steering import steering_figures

HELDOUT_CLASSES = 5


def heldout_classes(classes: Sequence[str], count: int = HELDOUT_CLASSES, seed: int = 0) -> list[str]:
    """Classes to hold out entirely from training: a seeded draw, not a choice by score."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(sorted(classes), size=min(count, len(classes)), replace=False).tolist())


def zero_shot(engine, held: Sequence[str], *, epochs: int = DEFAULT_EPOCHS, seed: int = 0) -> dict:
    """P@10 of the held-out classes' words, with a model refitted (same head, same targets) as if
    they did not exist: their images and captions are left out of training, and their names
    (label words and synonyms) out of every other image's targets."""
    records = engine.images.records
    labels = np.array([record["label"] for record in records])
    split, test = engine.split, engine.split.test
    keep = lambda rows: rows[~np.isin(labels[rows], held)]  # noqa: E731
    meta = engine.joint_index.metadata
    partial = fit_joint_model(
        engine.images.vectors,
        records,
        Split(keep(split.train), keep(split.val), test),
        engine.word_vectors,
        targets=meta.get("targets", "labels"),
        head=meta.get("head", "mlp"),
        epochs=epochs,
        seed=seed,
        exclude_words=naming_words(held),
    )
    held_vectors = partial.embed(engine.images.vectors[test])
    unseen = np.isin(labels[test], held)
    among_unseen, among_all = {}, {}
    for c in held:
        vector = engine.text_encoder.query(c).vector
        # zero-shot protocol: rank the test images of the unseen classes only (chance 1/heldout)
        among_unseen[c] = ranked_precision(held_vectors[unseen], vector, labels[test][unseen] == c)
        among_all[c] = ranked_precision(held_vectors, vector, labels[test] == c)
    return {"among_unseen": among_unseen, "among_all": among_all}


def caption_word_scores(engine, words: Sequence[str], word_sets, vocabulary) -> list[dict]:
    """Per word: test images relevant (2+ captions say it), P@10 in the joint space, chance
    (prevalence) and the class-prior reference (rank by the true class's training captions)."""
    labels = [record["label"] for record in engine.images.records]
    train, test = engine.split.train, engine.split.test
    joint_test = engine.joint_index.vectors[test]
    per_word = []
    for word in words:
        folded = fold_plural(word.lower().strip(), vocabulary)
        relevant = relevant_to_word(word_sets, folded)[test]
        record = {
            "word": word,
            "relevant": int(relevant.sum()),
            "p10": None,
            "chance": round(float(relevant.mean()), 4),
            "class_prior": None,
        }
        try:
            vector = engine.text_encoder.query(word).vector
        except (UnknownWordError, NoContentWordError):
            record["unknown"] = True
            per_word.append(record)
            continue
        if relevant.any():
            record["p10"] = round(ranked_precision(joint_test, vector, relevant), 4)
            prior = class_prior_scores(folded, word_sets, labels, train, test)
            record["class_prior"] = round(expected_precision(prior, relevant), 4)
        per_word.append(record)
    return per_word


def tag_scores(engine, word_sets, vocabulary, k: int = DEFAULT_TAGS) -> dict:
    """Tags of the test images against their labels and captions, beside the constant answer:
    the same `k` most used training-caption words (of the tag vocabulary) for every image."""
    labels = [engine.images.records[r]["label"] for r in engine.split.test]
    test_sets = [set().union(*word_sets[r]) if word_sets[r] else set() for r in engine.split.test]
    tag_lists = [[t.word for t in engine.tags(int(row), k)] for row in engine.split.test]
    constant = most_used_words(word_sets, engine.split.train, set(engine.tag_words[0]), k)

    def caption_hits(tags, words):  # tags that a caption of the image uses
        return [fold_plural(t, vocabulary) in words for t in tags]

    hits = [caption_hits(tags, words) for tags, words in zip(tag_lists, test_sets)]
    constant_hits = [caption_hits(constant, words) for words in test_sets]
    beyond = [
        np.mean([h and t not in constant for t, h in zip(tags, row)]) for tags, row in zip(tag_lists, hits)
    ]
    return {
        "class_top5": np.mean(
            [
                bool(word_forms(tags, class_words(lab)) & class_words(lab))
                for tags, lab in zip(tag_lists, labels)
            ]
        ),
        "caption_top5": np.mean([any(row) for row in hits]),
        "constant_top5": np.mean([any(row) for row in constant_hits]),
        "caption_precision": np.mean(hits),
        "constant_precision": np.mean(constant_hits),
        "beyond_constant": np.mean(beyond),
        "constant_tags": constant,
        "any_captions": any(test_sets),
    }


def evaluate_engine(
    engine,
    *,
    words: Sequence[str] | None = None,
    heldout: int = HELDOUT_CLASSES,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
) -> dict:
    """Every metric on the test split of the engine's index (never used in training), each with
    its baselines computed by the same code:

    - image_to_image_p10: test images query all others (image features, same class = relevant);
    - class_words_p10: each class word queries the test images in the joint space;
    - heldout_classes_p10: the model refitted without `heldout` classes (see `zero_shot`), queried
      with their words, ranking the test images of those unseen classes (chance 1/heldout);
      heldout_classes_p10_all_test ranks all test images instead (chance 1/classes);
    - caption_words_p10: non-label caption words (see default_caption_words); an image is
      relevant when 2+ of its captions say the word. caption_words_chance: their prevalence;
      caption_words_class_prior: the class-prior reference, an upper bound that uses the label;
    - tags_class_top5 / tags_caption_top5: share of test images whose top-5 tags hold a word
      naming the class / a word of one of its captions; tags_constant_baseline: the same for the
      constant answer; tags_caption_precision (and _constant): share of the 5 tags that a caption
      of the image uses; tags_beyond_constant: share of the 5 tags that are right and not in the
      constant list (0 for the constant answer by construction);
    - feedback_p10_none / _round1 / _round2 and composed_p10 / composed_image_only_p10 /
      composed_words_only_p10 (and their companions): steering a search, by the protocols of
      `imagesearch.experiments.steering` (`simulated_user`, `composed_precision`).
    - focus_gain_labelled / focus_gain_other (and focus_p10_* beside them): see `focus_protocol`.
    """
    records = engine.images.records
    labels = np.array([record["label"] for record in records])
    classes = sorted(set(labels.tolist()))
    test = engine.split.test
    image_p10, class_p10 = _test_split_precision(engine, labels, classes)
    held = heldout_classes(classes, heldout, seed)
    unseen = zero_shot(engine, held, epochs=epochs, seed=seed)
    per_word, tags = _caption_word_figures(engine, classes, words)
    scored = [w for w in per_word if w["p10"] is not None]
    return {
        "test_images": int(len(test)),
        "joint_model": {k: engine.joint_index.metadata.get(k) for k in ("targets", "head")},
        "image_to_image_p10": round(image_p10, 4),
        "class_words_p10": _mean(list(class_p10.values())),
        "heldout_classes": held,
        "heldout_classes_p10": _mean(list(unseen["among_unseen"].values())),
        "heldout_classes_p10_all_test": _mean(list(unseen["among_all"].values())),
        "caption_words_p10": _mean([w["p10"] for w in scored]),
        "caption_words_chance": _mean([w["chance"] for w in scored]),
        "caption_words_class_prior": _mean([w["class_prior"] for w in scored]),
        **_tag_figures(tags),
        **steering_figures(engine),
        "constant_tags": tags["constant_tags"],
        "per_class_p10": {c: round(p, 4) for c, p in class_p10.items()},
        "heldout_per_class_p10": {c: round(p, 4) for c, p in unseen["among_unseen"].items()},
        "words_source": "given"
        if words is not None
        else f"the {CAPTION_WORDS} most frequent non-label caption words (by images relevant)",
        "words": per_word,
        **focus_protocol(engine),
    }


def _test_split_precision(engine, labels: np.ndarray, classes: list[str]):
    """(P@10 of test images querying all others, {class: P@10 of its word over the test images})."""
    test = engine.split.test
    joint_test = engine.joint_index.vectors[test]
    image_p10 = leave_one_out_precision(engine.images.vectors, labels, 10, queries=test)
    class_p10 = {
        c: ranked_precision(joint_test, engine.text_encoder.query(c).vector, labels[test] == c)
        for c in classes
    }
    return image_p10, class_p10


def _mean(values):
    return round(float(np.mean(values)), 4) if len(values) else None


def _caption_word_figures(engine, classes, words):
    """(each caption word's scores, the tag scores): both read the captions' word sets."""
    captions = [record.get("captions", []) for record in engine.images.records]
    word_sets, vocabulary = caption_word_sets(captions)
    chosen = (
        list(words)
        if words is not None
        else default_caption_words(captions, classes, known=set(engine.word_vectors.key_to_index))
    )
    return caption_word_scores(engine, chosen, word_sets, vocabulary), tag_scores(
        engine, word_sets, vocabulary
    )


def _tag_figures(tags: dict) -> dict:
    """The tags' figures, rounded; those that need captions are None for a collection without."""
    figures = {"tags_class_top5": round(float(tags["class_top5"]), 4)}
    for name, key in (
        ("tags_caption_top5", "caption_top5"),
        ("tags_constant_baseline", "constant_top5"),
        ("tags_caption_precision", "caption_precision"),
        ("tags_caption_precision_constant", "constant_precision"),
        ("tags_beyond_constant", "beyond_constant"),
    ):
        figures[name] = round(float(tags[key]), 4) if tags["any_captions"] else None
    return figures


def split_examples(engine, count: int = 6, part: str = "test") -> list[int]:
    """Rows of `count` images of one split part, the first of classes spread evenly over the
    sorted class list: examples the models were not trained on (test), the same on every run."""
    rows = sorted(int(r) for r in getattr(engine.split, part))
    labels = [engine.images.records[r]["label"] for r in rows]
    classes = sorted(set(labels))
    step = max(1, len(classes) // max(count, 1))
    return [rows[labels.index(label)] for label in classes[::step][:count]]
