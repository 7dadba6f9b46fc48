"""Focus a search on one object of the query photo.

A photo of a cat beside a bottle is near both cats and bottles. Two ways to make it about the
bottle, both driven by a classifier's class weights (a dim x classes matrix):

- `focused_query` (vgg16-conv, an index with convolution maps): the classifier, weights and
  intercept, is applied at each of the 7 x 7 positions of the query's last-conv map, softmax
  over the classes; the positions are pooled under the focused class's probability squared,
  minus half the map pooled over the other positions. The photo's other objects drop out of
  the query (and push it away) instead of being scaled; the collection stays plain features.
- `reweight` / `focused_search`: the talk's trick, every feature times how much the class's
  output relies on it, on the query and the collection. The only way for `vgg16` (its fc2
  features have no spatial map; its weights are the ImageNet `predictions` columns) and for an
  index built without maps (`index --no-maps`, or built before maps were kept).

`vgg16-conv` has no ImageNet head: a logistic regression fitted on the data set's own training
labels provides its weights (and intercept; class_weights.npz files written before the
intercept was stored read as intercept 0).
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


class NoClassesError(ImageSearchError):
    """A collection with fewer than two classes: it has no class focus."""


MIN_FOCUS_CLASSES = 2


def focus_classes(labels: Sequence[str], rows: Sequence[int]) -> list[int]:
    """The rows that can teach focus (those with a label), or [] when they hold fewer than two
    classes: a flat, unlabelled or one-class collection simply has no class focus."""
    labelled = [int(r) for r in rows if labels[int(r)]]
    return labelled if len({labels[r] for r in labelled}) >= MIN_FOCUS_CLASSES else []


@dataclass(frozen=True)
class ClassWeights:
    weights: np.ndarray  # dim x n_classes
    classes: tuple[str, ...]
    source: str  # "imagenet" or "fitted on <data set> training split"
    intercept: np.ndarray | None = None  # n_classes; None (old files, ImageNet): zeros

    @property
    def intercepts(self) -> np.ndarray:
        if self.intercept is None:
            return np.zeros(len(self.classes), np.float32)
        return np.asarray(self.intercept, np.float32)

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
    """A multinomial logistic regression on the unit feature vectors of the training rows.

    Fitted in float64: in float32 the solver stops at a point that depends on the order of its
    sums (the thread count), and the weights, hence the focus figures, differ by machine."""
    from sklearn.linear_model import LogisticRegression

    x = l2_normalize(features).astype(np.float64)[np.asarray(train_rows, dtype=np.int64)]
    y = np.asarray(labels)[np.asarray(train_rows, dtype=np.int64)]
    if len(set(y.tolist())) < MIN_FOCUS_CLASSES:
        raise NoClassesError(
            f"focus needs photos of at least {MIN_FOCUS_CLASSES} classes to learn from, and these training "
            f"photos have {len(set(y.tolist()))} ({', '.join(sorted(set(y.tolist()))) or 'no labels'})."
        )
    classifier = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    classifier.fit(x, y)
    return ClassWeights(
        classifier.coef_.T.astype(np.float32),
        tuple(classifier.classes_),
        source,
        classifier.intercept_.astype(np.float32),
    )


def position_weights(
    maps: np.ndarray,
    weights: np.ndarray,
    intercept: np.ndarray,
    columns: Sequence[int],
    *,
    power: float = 2.0,
) -> np.ndarray:
    """How much each position of each map shows the class (n x positions, rows sum to 1).

    The classifier (all classes) scores every position, scaled by 1 / |GAP| so that the
    positions' logits average to the image's; softmax over the classes; the probability of the
    focused class (summed over `columns`), to `power`. Unlike one class's activation map, a
    position that another class explains better (the person beside the table) drops out even
    when it also scores high for the focused class.
    """
    m = np.asarray(maps, np.float32)
    m = m.reshape(m.shape[0], -1, m.shape[-1])
    norm = np.maximum(np.linalg.norm(m.mean(axis=1), axis=1), 1e-12)[:, None, None]
    logits = (m / norm) @ np.asarray(weights, np.float32) + np.asarray(intercept, np.float32)
    p = np.exp(logits - logits.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    a = p[:, :, list(columns)].sum(axis=2) ** power
    total = a.sum(axis=1, keepdims=True)
    return np.where(total > 0, a / np.maximum(total, 1e-12), 1.0 / a.shape[1])


def class_map(
    query_map: np.ndarray,
    weights: np.ndarray,
    intercept: np.ndarray,
    columns: Sequence[int],
    *,
    power: float = 2.0,
) -> np.ndarray:
    """One photo's class map: `position_weights` of its h x w x c map, as an h x w grid (sums to 1).
    What focus pools under, and what `diagrams.class_map_figure` draws over the photo."""
    m = np.asarray(query_map, np.float32)
    return position_weights(m[None], weights, intercept, columns, power=power)[0].reshape(m.shape[:2])


def focused_query(
    query_map: np.ndarray,
    weights: np.ndarray,
    intercept: np.ndarray,
    columns: Sequence[int],
    *,
    power: float = 2.0,
    push: float = 0.5,
) -> np.ndarray:
    """A query vector about one object: the map pooled under `position_weights`, minus `push`
    times the map pooled over the rest (1 - weight / max weight), unit length. Compared by
    cosine with the collection's plain features (focusing those too measured worse)."""
    m = np.asarray(query_map, np.float32).reshape(-1, np.shape(query_map)[-1])
    a = position_weights(m[None], weights, intercept, columns, power=power)[0]
    rest = 1.0 - a / max(float(a.max()), 1e-12)
    rest /= max(float(rest.sum()), 1e-12)
    return l2_normalize(l2_normalize(a @ m) - push * l2_normalize(rest @ m))


def reweight(vectors: np.ndarray, class_vector: np.ndarray) -> np.ndarray:
    """Features times the class weights, back to unit length (cosine only needs the direction)."""
    return l2_normalize(np.asarray(vectors, np.float32) * np.asarray(class_vector, np.float32))


def focused_search(
    vectors: np.ndarray, query: np.ndarray, class_vector: np.ndarray, k: int, exclude: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by cosine after re-weighting both the query and the collection."""
    return exact_search(reweight(vectors, class_vector), reweight(query, class_vector), k, exclude)
