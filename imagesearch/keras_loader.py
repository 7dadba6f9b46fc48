"""Importing Keras (and TensorFlow) once, quietly, and only when a model is needed.

TensorFlow's C++ runtime writes start-up notices straight to file descriptor 2 when it is
imported, bypassing Python's logging; in a notebook they land in the cell output with
timestamps and process ids. We silence that one moment, and nothing else.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def keras():
    """The keras module; TensorFlow is imported under it only on first call."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        import keras as module

        return module
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras as module
            import tensorflow  # noqa: F401  (initialised now, while fd 2 is silenced)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return module
