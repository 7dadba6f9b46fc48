"""Small real building blocks for tests: tiny images, data sets and a tiny Keras image model."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from imagesearch.models import ImageModel

ROOT = Path(__file__).resolve().parents[1]
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def make_colour_dataset(root: Path, per_class: int = 6, size: int = 40, seed: int = 0) -> Path:
    """Class folders of noisy single-colour images: trivially separable by mean colour."""
    rng = np.random.default_rng(seed)
    for name, colour in COLOURS.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            noise = rng.integers(-25, 25, size=(size, size, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{i:02d}.png")
    return root


class TinyModel(ImageModel):
    """Mean colour per channel through a real Keras graph; counts its batches."""

    def __init__(self, fail_after: int | None = None):
        import keras

        inputs = keras.Input((32, 32, 3))
        outputs = keras.layers.GlobalAveragePooling2D()(inputs)
        super().__init__(
            "tiny", 3, "tiny-v1", keras.Model(inputs, outputs), lambda x: x / 255.0, input_size=(32, 32)
        )
        self.calls = 0
        self.batch_sizes: list[int] = []
        self.fail_after = fail_after

    def embed_batch(self, images):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated Ctrl-C")
        self.calls += 1
        self.batch_sizes.append(len(images))
        return super().embed_batch(images)


class LoopbackServer:
    """http.server on 127.0.0.1:<free port> serving a folder, counting GET requests by path."""

    def __init__(self, root: Path):
        requests: list[str] = []
        lock = threading.Lock()

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    requests.append(self.path.lstrip("/"))
                super().do_GET()

            def log_message(self, format, *args):  # keep test output quiet
                pass

        self.requests = requests
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def key_of(engine, label: str) -> str:
    """The item key of the first indexed image of a class."""
    return next(item["key"] for item in engine.images.records if item["label"] == label)


def run_cli(*args, home: Path) -> subprocess.CompletedProcess:
    """`python -m imagesearch ARGS` as a user runs it, with this checkout's package and its own home."""
    env = {**os.environ, "IMAGESEARCH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "imagesearch", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def pypi_reachable() -> bool:
    try:
        with socket.create_connection(("pypi.org", 443), timeout=5):
            return True
    except OSError:
        return False
