"""imagededup's perceptual hash (PHash) of image files: JSON list of paths on stdin, {path: hex hash}
on stdout. Run by bench/duplicates.py with the Python of a separate environment that has imagededup
(it is no dependency of imagesearch: it pulls in PyTorch):

    python -m venv .venv-bench && .venv-bench/bin/pip install imagededup

imagededup's package imports its CNN module (torchvision) even for the hashes. Where torchvision
cannot be loaded (here: PyPI's torchvision, a CUDA build, beside a CPU-only torch), `--no-cnn` puts
an empty stand-in for that one module (`imagededup.utils.models`) so that the hashing code, which
never uses it, runs unchanged.
"""

from __future__ import annotations

import json
import sys
import types


def main() -> int:
    if "--no-cnn" in sys.argv:
        stub = types.ModuleType("imagededup.utils.models")
        stub.CustomModel = stub.MobilenetV3 = stub.DEFAULT_MODEL_NAME = None
        sys.modules["imagededup.utils.models"] = stub
    import imagededup
    from imagededup.methods import PHash

    hasher = PHash(verbose=False)
    paths = json.load(sys.stdin)
    hashes = {path: hasher.encode_image(image_file=path) for path in paths}
    json.dump({"imagededup": imagededup.__version__, "hashes": hashes}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
