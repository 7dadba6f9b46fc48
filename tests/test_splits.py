import json

import numpy as np
import pytest

from imagesearch.splits import Split, stratified_split
from imagesearch.storage import ImageSearchError

# class -> size; sizes chosen to exercise rounding, the "at least one" rule and tiny classes
SIZES = {"dog": 10, "cat": 20, "cow": 3, "bird": 7, "boat": 5, "sofa": 2, "tv": 1}
# class -> (test, val) with test_fraction=0.2, val_fraction=0.1 (round half up, >= 1 each)
EXPECTED = {
    "dog": (2, 1),
    "cat": (4, 2),
    "cow": (1, 1),
    "bird": (1, 1),
    "boat": (1, 1),
    "sofa": (0, 0),
    "tv": (0, 0),
}


def make_labels(seed=0):
    labels = np.array([c for c, n in SIZES.items() for _ in range(n)])
    return labels[np.random.default_rng(seed).permutation(labels.size)]  # interleaved classes


def test_stratified_counts_per_class():
    labels = make_labels()
    split = stratified_split(labels)
    for cls, n in SIZES.items():
        n_test, n_val = EXPECTED[cls]
        assert np.sum(labels[split.test] == cls) == n_test, cls
        assert np.sum(labels[split.val] == cls) == n_val, cls
        assert np.sum(labels[split.train] == cls) == n - n_test - n_val, cls


def test_parts_sorted_disjoint_and_covering():
    labels = make_labels()
    split = stratified_split(labels)
    parts = [split.train, split.val, split.test]
    for part in parts:
        assert np.issubdtype(part.dtype, np.integer)
        assert np.all(np.diff(part) > 0)  # sorted, no repeats
    everything = np.concatenate(parts)
    assert everything.size == labels.size == len(split)
    assert np.array_equal(np.sort(everything), np.arange(labels.size))


def test_deterministic_and_seed_dependent():
    labels = make_labels()
    assert stratified_split(labels, seed=3) == stratified_split(labels, seed=3)
    assert stratified_split(labels, seed=3) != stratified_split(labels, seed=4)


def test_json_round_trip():
    split = stratified_split(make_labels(), seed=1)
    data = json.loads(json.dumps(split.to_json()))
    assert set(data) == {"train", "val", "test"}
    assert all(isinstance(i, int) for i in data["train"])
    assert Split.from_json(data) == split


def test_always_leaves_a_training_item():
    labels = np.repeat(["a", "b"], [3, 4])
    split = stratified_split(labels, test_fraction=0.5, val_fraction=0.4)
    for cls in ("a", "b"):
        assert np.sum(labels[split.train] == cls) >= 1
        assert np.sum(labels[split.test] == cls) >= 1
        assert np.sum(labels[split.val] == cls) >= 1


def test_zero_val_fraction_gives_no_val():
    split = stratified_split(np.repeat([0, 1], 10), val_fraction=0.0)
    assert split.val.size == 0 and split.test.size == 4


def test_integer_labels_and_parts_are_read_only():
    split = stratified_split(np.repeat(np.arange(4), 10))
    assert split.test.size == 8 and split.val.size == 4
    with pytest.raises(ValueError):
        split.train[0] = 99


@pytest.mark.parametrize(
    "kwargs", [{"test_fraction": 1.0}, {"val_fraction": -0.1}, {"test_fraction": 0.6, "val_fraction": 0.4}]
)
def test_bad_fractions(kwargs):
    with pytest.raises(ImageSearchError):
        stratified_split(make_labels(), **kwargs)


def test_overlapping_or_malformed_split_rejected():
    with pytest.raises(ImageSearchError, match="overlap"):
        Split(train=[0, 1], val=[1], test=[2])
    with pytest.raises(ImageSearchError):
        Split.from_json({"train": [0, 1]})
