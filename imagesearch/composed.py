"""Composed queries: "this photo, but with these words", one vector in the joint word space.

The photo's word-space vector (what the joint model says the photo shows) plus lambda times
the words' unit vector, searched by cosine among the images' word-space vectors. Both parts
live in the same space, so the sum asks for images near the photo's words *and* the new ones.
Lambda was chosen by measurement on validation queries (README "Steering a search"; the
experiment is `imagesearch.experiments.steering.composed_figures`) with the default joint
model, the caption-trained ridge: with the talk's label-only model the images' vectors say
nothing but the class, and no lambda beat the photo alone.
"""

from __future__ import annotations

import numpy as np

from .features import l2_normalize as unit

#: lambda: the words' weight against the photo's (both unit length); see the module docstring.
WORDS_WEIGHT = 0.375


def composed_vector(image_joint: np.ndarray, words: np.ndarray, weight: float = WORDS_WEIGHT) -> np.ndarray:
    """unit(unit(photo's word-space vector) + weight x unit(words' vector))."""
    return unit(unit(image_joint) + weight * unit(words))
