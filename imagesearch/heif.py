"""Phone photos (HEIC/HEIF) through the optional `pillow-heif` plugin.

iPhones save HEIC by default, and Pillow cannot read it alone. `pillow-heif` (maintained, binary
wheels for Linux, macOS and Windows) registers an opener with Pillow; it is an optional
dependency (`pip install 'imagesearch[heic]'`), so a collection without phone photos never needs
it, and one with them gets a message that names the file and the install command.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

HEIF_EXTENSIONS = frozenset({".heic", ".heif"})
HEIF_INSTALL = "pip install 'imagesearch[heic]'  (or: pip install pillow-heif)"


def is_heif(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in HEIF_EXTENSIONS


def heif_available() -> bool:
    """Is pillow-heif installed? (Checked without importing it.)"""
    return importlib.util.find_spec("pillow_heif") is not None


@lru_cache(maxsize=1)
def register_heif() -> bool:
    """Register pillow-heif's opener with Pillow, once; False when it is not installed."""
    if not heif_available():
        return False
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return True


def heif_missing_reason(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be read here (a HEIC/HEIF photo without the plugin), or None."""
    if is_heif(path) and not register_heif():
        return f"a HEIC/HEIF phone photo, which needs the optional reader: {HEIF_INSTALL}"
    return None
