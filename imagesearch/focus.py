"""Focus a search on one object by re-weighting the features with a classifier's class weights.

The talk's trick: a photo of a cat beside a bottle is near both cats and bottles; multiplying
every feature by how much the classifier's "bottle" output relies on it makes the search
about the bottle. With `vgg16` the weights are the ImageNet `predictions` columns; `vgg16-conv`
has no ImageNet head, so a linear classifier fitted on the data set's own training labels
provides them. Both reach `focused_search` as the same dim x classes matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .features import l2_normalize
from .index import exact_search
from .storage import ImageSearchError


class UnknownClassError(ImageSearchError):
    """A focus class that the classifier does not know."""


@dataclass(frozen=True)
class ClassWeights:
    weights: np.ndarray  # dim x n_classes
    classes: tuple[str, ...]
    source: str  # "imagenet" or "fitted on <data set> training split"

    def columns(self, name: str) -> list[int]:
        """The classes a focus name stands for: the exact class, else every class whose name
        contains it as a word (`cat` -> tabby, tiger cat, Persian cat, ... with ImageNet)."""
        wanted = name.strip().lower()
        columns = [i for i, c in enumerate(self.classes) if c.lower() == wanted]
        if not columns:
            columns = [i for i, c in enumerate(self.classes) if wanted in c.lower().replace(",", " ").split()]
        if not columns:
            shown = ", ".join(self.classes[:25]) + (", ..." if len(self.classes) > 25 else "")
            raise UnknownClassError(f"no class {name!r} to focus on; known classes: {shown}")
        return columns

    def vector(self, name: str) -> np.ndarray:
        """The weights of a focus name: its class's column, or the mean of its classes' columns."""
        return self.weights[:, self.columns(name)].mean(axis=1)

    def matching(self, name: str) -> list[str]:
        return [self.classes[i] for i in self.columns(name)]


def fit_class_weights(
    features: np.ndarray,
    labels: Sequence[str],
    train_rows: Sequence[int],
    *,
    source: str = "fitted",
    C: float = 10.0,
    seed: int = 0,
) -> ClassWeights:
    """A multinomial logistic regression on the unit feature vectors of the training rows."""
    from sklearn.linear_model import LogisticRegression

    x = l2_normalize(features)[np.asarray(train_rows)]
    y = np.asarray(labels)[np.asarray(train_rows)]
    classifier = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    classifier.fit(x, y)
    return ClassWeights(classifier.coef_.T.astype(np.float32), tuple(classifier.classes_), source)


def reweight(vectors: np.ndarray, class_vector: np.ndarray) -> np.ndarray:
    """Features times the class weights, back to unit length (cosine only needs the direction)."""
    return l2_normalize(np.asarray(vectors, np.float32) * np.asarray(class_vector, np.float32))


def focused_search(
    vectors: np.ndarray, query: np.ndarray, class_vector: np.ndarray, k: int, exclude: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by cosine after re-weighting both the query and the collection."""
    return exact_search(reweight(vectors, class_vector), reweight(query, class_vector), k, exclude)
