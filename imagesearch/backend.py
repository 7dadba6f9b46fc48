"""The Keras loader's old name, kept for code that imports it: see `keras_loader`."""

from .keras_loader import keras  # noqa: F401
