"""Honest demos: what the notebooks show as the engine's quality comes from the test split.

The joint model and the focus classifier are fitted on the training split, so a demo that ranks
training photos shows what they remember, not what they learnt (issue 11: "dog" found 8 of 8
dogs at cosine >= 0.993 over the whole collection, where its test P@10 is 0.3). These helpers
pick test-split examples, search the test split alone, and mark each result of a whole-collection
search as train/val/test and as a hit or a miss (`plots.hit`), for `plots.result_grid`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .experiments.focus import pick_two_object_examples
from .feedback import top_rows
from .plots import hit
from .text import caption_tokens, class_words, word_forms


def split_marks(engine, results) -> list[str]:
    """The split part of each result, for a grid's notes (train results were fitted on)."""
    parts = {part: set(int(r) for r in getattr(engine.split, part)) for part in ("train", "val", "test")}
    return [next((p for p, rows in parts.items() if r.row in rows), "none") for r in results]


def result_hits(engine, results, *, labels: Sequence[str] = (), words: Sequence[str] = ()) -> list[bool]:
    """`plots.hit` for each result, with its captions from the index's records."""
    records = engine.images.records
    return [hit(r.label, records[r.row].get("captions", []), labels=labels, words=words) for r in results]


def split_text_search(engine, text: str, k: int = 8, part: str = "test"):
    """A text search over one split part alone (default: the test split, photos the joint
    model never saw): the demo of its quality. Returns (results, words used)."""
    query = engine.text_encoder.query(text)
    allowed = np.zeros(len(engine.images), bool)
    allowed[[int(r) for r in getattr(engine.split, part)]] = True
    scores = engine.joint_index.vectors @ query.vector
    rows, scores = top_rows(scores, k, np.flatnonzero(~allowed).tolist())
    return engine.images.results_for(rows, scores), query.known


def names_both(label: str, other: str, captions: Sequence[str], min_captions: int = 2) -> bool:
    """Whether captions name both classes: the label in at least one caption and the other
    class in `min_captions` (people do not always name the labelled object: a "bottle" photo
    whose captions speak only of a cat is no two-object photo)."""
    names = class_words(label) | class_words(other)
    forms = [word_forms(caption_tokens(c), names) for c in captions]
    return any(f & class_words(label) for f in forms) and sum(
        bool(f & class_words(other)) for f in forms
    ) >= min(min_captions, len(captions))


def two_object_showcase(engine, queries, prefer: Sequence[tuple[str, str]] = (), count: int = 2) -> list:
    """The two-object photos a notebook shows: test-split queries (`experiments.two_object_queries`)
    whose captions name both objects (`names_both`), picked by `pick_two_object_examples` (the
    preferred class pairs first, then the first others with new pairs). Chosen by split, captions and order only,
    never by how well focus works: the same on every run. Collages (no captions) pass as they are."""
    records = engine.images.records
    usable = [
        q
        for q in queries
        if q.test
        and (q.source != "captions" or names_both(*q.objects, records[int(q.query)].get("captions", [])))
    ]
    return pick_two_object_examples(usable, prefer, count)
