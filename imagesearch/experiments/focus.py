"""The focus protocol: photos of two objects, and how far focus moves a search toward one.

Queries come from captions that name a second class, or, where a data set has none, from
side-by-side collages of two test images (written as files), as the talk's cat-and-bottle photo.
`focus_protocol` is the measured one (`evaluate`, bench/steering.py): test photos only, the
engine's focus against no focus and against the talk's re-weighting.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..captions import other_class_mentions, other_class_mentions_of
from ..focus import UnknownClassError, focused_search
from ..images import side_by_side


@dataclass(frozen=True)
class TwoObjectQuery:
    """A query image that shows two classes, to focus a search on either one.

    `query` is what `SearchEngine.similar_images` takes: the row of an indexed photo, or the
    path of a collage (not indexed; the CNN embeds it). `key` names it in printed output (item
    keys, never absolute paths); `path` is the image to show; `objects` is (the photo's label or
    the collage's left class, the other class); `source` is "captions" or "collage"; `test`
    says that the image (both halves of a collage) is in the index's test split, so the focus
    classifier fitted on the training split never saw it: the honest subset to measure on.
    """

    query: int | str
    key: str
    path: str
    objects: tuple[str, str]
    source: str
    test: bool


def _focusable(engine, label: str) -> bool:
    try:
        engine.class_weights.vector(label)
    except UnknownClassError:
        return False
    return True


def two_object_queries(engine, dataset, *, min_captions: int = 2, collage_dir=None) -> list[TwoObjectQuery]:
    """Photos that show two classes, to test focus on: one query per (photo, other class).

    Found from captions with `captions.other_class_mentions` (a class counts when `min_captions`
    captions name it), keeping only pairs whose two classes the engine can focus on (the talk's
    ImageNet head has no "person"). When the data set has none (the embedded clip-art shows one
    object per image) and `collage_dir` is given, side-by-side collages stand in, as the talk's
    cat-and-bottle photo: classes paired in sorted order (1st with 2nd, 3rd with 4th, ...), the
    i-th test-split image of one beside the i-th of the other, so the focus classifier has never
    seen either half. Items are in data set order: the same list on every run.
    """
    items = engine.images.records
    row_of = {item["key"]: row for row, item in enumerate(items)}
    test = sorted(int(r) for r in engine.split.test)
    in_test = set(test)
    found = []
    for number, others in other_class_mentions(dataset, min_captions=min_captions):
        item = dataset[number]
        row = row_of.get(item.key)
        if row is None or not _focusable(engine, item.label):
            continue  # an image the index skipped (unreadable), or a class focus cannot name
        found += [
            TwoObjectQuery(row, item.key, items[row]["path"], (item.label, other), "captions", row in in_test)
            for other in others
            if _focusable(engine, other)
        ]
    if found or collage_dir is None:
        return found
    classes = sorted({items[r]["label"] for r in test if _focusable(engine, items[r]["label"])})
    for left, right in zip(classes[0::2], classes[1::2]):
        pairs = zip(
            [r for r in test if items[r]["label"] == left], [r for r in test if items[r]["label"] == right]
        )
        for i, (a, b) in enumerate(pairs):
            name = f"{left}+{right}-{i}.png".replace(" ", "_")
            path = side_by_side([items[a]["path"], items[b]["path"]], Path(collage_dir) / name)
            found.append(
                TwoObjectQuery(
                    str(path),
                    f"{items[a]['key']} + {items[b]['key']}",
                    str(path),
                    (left, right),
                    "collage",
                    True,
                )
            )
    return found


def focus_gain(engine, pairs: Sequence[tuple], k: int = 10) -> dict:
    """How far focus moves a search toward a class: the share of the top-k results of that class
    without focus ("before") and with it ("after"), per (query, class) pair and on average.

    A query is anything `similar_images` takes (an item row, an image path); both searches are
    exact, so the difference is the re-weighting alone, not Annoy's approximation. Returns
    {"k", "count", "before", "after", "gain", "queries": [{"query", "focus", "before", "after",
    "gain"}]}, the query named by its item key (or file name), never by an absolute path.
    """
    records = []
    for query, label in pairs:
        plain = engine.similar_images(query, k, exact=True)
        focused = engine.similar_images(query, k, focus=label)
        before = float(np.mean([r.label == label for r in plain]))
        after = float(np.mean([r.label == label for r in focused]))
        name = (
            engine.images.records[int(query)]["key"]
            if isinstance(query, (int, np.integer))
            else Path(os.fspath(query)).name
        )
        records.append(
            {"query": name, "focus": label, "before": before, "after": after, "gain": after - before}
        )
    mean = lambda key: float(np.mean([r[key] for r in records])) if records else float("nan")  # noqa: E731
    return {
        "k": int(k),
        "count": len(records),
        "before": mean("before"),
        "after": mean("after"),
        "gain": mean("gain"),
        "queries": records,
    }


def pick_two_object_examples(
    queries: Sequence[TwoObjectQuery], prefer: Sequence[tuple[str, str]] = (), count: int = 2
) -> list[TwoObjectQuery]:
    """`count` queries to show: for each preferred pair of classes (either order) the first
    query of that pair, then the first others, so that a notebook shows the talk's examples
    (a cat and a bottle, a person on a horse) where the data set has them, and something
    sensible where it does not. Chosen by classes and order only, never by how well focus works."""
    chosen: list[TwoObjectQuery] = []
    for pair in prefer:
        match = next((q for q in queries if set(q.objects) == set(pair) and q not in chosen), None)
        if match is not None and len(chosen) < count:
            chosen.append(match)
    for q in queries:
        if len(chosen) >= count:
            break
        if q not in chosen and all(set(q.objects) != set(c.objects) for c in chosen):
            chosen.append(q)
    return chosen


def focus_protocol(engine, k: int = 10, min_captions: int = 2) -> dict:
    """P@k toward each object of the test split's two-object photos, focused on it.

    Photos: test rows whose captions (`min_captions`+, from the index's records) name a second
    class that focus knows; each (photo, other class) pair is one query, scored twice: toward
    the photo's label ("labelled") and toward the other class ("other"). P@k = share of the
    top k (exact cosine, the photo itself left out) of that class, with no focus, with the
    talk's re-weighting (query and collection times the class weights) and with the engine's
    focus (the class map of the query when the index has maps, else the same re-weighting).
    focus_gain_* = engine focus minus no focus; focus_reweight_gain_* the same for re-weighting.
    Keys are None when the index has no such photo (e.g. no captions).
    """
    records = engine.images.records
    labels = [record["label"] for record in records]
    test = {int(r) for r in engine.split.test}
    mentions = other_class_mentions_of(labels, [r.get("captions", []) for r in records], min_captions)
    pairs = [
        (row, labels[row], other)
        for row, others in mentions
        if row in test and _focusable(engine, labels[row])
        for other in others
        if _focusable(engine, other)
    ]
    vectors = engine.images.vectors
    share = lambda rows, cls: float(np.mean([labels[int(r)] == cls for r in rows]))  # noqa: E731
    scores: dict[str, list[float]] = {}
    for row, label, other in pairs:
        plain = [r.row for r in engine.similar_images(row, k, exact=True)]
        for side, cls in (("labelled", label), ("other", other)):
            class_vector = engine.class_weights.vector(cls)
            reweighted, _ = focused_search(vectors, vectors[row], class_vector, k, [row])
            focused = [r.row for r in engine.similar_images(row, k, focus=cls)]
            for name, rows in (("none", plain), ("reweight", reweighted), ("focus", focused)):
                scores.setdefault(f"{name}_{side}", []).append(share(rows, cls))
    mean = lambda key: round(float(np.mean(scores[key])), 4) if pairs else None  # noqa: E731
    gain = lambda a, b: round(float(np.mean(scores[a]) - np.mean(scores[b])), 4) if pairs else None  # noqa: E731
    out = {
        "focus_pairs": len(pairs),
        "focus_method": "class map" if engine.focus_maps is not None else "re-weighting",
    }
    for side in ("labelled", "other"):
        out[f"focus_gain_{side}"] = gain(f"focus_{side}", f"none_{side}")
        out[f"focus_reweight_gain_{side}"] = gain(f"reweight_{side}", f"none_{side}")
        out[f"focus_p10_{side}"] = mean(f"focus_{side}")
        out[f"focus_p10_reweight_{side}"] = mean(f"reweight_{side}")
        out[f"focus_p10_none_{side}"] = mean(f"none_{side}")
    return out
