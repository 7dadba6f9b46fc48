"""imagesearch: semantic image search with pretrained CNN features, Annoy and word vectors."""
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ chatter would bury our output
