"""Approximate nearest-neighbour backends behind one interface (`NeighbourBackend`, base.py),
over unit vectors, and the registry of those an index can be built with.

Annoy (annoy_forest.py, the talk's) stays the default: small collections, the notebooks,
byte-identical builds; updates rebuild it. usearch (hnsw.py) is the backend for large
collections: it adds and removes in place. Each library is imported when first used
(usearch never for Annoy).
"""

from __future__ import annotations

from typing import Any

from .annoy_forest import DEFAULT_TREES, NO_ANNOY, NPY_MAGIC, AnnoyBackend, ExactForest, annoy_index_class
from .base import BackendError, NeighbourBackend, cosine_from_angular
from .hnsw import PRESETS, SERIAL_UP_TO, UsearchBackend, insert_threads

__all__ = [
    "BACKENDS",
    "DEFAULT_TREES",
    "NO_ANNOY",
    "NPY_MAGIC",
    "PRESETS",
    "REGISTRY",
    "SERIAL_UP_TO",
    "AnnoyBackend",
    "BackendError",
    "ExactForest",
    "NeighbourBackend",
    "UsearchBackend",
    "annoy_index_class",
    "backend_class",
    "build_options",
    "cosine_from_angular",
    "insert_threads",
    "make_backend",
    "register_backend",
]

#: The backends an index can be built with: name -> (class, preset settings). A new backend is
#: one class that meets `NeighbourBackend` plus one `register_backend` call.
REGISTRY: dict[str, tuple[type[NeighbourBackend], dict[str, Any]]] = {}


def register_backend(
    name: str, backend: type[NeighbourBackend], preset: dict[str, Any] | None = None
) -> None:
    """Make `backend` (with `preset` settings under its own name) buildable as `name`."""
    REGISTRY[name] = (backend, dict(preset or {}))


register_backend("annoy", AnnoyBackend)
register_backend("usearch", UsearchBackend)
for _name, _preset in PRESETS.items():
    register_backend(_name, UsearchBackend, _preset)
BACKENDS = tuple(REGISTRY)  # the built-in ones, which the command line offers


def backend_class(name: str) -> type[NeighbourBackend]:
    if name not in REGISTRY:
        raise BackendError(f"unknown index backend {name!r}: choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[name][0]


def build_options(name: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Backend `name`'s build options (its declared `options`): those given over its defaults.
    An option it does not take is an error, never dropped (e.g. Annoy's trees for usearch)."""
    declared = tuple(getattr(backend_class(name), "options", ()))
    unknown = sorted(set(options or {}) - set(declared))
    if unknown:
        takes = f"its options: {', '.join(declared)}" if declared else "it takes none"
        raise BackendError(f"the {name} backend takes no {unknown[0]}= option ({takes}): leave it out.")
    resolved = make_backend(name, 0, options).settings()
    return {key: resolved[key] for key in declared}


def make_backend(name: str, dim: int, settings: dict[str, Any] | None = None) -> NeighbourBackend:
    """The backend `name` with its preset, then its recorded settings (unknown keys ignored)."""
    backend_class(name)  # an unknown name fails here
    backend, preset = REGISTRY[name]
    return backend.from_settings(dim, {**preset, **dict(settings or {})})
