"""Steering a search, measured: relevance feedback by a simulated user, and composed queries.

Both score exact rankings over the whole index (every split part is a candidate, as a user's
search would find it) with the query's own row left out; the queries are test images only,
and the one setting chosen by measurement (the composed query's words weight) is chosen on
validation queries (`composed_weights`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..captions import caption_word_sets
from ..composed import WORDS_WEIGHT, composed_vector
from ..feedback import feedback_scores, top_rows
from ..metrics import relevant_to_word
from ..text import fold_plural
from .captionwords import default_caption_words

MIN_RELEVANT = 3  # a (photo, word) case counts when this many other images answer it
WEIGHTS = (0.125, 0.25, 0.375, 0.5, 1.0, 2.0)  # the words weights tried on validation queries


def simulated_user(
    queries: Sequence[tuple[int | None, str, object]],
    labels: np.ndarray,
    initial: Callable,
    rescore: Callable,
    rounds: int = 2,
    k: int = 10,
) -> dict:
    """The issue's simulated user. Each query (its row or None, its class, a payload) is ranked
    by `initial(payload)`; the user sees the top k, likes those of the query's class and
    dislikes the others; `rescore(payload, liked, disliked)` ranks again; the next k not shown
    yet are shown, marked the same way (marks accumulate), and so on for `rounds`. Scored on
    the residual ranking (P@k of the next k not already shown, since keeping the liked ones on
    top would inflate P@k) against the same ranks without feedback (k+1..2k after one round,
    2k+1..3k after two). Returns mean P@k per round: "none" and "feedback"."""
    labels = np.asarray(labels)
    none, fed = np.zeros((len(queries), rounds)), np.zeros((len(queries), rounds))
    for i, (row, cls, payload) in enumerate(queries):
        own = [] if row is None else [row]
        order = top_rows(initial(payload), len(labels), own)[0]
        shown = list(order[:k])
        for r in range(rounds):
            none[i, r] = np.mean(labels[order[(r + 1) * k : (r + 2) * k]] == cls)
            liked = [j for j in shown if labels[j] == cls]
            disliked = [j for j in shown if labels[j] != cls]
            following = top_rows(rescore(payload, liked, disliked), k, own + shown)[0]
            fed[i, r] = np.mean(labels[following] == cls)
            shown += list(following)
    return {"none": none.mean(0).tolist(), "feedback": fed.mean(0).tolist(), "count": len(queries)}


def feedback_figures(engine, rounds: int = 2) -> dict:
    """Relevance feedback as `engine.similar_images(like=, unlike=)` and `text_search` do it
    (imagesearch.feedback: Rocchio in the image and joint spaces for an image query, in the
    joint space for words), by `simulated_user`:
    each test image as query (first ranking: CNN features, as a plain image search), and each
    class word (first ranking: the joint space, as a plain text search)."""
    labels = np.array([record["label"] for record in engine.images.records])
    X, J = engine.images.vectors, engine.joint_index.vectors
    images = [(int(r), labels[r], int(r)) for r in engine.split.test]
    by_image = simulated_user(
        images,
        labels,
        lambda r: X @ X[r],
        lambda r, liked, disliked: feedback_scores([(X, X[r]), (J, J[r])], liked, disliked),
        rounds,
    )
    words = [(None, c, engine.text_encoder.query(c).vector) for c in sorted(set(labels.tolist()))]
    by_word = simulated_user(
        words,
        labels,
        lambda w: J @ w,
        lambda w, liked, disliked: feedback_scores([(J, w)], liked, disliked),
        rounds,
    )
    return {"images": by_image, "class_words": by_word}


def composed_cases(
    engine, rows: Sequence[int]
) -> tuple[list[str], np.ndarray, list[tuple[int, int, np.ndarray]]]:
    """(words, their unit vectors, cases): a case is (query row of class C, word index, relevant
    mask) where relevant = the other images of class C that 2+ captions describe with the word,
    kept when there are MIN_RELEVANT of them. Words: the most frequent non-label caption words,
    chosen by frequency alone (`default_caption_words`)."""
    records = engine.images.records
    labels = np.array([record["label"] for record in records])
    captions = [record.get("captions", []) for record in records]
    word_sets, vocabulary = caption_word_sets(captions)
    words = default_caption_words(captions, sorted(set(labels.tolist())), known=engine.word_table)
    vectors = np.stack([engine.text_encoder.query(w).vector for w in words]) if words else np.zeros((0, 1))
    says = [relevant_to_word(word_sets, fold_plural(w, vocabulary)) for w in words]
    cases = []
    for q in rows:
        for i, relevant in enumerate(says):
            mask = (labels == labels[q]) & relevant
            mask[q] = False
            if mask.sum() >= MIN_RELEVANT:
                cases.append((int(q), i, mask))
    return words, vectors, cases


def composed_precision(
    engine, rows: Sequence[int], weights: Sequence[float] = (WORDS_WEIGHT,), k: int = 10
) -> dict:
    """Mean P@k over `composed_cases(rows)` of: the composed query (per words weight, as
    `similar_images(with_words=)` does it), the image alone (CNN features: a plain image
    search; and its joint vector) and the word alone (joint space). None without cases."""
    X, J = engine.images.vectors, engine.joint_index.vectors
    _, vectors, cases = composed_cases(engine, rows)
    if not cases:
        return {"cases": 0}
    scores: dict[str, list[float]] = {}

    def add(name, q, mask, s):
        scores.setdefault(name, []).append(float(np.mean(mask[top_rows(s, k, [q])[0]])))

    for q, i, mask in cases:
        add("image_only", q, mask, X @ X[q])
        add("image_joint", q, mask, J @ J[q])
        add("words_only", q, mask, J @ vectors[i])
        for weight in weights:
            add(weight, q, mask, J @ composed_vector(J[q], vectors[i], weight))
    result = {name: round(float(np.mean(v)), 4) for name, v in scores.items()}
    result["cases"] = len(cases)
    return result


def composed_weights(engine, weights: Sequence[float] = WEIGHTS) -> dict:
    """The words weight's P@10 on validation queries: how WORDS_WEIGHT was chosen."""
    return composed_precision(engine, engine.split.val, weights)


def steering_figures(engine) -> dict:
    """The evaluation's steering keys (see `evaluate_engine`): feedback by the simulated user
    over test images, composed queries over test (photo, word) cases."""
    fb = feedback_figures(engine)
    composed = composed_precision(engine, engine.split.test)
    images, words = fb["images"], fb["class_words"]
    return {
        "feedback_p10_none": round(images["none"][0], 4),
        "feedback_p10_round1": round(images["feedback"][0], 4),
        "feedback_p10_none_round2": round(images["none"][1], 4),
        "feedback_p10_round2": round(images["feedback"][1], 4),
        "feedback_class_words_p10_none": [round(v, 4) for v in words["none"]],
        "feedback_class_words_p10": [round(v, 4) for v in words["feedback"]],
        "composed_p10": composed.get(WORDS_WEIGHT),
        "composed_image_only_p10": composed.get("image_only"),
        "composed_image_joint_p10": composed.get("image_joint"),
        "composed_words_only_p10": composed.get("words_only"),
        "composed_cases": composed["cases"],
        "composed_words_weight": WORDS_WEIGHT,
    }
