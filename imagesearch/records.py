"""The rows of an index (path, label, key, captions), stored by column in an Arrow file.

A million photos as a JSON list of dicts is ~300 MB of text that must be parsed whole, into a
million Python dicts, before the first query. Columns in an Arrow IPC file (Feather v2,
uncompressed) are memory-mapped instead: opening costs nothing, a row becomes a dict only when
it is read, and a path lookup reads one column. Arrow rather than Parquet: Parquet must be
decoded into memory to be read; an Arrow file is read where it lies, like the vectors' `.npy`.
pyarrow is imported when records are first read (not pandas: 0.3 s to import).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .storage import atomic_path

#: the columns every index has, with their Arrow types; any other key becomes a column too
KNOWN = {"path": "string", "label": "string", "key": "string", "captions": "list<string>"}


def _type(name: str):
    import pyarrow as pa

    return {"string": pa.string(), "list<string>": pa.list_(pa.string())}[KNOWN[name]]


LISTS = [name for name, kind in KNOWN.items() if kind.startswith("list")]


def _value(row: dict[str, Any], name: str) -> Any:
    """A row's field; [] for a list column the row lacks (callers do `row.get("captions", [])`)."""
    value = row.get(name)
    return [] if value is None and name in LISTS else value


def _with_lists(table, other):
    """`table` with an empty list in each row for the list columns only `other` has, so that
    rows extended from an index without captions read [] rather than None."""
    import pyarrow as pa

    for name in LISTS:
        if name in other.column_names and name not in table.column_names:
            table = table.append_column(name, pa.array([[]] * table.num_rows, _type(name)))
    return table


class Records(Sequence):
    """A read-only sequence of row dicts over an Arrow table (memory-mapped when read)."""

    def __init__(self, table):
        self._table = table

    @classmethod
    def from_dicts(cls, rows: Iterable[dict[str, Any]]) -> Records:
        import pyarrow as pa

        rows = list(rows)
        names = list(dict.fromkeys(name for row in rows for name in row))
        columns = {
            name: pa.array([_value(row, name) for row in rows], type=_type(name) if name in KNOWN else None)
            for name in names
        }
        return cls(pa.table(columns) if columns else pa.table({"path": pa.array([], pa.string())}))

    @classmethod
    def read(cls, path: str | os.PathLike) -> Records:
        """Memory-map an Arrow file written by `write`: no row is read until asked for."""
        import pyarrow as pa

        with pa.memory_map(str(path), "r") as source:
            return cls(pa.ipc.open_file(source).read_all())

    def write(self, path: str | os.PathLike) -> Path:
        import pyarrow as pa

        with atomic_path(path) as tmp:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, self._table.schema) as writer:
                writer.write_table(self._table, max_chunksize=65536)
        return Path(path)

    def __len__(self) -> int:
        return self._table.num_rows

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"record {row} out of range ({len(self)} records)")
        return self._table.slice(row, 1).to_pylist()[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in self._table.to_batches(max_chunksize=4096):
            yield from batch.to_pylist()

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def column(self, name: str) -> list[Any]:
        """One field of every row (None where a row has none), without building the dicts."""
        if name not in self._table.column_names:
            return [None] * len(self)
        return self._table.column(name).to_pylist()

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        """Field `name` of the given rows, in their order, without building their dicts: a
        result list needs each result's path and label, not its captions (a row as a dict costs
        more than the nearest-neighbour search that found it). Element by element: `take` would
        import pyarrow.compute, 0.3 s, into every query's process."""
        if name not in self._table.column_names:
            return [None] * len(rows)
        column = self._table.column(name)
        return [column[row].as_py() for row in rows]

    def with_column(self, name: str, values: Sequence[Any]) -> Records:
        """These rows with field `name` replaced (or added) by `values`, the other columns shared."""
        import pyarrow as pa

        column = pa.array(list(values), type=_type(name) if name in KNOWN else None)
        names = self._table.column_names
        if name in names:
            return Records(self._table.set_column(names.index(name), name, column))
        return Records(self._table.append_column(name, column))

    def extend(self, rows: Records | Sequence[dict[str, Any]]) -> Records:
        """These rows, then `rows` (the tables are chained, not copied)."""
        import pyarrow as pa

        other = rows if isinstance(rows, Records) else Records.from_dicts(rows)
        if not len(self):
            return other
        if not len(other):
            return self
        tables = [_with_lists(self._table, other._table), _with_lists(other._table, self._table)]
        return Records(pa.concat_tables(tables, promote_options="permissive"))

    def take(self, rows: Sequence[int]) -> Records:
        import pyarrow as pa

        return Records(self._table.take(pa.array(rows, pa.int64())))


def item_records(dataset, rows: Iterable[int]) -> list[dict[str, Any]]:
    """The records (path, label, key, captions) of a data set's items at `rows`."""
    return [
        {
            "path": str(dataset[i].path),
            "label": dataset[i].label,
            "key": dataset[i].key,
            "captions": list(dataset[i].captions),
        }
        for i in rows
    ]
