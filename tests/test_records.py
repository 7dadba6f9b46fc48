"""The index's rows by column (records.py), and the block-wise .npy writer of updates."""

import numpy as np
import pytest

import imagesearch.storage
from imagesearch.records import Records
from imagesearch.storage import write_npy

ROWS = [
    {"path": "/a.jpg", "label": "cat", "key": "cat/a.jpg", "captions": ["a cat", "on a mat"]},
    {"path": "/b.jpg", "label": "dog", "key": "dog/b.jpg", "captions": []},
]


def test_records_round_trip_through_a_memory_mapped_file(tmp_path):
    records = Records.from_dicts(ROWS)
    records.write(tmp_path / "items.arrow")
    read = Records.read(tmp_path / "items.arrow")
    assert len(read) == 2 and read[0] == ROWS[0] and read[-1] == ROWS[1] and list(read) == ROWS
    assert read.column("label") == ["cat", "dog"] and read.column("missing") == [None, None]
    assert read[0:2] == ROWS
    with pytest.raises(IndexError):
        read[2]


def test_records_extend_and_take():
    records = Records.from_dicts(ROWS).extend(
        [{"path": "/c.jpg", "label": "cow", "key": "c", "captions": []}]
    )
    assert records.column("path") == ["/a.jpg", "/b.jpg", "/c.jpg"]
    assert list(records.take([2, 0])) == [records[2], ROWS[0]]
    assert list(Records.from_dicts([]).extend(ROWS)) == ROWS
    assert list(Records.from_dicts(ROWS).take([])) == []


@pytest.mark.parametrize("keep", [None, [0, 3, 4, 9, 10, 11]])
def test_write_npy_joins_parts_a_few_rows_at_a_time(tmp_path, monkeypatch, keep):
    monkeypatch.setattr(imagesearch.storage, "BLOCK_BYTES", 3 * 4 * 4)  # three rows a block
    first = np.arange(40, dtype=np.float32).reshape(10, 4)
    np.save(tmp_path / "first.npy", first)
    parts = [np.load(tmp_path / "first.npy", mmap_mode="r"), np.ones((2, 4), np.float32)]
    write_npy(tmp_path / "out.npy", parts, None if keep is None else np.array(keep))
    joined = np.concatenate([first, np.ones((2, 4), np.float32)])
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), joined if keep is None else joined[keep])
    write_npy(tmp_path / "copy.npy", [parts[0]])  # a whole file: copied
    np.testing.assert_array_equal(np.load(tmp_path / "copy.npy"), first)


def test_rows_without_captions_read_an_empty_list_not_none(tmp_path):
    bare = [{"path": "/a.jpg", "label": "a", "key": "a/a.jpg"}]
    captioned = [{"path": "/b.jpg", "label": "b", "key": "b/b.jpg", "captions": ["a bee"]}]
    mixed = Records.from_dicts(bare + captioned)
    assert [row["captions"] for row in mixed] == [[], ["a bee"]]
    for grown in (Records.from_dicts(bare).extend(captioned), Records.from_dicts(captioned).extend(bare)):
        grown = Records.read(grown.write(tmp_path / "rows.arrow"))
        assert sorted(map(tuple, grown.column("captions"))) == [(), ("a bee",)]
        assert all(row.get("captions", []) is not None for row in grown)


def test_values_reads_one_field_of_some_rows_in_their_order():
    records = Records.from_dicts(
        [{"path": f"/p/{i}.jpg", "label": f"c{i % 2}", "captions": [f"caption {i}"]} for i in range(5)]
    )
    assert records.values("path", [3, 0, 3]) == ["/p/3.jpg", "/p/0.jpg", "/p/3.jpg"]
    assert records.values("label", [4, 1]) == [records[4]["label"], records[1]["label"]] == ["c0", "c1"]
    assert records.values("key", [0, 2]) == [None, None]  # a field no row has
    assert records.values("path", []) == []
