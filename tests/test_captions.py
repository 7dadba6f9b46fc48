"""imagesearch.captions: class balance, example items, caption words, and photos whose
captions name another class, on a small folder data set with hand-written captions."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from imagesearch import captions
from imagesearch.datasets import load_folder
from imagesearch.text import class_words


def image(path: Path, colour=(120, 60, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 12), colour).save(path)


def captioned_folder(root: Path) -> Path:
    """dog: 3 images, cat: 2, person: 1, with captions that sometimes name another class."""
    texts = {
        "dog/a.png": ["A man walks his dog.", "Two men and a dog on a beach.", "A brown dog runs."],
        "dog/b.png": ["A dog sleeps.", "The dog sleeps next to a man.", "A sleeping puppy."],
        "dog/c.png": ["Dogs playing with a cat.", "Two dogs and a kitten.", "Puppies and a cat."],
        "cat/a.png": ["A cat on the sofa.", "A black cat."],
        "cat/b.png": ["White cats."],
        "person/a.png": ["A woman holds her cat.", "A girl and her kitten."],
    }
    for i, key in enumerate(texts):
        image(root / key, colour=(10 * i, 20, 30))
    (root / "captions.json").write_text(json.dumps(texts))
    return root


def test_class_counts_and_example_items(tmp_path):
    data = load_folder(captioned_folder(tmp_path / "set"))
    assert captions.class_counts(data) == [
        {"class": "cat", "images": 2, "captions": 3, "captions per image": 1.5},
        {"class": "dog", "images": 3, "captions": 9, "captions per image": 3.0},
        {"class": "person", "images": 1, "captions": 2, "captions per image": 2.0},
    ]
    assert captions.example_items(data, classes=2, per_class=2) == {"cat": [0, 1], "dog": [2, 3]}
    assert captions.example_items(data, classes=5, per_class=1) == {"cat": [0], "dog": [2], "person": [5]}


def test_other_class_mentions_needs_two_captions_and_knows_synonyms(tmp_path):
    data = load_folder(captioned_folder(tmp_path / "set"))
    keys = {data[i].key: others for i, others in captions.other_class_mentions(data)}
    # dog/a: "man", "men" in two captions -> person; dog/b: "man" once only -> nothing;
    # dog/c: "cat", "kitten", "cat" -> cat; person/a: "cat", "kitten" -> cat
    assert keys == {"dog/a.png": ["person"], "dog/c.png": ["cat"], "person/a.png": ["cat"]}
    once = {data[i].key for i, _ in captions.other_class_mentions(data, min_captions=1)}
    assert once == {"dog/a.png", "dog/b.png", "dog/c.png", "cat/a.png", "person/a.png"} - {"cat/a.png"}
    assert class_words("dining table") == {"dining", "table"}
    assert {"man", "people", "person"} <= class_words("person")


def test_other_class_mentions_on_single_caption_images(tmp_path):
    root = tmp_path / "one"
    for key in ("car/a.png", "dog/a.png", "dog/b.png"):
        image(root / key)
    (root / "captions.json").write_text(
        json.dumps({"car/a.png": ["a car"], "dog/a.png": ["a dog chasing a car"], "dog/b.png": []})
    )
    data = load_folder(root)
    assert [(data[i].key, others) for i, others in captions.other_class_mentions(data)] == [
        ("dog/a.png", ["car"])
    ]


def test_caption_word_counts_folds_plurals_drops_stop_words_and_sorts(tmp_path):
    data = load_folder(captioned_folder(tmp_path / "set"))
    counts = captions.caption_word_counts(data, top=4)
    # captions saying dog or dogs: 7; cat or cats: 6; "a", "the", "and", "with" are stop words
    assert counts[:2] == [("dog", 7), ("cat", 6)]
    assert all(
        word not in {"a", "the", "and", "with", "her", "his"}
        for word, _ in captions.caption_word_counts(data, top=100)
    )
    assert counts == sorted(counts, key=lambda pair: (-pair[1], pair[0]))


def test_mention_counts_and_examples_show_the_evidence(tmp_path):
    data = load_folder(captioned_folder(tmp_path / "set"))
    mentions = captions.other_class_mentions(data, min_captions=1)
    assert captions.mention_counts(data, mentions) == [
        {"class": "dog", "also named": "person", "images": 2},
        {"class": "dog", "also named": "cat", "images": 1},
        {"class": "person", "also named": "cat", "images": 1},
    ]
    assert captions.mention_counts(data, mentions, top=1)[0]["images"] == 2
    examples = captions.mention_examples(data, mentions, count=2)
    assert [(data[e["item"]].key, e["also named"], e["caption"]) for e in examples] == [
        ("dog/a.png", "person", "A man walks his dog."),
        ("dog/c.png", "cat", "Dogs playing with a cat."),
    ]
    assert captions.mention_examples(data, []) == []
    # per_other=1: only the most frequent pair naming each other class (person+cat is dropped)
    assert [
        (e["class"], e["also named"]) for e in captions.mention_examples(data, mentions, per_other=1)
    ] == [("dog", "person"), ("dog", "cat")]
