"""The joint image-word model: a small head that maps image features into word-vector space.

This is the model from Emmanuel Ameisen's talk "Building a Semantic Image Search Engine": once
images live in the same space as GloVe vectors, an image can be searched for with *any* word,
including words that were never a training label. Training runs on cached image features (never
through the CNN), so a full run takes seconds on a laptop CPU.

The module works on numpy arrays only; callers decide where features and word vectors come from
and record that in ``settings``, which is saved next to the model so a later run can refuse a
model trained for a different CNN, feature size or word-vector table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .features import l2_normalize
from .jointfiles import (
    META_FILE,
    RETRAIN_HINT,
    JointModelError,
    JointModelMismatchError,
    check_training_inputs,
    write_meta,
)
from .jointrecord import caller_settings, check_hyperparameters, training_record
from .keras_loader import keras as keras_module
from .splits import Split
from .storage import ImageSearchError, atomic_path

if TYPE_CHECKING:  # keras/tensorflow take seconds to import; only pay for them when training
    import keras

__all__ = [
    "DEFAULT_EPOCHS",
    "DEFAULT_LR",
    "JointModel",
    "JointModelError",
    "JointModelMismatchError",
    "build_joint_head",
    "load_mlp_model",
    "train_joint_model",
]

MODEL_FILE = "joint.keras"

#: Adam's own default. The head is small and the loss is bounded (cosine), so the default rate
#: converges in a few dozen epochs without tuning; BatchNorm keeps it stable.
DEFAULT_LR = 1e-3
#: At most this many epochs; early stopping usually ends training sooner.
DEFAULT_EPOCHS = 50
#: A validation-loss improvement smaller than this does not reset early stopping's patience;
#: the cosine loss lives in [-1, 1], so 1e-4 is noise.
EARLY_STOPPING_MIN_DELTA = 1e-4


def build_joint_head(
    input_dim: int, output_dim: int, *, hidden: int = 2000, dropout: float = 0.5
) -> keras.Model:
    """The talk's head: Dense(hidden) -> BN -> ReLU -> Dropout -> Dense(output_dim) -> BN.

    Uncompiled; :func:`train_joint_model` compiles it with the cosine loss. The final BatchNorm
    keeps every output dimension in use, which matters because only the direction is scored.
    """
    keras = keras_module()
    layers = keras.layers
    inputs = keras.Input(shape=(int(input_dim),), name="image_features")
    x = layers.Dense(int(hidden), name="hidden")(inputs)
    x = layers.BatchNormalization(name="hidden_bn")(x)
    x = layers.ReLU(name="hidden_relu")(x)
    x = layers.Dropout(float(dropout), name="hidden_dropout")(x)
    x = layers.Dense(int(output_dim), name="word_space")(x)
    outputs = layers.BatchNormalization(name="word_space_bn")(x)
    return keras.Model(inputs, outputs, name="joint_head")


@dataclass
class JointModel:
    """A trained head plus everything needed to trust it later: settings, history, time."""

    model: keras.Model
    history: dict[str, list[float]]
    settings: dict[str, Any]
    train_time_s: float

    @property
    def feature_dim(self) -> int:
        return int(self.model.input_shape[-1])

    @property
    def vector_dim(self) -> int:
        return int(self.model.output_shape[-1])

    @property
    def split(self) -> Split | None:
        """The split it was trained on, so evaluation can use exactly the held-out items."""
        data = self.settings.get("split")
        return Split.from_json(data) if data is not None else None

    def embed(self, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Image features -> unit vectors in word space (inference mode: no dropout, BN frozen).

        Rows are L2-normalised on the way in (as in training) and on the way out, so a dot
        product with a unit word vector is the cosine the model was trained to maximise.
        """
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.feature_dim:
            raise ImageSearchError(
                f"joint model expects features of shape (n, {self.feature_dim}), got {x.shape}; "
                f"were they computed with a different image model? (trained with "
                f"{self.settings.get('image_model', 'unknown image model')!r})"
            )
        if x.shape[0] == 0:
            return np.zeros((0, self.vector_dim), dtype=np.float32)
        x = l2_normalize(x)
        out = [
            np.asarray(self.model(x[i : i + batch_size], training=False), dtype=np.float32)
            for i in range(0, x.shape[0], batch_size)
        ]
        return l2_normalize(np.concatenate(out, axis=0))

    def save(self, folder: str | os.PathLike) -> Path:
        """Write joint.keras then joint.json, each atomically.

        joint.json goes last and names the weights' checksum, so a folder without it (or whose
        weights were swapped) is "not a model" rather than a silently inconsistent one.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta_path = folder / META_FILE
        # Retire the old metadata first: until the new json lands the folder is "not a model".
        meta_path.unlink(missing_ok=True)
        model_path = folder / MODEL_FILE
        with atomic_path(model_path) as tmp:
            staged = tmp.with_name(tmp.name + ".keras")  # keras insists on the .keras extension
            try:
                self.model.save(staged)
                os.replace(staged, tmp)
            finally:
                staged.unlink(missing_ok=True)
        write_meta(
            folder,
            model_path,
            "mlp",
            self.settings,
            self.history,
            self.train_time_s,
            keras_version=keras_module().__version__,
        )
        return folder


def train_joint_model(
    features: np.ndarray,
    targets: np.ndarray,
    split: Split,
    *,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = 32,
    seed: int = 0,
    patience: int = 10,
    hidden: int = 2000,
    dropout: float = 0.5,
    lr: float = DEFAULT_LR,
    settings: Mapping[str, Any] | None = None,
    verbose: int = 0,
) -> JointModel:
    """Fit the head so each image's output points the same way as its label's word vector.

    `features` (n x D) may be raw or L2-normalised: rows are L2-normalised here (and again in
    :meth:`JointModel.embed`) so the model does not depend on the CNN's activation scale.
    `targets` (n x d) are the word vectors of each image's label; only their direction matters.
    Only ``split.train`` rows are fitted and ``split.val`` rows drive early stopping (best weights
    restored); ``split.test`` rows are never read, so they may even hold NaN.

    Deterministic for a seed on CPU. Note this seeds Python/NumPy/TF globally and turns on TF op
    determinism for the process (keras.utils.set_random_seed, enable_op_determinism).
    `settings` is the caller's record of where the data came from (image_model, feature_dim,
    vectors, vector_dim, dataset_hash, ...); the training arguments and split are added to it.
    """
    check_hyperparameters(epochs, batch_size, patience, hidden, dropout, lr)
    x, y = check_training_inputs(features, targets, split)
    caller = caller_settings(settings, x, y)

    keras = keras_module()
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()
    _single_threaded(tf)

    x_train, y_train = l2_normalize(x[split.train]), y[split.train]
    x_val, y_val = l2_normalize(x[split.val]), y[split.val]

    model = build_joint_head(x.shape[1], y.shape[1], hidden=hidden, dropout=dropout)
    start = time.perf_counter()
    fit, stopper = _fit(model, (x_train, y_train), (x_val, y_val), epochs, batch_size, patience, lr, verbose)
    train_time_s = time.perf_counter() - start

    history = {k: [float(v) for v in fit.history.get(k, [])] for k in ("loss", "val_loss")}
    # The epoch whose weights were restored (1-based), as early stopping judged it.
    best_epoch = int(stopper.best_epoch) + 1 if stopper.best_weights is not None else None
    full_settings = {
        **caller,
        **training_record(
            x, y, split, history, best_epoch, epochs, seed, batch_size, patience, hidden, dropout, lr
        ),
    }
    return JointModel(model=model, history=history, settings=full_settings, train_time_s=train_time_s)


def _fit(model, train, val, epochs, batch_size, patience, lr, verbose):
    """Adam on the cosine loss, early stopping on the validation loss (best weights restored)."""
    keras = keras_module()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss=keras.losses.CosineSimilarity(axis=-1),
    )
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=int(patience),
        min_delta=EARLY_STOPPING_MIN_DELTA,
        restore_best_weights=True,
    )
    fit = model.fit(
        *train,
        validation_data=val,
        epochs=int(epochs),
        batch_size=int(batch_size),
        shuffle=True,
        callbacks=[stopper],
        verbose=verbose,
    )
    return fit, stopper


def _single_threaded(tf) -> None:
    """One thread for TensorFlow's ops, where the runtime has not started yet: with op
    determinism alone, two runs of the same fit on a busy 2-core machine differed (test-split
    P@10 0.093 against 0.097); the head is small, so one thread costs little."""
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow is already running in this process (e.g. the CNN ran)
        pass


def load_mlp_model(model_path: Path, meta: Mapping[str, Any]) -> JointModel:
    """The Keras head saved at `model_path`, with the metadata `heads.load_joint_model` checked."""
    keras = keras_module()
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as exc:  # keras raises many types for a damaged zip; all mean the same here
        raise JointModelError(f"cannot load {model_path}: {exc}. Retrain: {RETRAIN_HINT}") from None
    settings = meta["settings"]
    joint = JointModel(
        model=model,
        history={k: list(v) for k, v in meta.get("history", {}).items()},
        settings=settings,
        train_time_s=float(meta.get("train_time_s", float("nan"))),
    )
    for key, actual in (("feature_dim", joint.feature_dim), ("vector_dim", joint.vector_dim)):
        if key in settings and settings[key] != actual:
            raise JointModelError(
                f"{model_path} has {key}={actual} but {model_path.parent / META_FILE} says {settings[key]}. "
                f"Retrain: {RETRAIN_HINT}"
            )
    return joint
