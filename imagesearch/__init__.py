"""imagesearch: semantic image search with pretrained CNN features, Annoy and word vectors.

The public API, imported lazily so that `import imagesearch` stays fast (TensorFlow is only
loaded when an image model is needed):

    settings()                       the notebooks' data set / model / vectors, from env vars
    load_dataset(name_or_folder)     pascal-sentences, embedded, or a folder of class subfolders
    load_photos(folder, labels)      any folder of photos, flat or nested: (data set, what was left out)
    load_image_model(name)           vgg16-conv (offline) or vgg16 (the talk's)
    extract_features(dataset, model) cached, resumable features
    build_index(dataset, folder)     features + Annoy index + focus weights
    train_joint_index(folder)        the image -> word-space model, and images indexed in word space
    SearchEngine(folder)             similar images, text search, tags, similar words, focus
    load_word_vectors(name)          GloVe as gensim KeyedVectors
    duplicate_groups(vectors)        groups of near-identical photos (cosine over image features)
"""

import importlib as _importlib
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ chatter would bury our output

_API = {
    "settings": "config",
    "Settings": "config",
    "load_dataset": "datasets",
    "Dataset": "datasets",
    "load_photos": "photos",
    "duplicate_groups": "duplicates",
    "load_image_model": "models",
    "extract_features": "features",
    "build_index": "indexing",
    "train_joint_index": "indexing",
    "SearchEngine": "engine",
    "load_word_vectors": "glove",
    "ImageSearchError": "storage",
}
__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        return getattr(_importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'imagesearch' has no attribute {name!r}")
