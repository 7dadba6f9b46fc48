"""imagesearch: semantic image search with pretrained CNN features, Annoy and word vectors."""
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides our output
