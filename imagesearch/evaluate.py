"""Metrics anyone can rerun: how often a search finds what it should.

Pure functions over arrays; the CLI's `evaluate` command and bench/ call them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .datasets import caption_word_sets
from .features import l2_normalize
from .index import EmbeddingIndex
from .text import caption_tokens, fold_plural


def precision_at_k(retrieved: Sequence[Sequence[bool]]) -> float:
    """Mean over queries of the share of relevant results (each row: relevance of the top k)."""
    rows = [np.mean(r) for r in retrieved if len(r)]
    return float(np.mean(rows)) if rows else float("nan")


def leave_one_out_precision(vectors: np.ndarray, labels: Sequence[str], k: int = 10,
                            queries: Sequence[int] | None = None,
                            candidates: Sequence[int] | None = None) -> float:
    """Image -> image precision@k by cosine, each query left out of its own results;
    relevant = same label. `queries`/`candidates` restrict who asks and who may be found."""
    labels = np.asarray(labels)
    unit = l2_normalize(vectors)
    queries = np.arange(len(unit)) if queries is None else np.asarray(queries)
    candidates = np.arange(len(unit)) if candidates is None else np.asarray(candidates)
    scores = unit[queries] @ unit[candidates].T
    scores[queries[:, None] == candidates[None, :]] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return precision_at_k(labels[candidates][top] == labels[queries][:, None])


def annoy_recall(index: EmbeddingIndex, k: int = 10, queries: Sequence[int] | None = None,
                 search_k: int = -1) -> float:
    """Share of the exact top-k neighbours that Annoy returns, averaged over queries."""
    queries = range(len(index)) if queries is None else queries
    recalls = []
    for row in queries:
        exact = {r.item for r in index.search(index.vectors[row], k, exclude=[row], exact=True)}
        approx = {r.item for r in index.search(index.vectors[row], k, exclude=[row], search_k=search_k)}
        recalls.append(len(exact & approx) / max(len(exact), 1))
    return float(np.mean(recalls))


# -- language: words -> images, tags -------------------------------------------------------

HELDOUT_CLASSES = 5
CAPTION_WORDS = 30          # how many non-label caption words the default list holds
MIN_CAPTIONS = 2            # an image is relevant to a word when this many of its captions say it


def relevant_to_word(word_sets: list[list[set[str]]], word: str, min_captions: int = MIN_CAPTIONS) -> np.ndarray:
    """Which images have the word in at least `min_captions` of their captions."""
    return np.array([sum(word in s for s in caps) >= min_captions for caps in word_sets])


def default_caption_words(captions: Sequence[Sequence[str]], labels: Sequence[str], known: set | None = None,
                          count: int = CAPTION_WORDS) -> list[str]:
    """The `count` content words that are relevant to the most images, chosen by frequency alone
    (never by how well they score): no stop words, no word of any class label, 3+ letters,
    and known to the word vectors when `known` is given."""
    from gensim.parsing.preprocessing import STOPWORDS

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
    candidates = [w for w in counts if len(w) >= 3 and w not in STOPWORDS and w not in label_words
                  and (known is None or w in known)]
    return sorted(candidates, key=lambda w: (-counts[w], w))[:count]


def ranked_precision(vectors: np.ndarray, query: np.ndarray, relevant: np.ndarray, k: int = 10) -> float:
    """Precision@k of one query over unit `vectors` (exact ranking by cosine)."""
    scores = vectors @ query
    top = np.argsort(-scores, kind="stable")[:k]
    return float(np.mean(relevant[top]))


def heldout_classes(classes: Sequence[str], count: int = HELDOUT_CLASSES, seed: int = 0) -> list[str]:
    """Classes to hold out entirely from training: a seeded draw, not a choice by score."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(sorted(classes), size=min(count, len(classes)), replace=False).tolist())


def evaluate_engine(engine, *, words: Sequence[str] | None = None, heldout: int = HELDOUT_CLASSES,
                    seed: int = 0, epochs: int = 50) -> dict:
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
    from .engine import label_targets
    from .joint import train_joint_model
    from .splits import Split
    from .text import UnknownWordError, query_vector

    items = engine.images.items
    labels = np.array([item["label"] for item in items])
    classes = sorted(set(labels.tolist()))
    split = engine.split
    test = split.test
    kv = engine.word_vectors
    joint_test = engine.joint_index.vectors[test]

    image_p10 = leave_one_out_precision(engine.images.vectors, labels, 10, queries=test)
    class_p10 = {c: ranked_precision(joint_test, query_vector(kv, c).vector, labels[test] == c)
                 for c in classes}

    held = heldout_classes(classes, heldout, seed)
    keep = lambda rows: rows[~np.isin(labels[rows], held)]  # noqa: E731
    partial = train_joint_model(engine.images.vectors, label_targets(kv, labels.tolist()),
                                Split(keep(split.train), keep(split.val), test), epochs=epochs, seed=seed)
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
    chosen = list(words) if words is not None else default_caption_words(
        captions, classes, known=set(kv.key_to_index))
    per_word = []
    for word in chosen:
        folded = fold_plural(word.lower().strip(), vocabulary)
        relevant = relevant_to_word(word_sets, folded)[test]
        record = {"word": word, "relevant": int(relevant.sum()), "p10": None,
                  "chance": round(float(relevant.mean()), 4)}
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
    class_hits = [any(fold_plural(t, lw | {t[:-1]}) in lw for t in tags)
                  for tags, lw in zip(tag_lists, label_words)]
    caption_hits = [any(fold_plural(t, vocabulary) in cw for t in tags)
                    for tags, cw in zip(tag_lists, caption_words)]

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
        "words_source": "given" if words is not None else
        f"the {CAPTION_WORDS} most frequent non-label caption words (by images relevant)",
        "words": per_word,
    }


def class_similarity_matrix(vectors: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Mean cosine between the images of every pair of classes (diagonal: within a class,
    leaving each image's similarity to itself out)."""
    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    unit = l2_normalize(vectors)
    sims = unit @ unit.T
    matrix = np.zeros((len(classes), len(classes)), np.float32)
    for i, a in enumerate(classes):
        for j, b in enumerate(classes):
            block = sims[np.ix_(labels == a, labels == b)]
            if i == j:
                n = block.shape[0]
                matrix[i, j] = (block.sum() - np.trace(block)) / max(n * (n - 1), 1)
            else:
                matrix[i, j] = block.mean()
    return matrix, classes


# -- image -> image: chance level, per class, Annoy's trees -----------------------------------

def chance_precision(labels: Sequence[str]) -> float:
    """Precision@k of a random ranking with each query left out: the mean over queries of the
    share of the other images that share its label (k does not matter). The bar to beat."""
    labels = np.asarray(labels)
    if len(labels) < 2:
        return float("nan")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return float(np.mean((counts[inverse] - 1) / (len(labels) - 1)))


def per_class_precision(vectors: np.ndarray, labels: Sequence[str], k: int = 10) -> dict[str, float]:
    """Leave-one-out precision@k with the queries of each class: which classes are easy."""
    labels = np.asarray(labels)
    return {label: leave_one_out_precision(vectors, labels, k, queries=np.flatnonzero(labels == label))
            for label in sorted(set(labels.tolist()))}


def embedding_summary(vector: np.ndarray, top: int = 5) -> dict:
    """What one feature vector looks like: its size, range, length, and how sparse it is
    (after ReLU and pooling, channels that never fire on an image are exactly 0)."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    order = np.argsort(-vector, kind="stable")[:top]
    return {"dimensions": int(vector.size), "zeros": int(np.sum(vector == 0)),
            "zero share": float(np.mean(vector == 0)), "min": float(vector.min()),
            "max": float(vector.max()), "mean": float(vector.mean()),
            "L2 norm": float(np.linalg.norm(vector)), "top channels": [int(i) for i in order]}


def trees_tradeoff(vectors: np.ndarray, items: Sequence[dict], trees: Sequence[int] = (1, 2, 5, 10, 20, 50, 100),
                   k: int = 10, queries: Sequence[int] | int | None = 300, seed: int = 0,
                   repeats: int = 3) -> list[dict]:
    """Annoy's accuracy/speed trade-off on these vectors, one dict per number of trees.

    Each dict: `trees`, `recall` (share of the exact top-k that Annoy returns, each query left
    out; see annoy_recall), `query_ms` (mean time of one Annoy query), `exact_ms` (one exact
    brute-force query through the same code path) and `build_s`; query times are the best of
    `repeats` passes over the queries, as timeit does, so that a busy machine disturbs them
    less. `queries`: rows to ask with; an int asks with a seeded sample of that many rows (all
    rows when there are fewer; a few hundred queries measure recall well and keep this fast);
    None asks with every row. More trees give better recall
    but slower builds, slower queries and bigger files; with a few thousand images exact search
    is fast enough, Annoy pays off with millions. Recall repeats (seeded, one build job);
    times do not.
    """
    import time

    if queries is None or (isinstance(queries, (int, np.integer)) and queries >= len(vectors)):
        queries = list(range(len(vectors)))
    elif isinstance(queries, (int, np.integer)):
        queries = sorted(np.random.default_rng(seed).choice(len(vectors), int(queries), replace=False).tolist())
    else:
        queries = [int(q) for q in queries]
    rows = []
    for n_trees in trees:
        start = time.perf_counter()
        index = EmbeddingIndex.build(vectors, list(items), model="trees-tradeoff", n_trees=n_trees, seed=seed)
        build_s = time.perf_counter() - start
        timings = {}
        for exact in (False, True):
            passes = []
            for _ in range(max(1, repeats)):
                start = time.perf_counter()
                for row in queries:
                    index.search(index.vectors[row], k, exclude=[row], exact=exact)
                passes.append((time.perf_counter() - start) * 1000 / max(len(queries), 1))
            timings[exact] = min(passes)
        rows.append({"trees": int(n_trees), "recall": annoy_recall(index, k, queries),
                     "query_ms": timings[False], "exact_ms": timings[True], "build_s": build_s})
    return rows


# -- focus: photos of two objects, and how far re-weighting moves a search toward one ---------

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
    from .focus import UnknownClassError

    try:
        engine.class_weights.vector(label)
    except UnknownClassError:
        return False
    return True


def two_object_queries(engine, dataset, *, min_captions: int = 2,
                       collage_dir=None) -> list[TwoObjectQuery]:
    """Photos that show two classes, to test focus on: one query per (photo, other class).

    Found from captions with `datasets.other_class_mentions` (a class counts when `min_captions`
    captions name it), keeping only pairs whose two classes the engine can focus on (the talk's
    ImageNet head has no "person"). When the data set has none (the embedded clip-art shows one
    object per image) and `collage_dir` is given, side-by-side collages stand in, as the talk's
    cat-and-bottle photo: classes paired in sorted order (1st with 2nd, 3rd with 4th, ...), the
    i-th test-split image of one beside the i-th of the other, so the focus classifier has never
    seen either half. Items are in data set order: the same list on every run.
    """
    from pathlib import Path

    from .datasets import other_class_mentions
    from .images import side_by_side

    items = engine.images.items
    row_of = {item["key"]: row for row, item in enumerate(items)}
    test = sorted(int(r) for r in engine.split.test)
    in_test = set(test)
    found = []
    for number, others in other_class_mentions(dataset, min_captions=min_captions):
        item = dataset[number]
        row = row_of.get(item.key)
        if row is None or not _focusable(engine, item.label):
            continue  # an image the index skipped (unreadable), or a class focus cannot name
        found += [TwoObjectQuery(row, item.key, items[row]["path"], (item.label, other), "captions",
                                 row in in_test) for other in others if _focusable(engine, other)]
    if found or collage_dir is None:
        return found
    classes = sorted({items[r]["label"] for r in test if _focusable(engine, items[r]["label"])})
    for left, right in zip(classes[0::2], classes[1::2]):
        pairs = zip([r for r in test if items[r]["label"] == left],
                    [r for r in test if items[r]["label"] == right])
        for i, (a, b) in enumerate(pairs):
            name = f"{left}+{right}-{i}.png".replace(" ", "_")
            path = side_by_side([items[a]["path"], items[b]["path"]], Path(collage_dir) / name)
            found.append(TwoObjectQuery(str(path), f"{items[a]['key']} + {items[b]['key']}",
                                        str(path), (left, right), "collage", True))
    return found


def focus_gain(engine, pairs: Sequence[tuple], k: int = 10) -> dict:
    """How far focus moves a search toward a class: the share of the top-k results of that class
    without focus ("before") and with it ("after"), per (query, class) pair and on average.

    A query is anything `similar_images` takes (an item row, an image path); both searches are
    exact, so the difference is the re-weighting alone, not Annoy's approximation. Returns
    {"k", "count", "before", "after", "gain", "queries": [{"query", "focus", "before", "after",
    "gain"}]}, the query named by its item key (or file name), never by an absolute path.
    """
    import os
    from pathlib import Path

    records = []
    for query, label in pairs:
        plain = engine.similar_images(query, k, exact=True)
        focused = engine.similar_images(query, k, focus=label)
        before = float(np.mean([r.label == label for r in plain]))
        after = float(np.mean([r.label == label for r in focused]))
        name = (engine.images.items[int(query)]["key"] if isinstance(query, (int, np.integer))
                else Path(os.fspath(query)).name)
        records.append({"query": name, "focus": label, "before": before, "after": after,
                        "gain": after - before})
    mean = lambda key: float(np.mean([r[key] for r in records])) if records else float("nan")  # noqa: E731
    return {"k": int(k), "count": len(records), "before": mean("before"), "after": mean("after"),
            "gain": mean("gain"), "queries": records}


def pick_two_object_examples(queries: Sequence[TwoObjectQuery], prefer: Sequence[tuple[str, str]] = (),
                             count: int = 2) -> list[TwoObjectQuery]:
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


def closest_class_pairs(matrix: np.ndarray, classes: Sequence[str], top: int = 5) -> list[dict]:
    """The `top` most similar pairs of different classes in a class_similarity_matrix (each pair
    once, ties by name): which classes the image features confuse."""
    pairs = [(float((matrix[i, j] + matrix[j, i]) / 2), classes[i], classes[j])
             for i in range(len(classes)) for j in range(i + 1, len(classes))]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return [{"class": a, "other class": b, "mean cosine": s} for s, a, b in pairs[:top]]


# -- the joint model's report card, as a table ------------------------------------------------

#: What each number of `evaluate_engine` measures, in the order a reader should see them.
EVALUATION_METRICS = {
    "image_to_image_p10": "image -> image: test images query all others (CNN features); share of the top 10 of the same class",
    "class_words_p10": "class name -> images: each class name queries the test images in the joint space",
    "heldout_classes_p10": "zero-shot: a model trained without the held-out classes finds their test images by name",
    "heldout_classes_p10_all_test": "zero-shot, ranking all test images (not only the unseen classes')",
    "caption_words_p10": "frequent caption words that are no label -> the images that 2+ of their captions name so",
    "tags_class_top5": "share of test images whose 5 tags hold a word of their label",
    "tags_caption_top5": "share of test images whose 5 tags hold a word of one of their captions",
}


def evaluation_table(result: dict, digits: int = 3):
    """`evaluate_engine`'s headline numbers as a pandas table: value, what chance would score
    (a random ranking; none for tags), and what it measures. Rounded, so that it prints the
    same on every run."""
    import pandas as pd

    classes = len(result["per_class_p10"])
    heldout = len(result["heldout_classes"])
    chance = {"image_to_image_p10": 1 / classes if classes else None,
              "class_words_p10": 1 / classes if classes else None,
              "heldout_classes_p10": 1 / heldout if heldout else None,
              "heldout_classes_p10_all_test": 1 / classes if classes else None,
              "caption_words_p10": result.get("caption_words_chance")}
    rows = [{"metric": name, "value": result.get(name), "chance": chance.get(name), "measures": text}
            for name, text in EVALUATION_METRICS.items()]
    table = pd.DataFrame(rows).set_index("metric")
    table[["value", "chance"]] = table[["value", "chance"]].astype(float).round(digits)
    return table


def split_examples(engine, count: int = 6, part: str = "test") -> list[int]:
    """Rows of `count` images of one split part, the first of classes spread evenly over the
    sorted class list: examples the models were not trained on (test), the same on every run."""
    rows = sorted(int(r) for r in getattr(engine.split, part))
    labels = [engine.images.items[r]["label"] for r in rows]
    classes = sorted(set(labels))
    step = max(1, len(classes) // max(count, 1))
    return [rows[labels.index(label)] for label in classes[::step][:count]]
