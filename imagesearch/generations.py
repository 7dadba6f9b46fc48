"""Saving an index folder's next generation, and clearing out the ones before it.

An index's JSON names its generation (layout.py); a save writes every file of a generation
the JSON does not name yet, then the JSON, then deletes the files of any other generation.
Saving over the committed generation (a loaded index saved back unchanged) therefore starts a
new one rather than rewriting files that readers may have open, and carries the focus maps
over when none are given: the index still has them. A file that cannot be deleted yet (on
Windows, one this process still memory-maps) is left for a later save, which removes every
stale generation it finds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .layout import ANN_SUFFIXES, GenerationFiles, index_file

_SUFFIXES = "|".join(re.escape(s) for s in (*ANN_SUFFIXES.values(), ".npy", ".items.arrow", ".maps.npy"))


def committed_files(folder: Path, name: str, metadata: dict[str, Any]) -> GenerationFiles:
    """The files of the generation a folder's index JSON (`metadata`) names."""
    return index_file(folder, name, metadata.get("backend", "annoy"), int(metadata.get("generation", 0)))


def save_generation(own: int, committed: dict[str, Any] | None) -> int:
    """The generation a save writes: its own, unless that is (or precedes) the committed one."""
    if committed is None:
        return own
    return max(own, int(committed.get("generation", 0)) + 1)


def generation_files(folder: Path, name: str) -> list[Path]:
    """Every file of any generation of index `name` in `folder` (temporary files excluded)."""
    pattern = re.compile(rf"{re.escape(name)}(\.g\d+)?({_SUFFIXES})")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def remove_stale(folder: Path, name: str, keep: GenerationFiles) -> list[Path]:
    """Delete the files of every generation but `keep`'s; return those that could not be (still
    memory-mapped on Windows: a later save retries)."""
    left = []
    for path in generation_files(folder, name):
        if path in keep:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError:
            left.append(path)
    return left
