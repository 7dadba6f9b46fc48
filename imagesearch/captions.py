"""Caption statistics: what a data set's labels and captions say, for the tutorial and the evaluation.

Per class counts and examples, the words people use in captions (plurals folded, stop words
removed: the rules live in text.py), and the images whose captions name a class other than
their label, with the evidence. Loading the data sets themselves is datasets.py's job.
"""

from __future__ import annotations

from collections.abc import Sequence

from .datasets import Dataset
from .text import STOP_WORDS, caption_tokens, class_words, word_forms

# --- caption text: words with plurals folded (the rules live in text.py) -------------------


def caption_word_sets(captions: Sequence[Sequence[str]]) -> tuple[list[list[set[str]]], set[str]]:
    """Per image, per caption: the set of folded words; and the vocabulary of all captions."""
    vocabulary = {t for caps in captions for c in caps for t in caption_tokens(c)}
    sets = [[word_forms(caption_tokens(c), vocabulary) for c in caps] for caps in captions]
    return sets, vocabulary


# --- describing a data set: balance, examples, images that show several classes -------------


def class_counts(dataset: Dataset) -> list[dict]:
    """Per class (sorted): images, captions and captions per image: the balance at a glance."""
    rows = []
    for label in dataset.classes:
        items = [item for item in dataset if item.label == label]
        captions = sum(len(item.captions) for item in items)
        rows.append(
            {
                "class": label,
                "images": len(items),
                "captions": captions,
                "captions per image": round(captions / len(items), 2),
            }
        )
    return rows


def example_items(dataset: Dataset, classes: int = 4, per_class: int = 4) -> dict[str, list[int]]:
    """Item numbers of the first `per_class` images of `classes` classes spread evenly over the
    sorted class list: the same examples on every run, whatever the data set."""
    names = dataset.classes
    step = max(1, len(names) // max(classes, 1))
    chosen = names[::step][:classes]
    return {
        label: [i for i, item in enumerate(dataset) if item.label == label][:per_class] for label in chosen
    }


def other_class_mentions(dataset: Dataset, min_captions: int = 2) -> list[tuple[int, list[str]]]:
    """Images whose captions name a class other than their label: (item number, other classes).

    A class counts when at least `min_captions` of the image's captions name it (all of them
    when an image has fewer), so that one writer's aside does not make a photo ambiguous.
    """
    return other_class_mentions_of(
        [item.label for item in dataset], [item.captions for item in dataset], min_captions
    )


def other_class_mentions_of(
    labels: Sequence[str], captions: Sequence[Sequence[str]], min_captions: int = 2
) -> list[tuple[int, list[str]]]:
    """`other_class_mentions` over plain lists (an index's records: labels and captions)."""
    words = {label: class_words(label) for label in sorted(set(labels))}
    names = set().union(*words.values()) if words else set()  # plurals fold: dogs, buses, puppies
    found = []
    for number, (label, caps) in enumerate(zip(labels, captions)):
        if not caps:
            continue
        need = min(min_captions, len(caps))
        forms = [word_forms(caption_tokens(c), names) for c in caps]
        others = [
            other
            for other, names in words.items()
            if other != label and sum(bool(f & names) for f in forms) >= need
        ]
        if others:
            found.append((number, others))
    return found


def caption_word_counts(dataset: Dataset, top: int = 25, min_length: int = 3) -> list[tuple[str, int]]:
    """The `top` words used by the most captions (plurals folded, stop words removed):
    what people say about these photos. Ties are broken alphabetically."""
    word_sets, _ = caption_word_sets([item.captions for item in dataset])
    counts: dict[str, int] = {}
    for caps in word_sets:
        for words in caps:
            for word in words:
                if len(word) >= min_length and word not in STOP_WORDS:
                    counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:top]


def mention_counts(dataset: Dataset, mentions: list[tuple[int, list[str]]], top: int = 10) -> list[dict]:
    """The most frequent (class, other class named in its captions) pairs among
    `other_class_mentions`, by images, ties by names: which confusions the data set holds."""
    counts: dict[tuple[str, str], int] = {}
    for number, others in mentions:
        for other in others:
            pair = (dataset[number].label, other)
            counts[pair] = counts.get(pair, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"class": label, "also named": other, "images": n} for (label, other), n in ranked]


def mention_examples(
    dataset: Dataset, mentions: list[tuple[int, list[str]]], count: int = 8, per_other: int = 2
) -> list[dict]:
    """One image for each of the `count` most frequent (class, other class) pairs (the first
    such image), with the first caption that names the other class: the evidence to show.
    At most `per_other` pairs name the same other class, so that "person" (in almost every
    class's photos) leaves room for other confusions."""
    examples: list[dict] = []
    for pair in mention_counts(dataset, mentions, top=len(dataset.classes) ** 2):
        if len(examples) >= count:
            break
        if sum(e["also named"] == pair["also named"] for e in examples) >= per_other:
            continue
        number = next(
            n for n, others in mentions if dataset[n].label == pair["class"] and pair["also named"] in others
        )
        names = class_words(pair["also named"])
        caption = next(c for c in dataset[number].captions if word_forms(caption_tokens(c), names) & names)
        examples.append(
            {"item": number, "class": pair["class"], "also named": pair["also named"], "caption": caption}
        )
    return examples
