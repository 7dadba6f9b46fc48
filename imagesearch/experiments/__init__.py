"""Experiments: the protocols that produce the README's and the notebooks' figures.

Each one sets up a measurement on an engine or on vectors (which rows query, what is held out,
what is timed) and scores it with imagesearch.metrics:

- language: words -> images and tags on the test split, with the zero-shot held-out classes;
- focus: photos (or collages) of two objects, and how far focus moves a search toward one;
- trees: Annoy's recall against its speed, per number of trees.
"""

from .captionwords import default_caption_words
from .focus import TwoObjectQuery, focus_gain, focus_protocol, pick_two_object_examples, two_object_queries
from .language import evaluate_engine, heldout_classes, split_examples
from .trees import annoy_recall, trees_tradeoff

__all__ = [
    "TwoObjectQuery",
    "annoy_recall",
    "default_caption_words",
    "evaluate_engine",
    "focus_gain",
    "focus_protocol",
    "heldout_classes",
    "pick_two_object_examples",
    "split_examples",
    "trees_tradeoff",
    "two_object_queries",
]
