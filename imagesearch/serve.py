"""The search box as a page of its own over any index folder: `python -m imagesearch app DIR`.

Voila serves a two-cell notebook (the one in app/search_box.ipynb: a title and the box), whose
kernel opens the index folder that $IMAGESEARCH_INDEX names. Without that variable the page
searches the notebooks' settings' engine (`make app`). The notebook is written to a temporary
folder, so an installed package serves it without the repository.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .folder import IndexFolder
from .storage import ImageSearchError

INDEX_ENV = "IMAGESEARCH_INDEX"
DEFAULT_PORT = 8866
TITLE = "## Image search\n\nType words and press Enter, or pick an image. Like or unlike results to steer the search."
BOX_CODE = (
    "# The whole app: the package's search box over the index folder $IMAGESEARCH_INDEX names\n"
    "# (else the settings' engine, IMAGESEARCH_* variables). `python -m imagesearch app DIR` and\n"
    "# `make app` serve this notebook with Voila; the tutorial is notebooks/07_search_box.ipynb.\n"
    "from imagesearch.serve import app_box\n"
    "\n"
    "app_box()"
)
VOILA_MISSING = (
    "the app needs Voila, which is not installed in this Python: "
    "pip install 'voila>=0.5.13,<0.6' (it comes with the package's dev extra)"
)


def index_engine(folder: str | os.PathLike):
    """A SearchEngine over `folder`, or an error that says it is no index folder and how to make one."""
    from .engine import SearchEngine

    path = Path(folder)
    if not path.is_dir():
        raise ImageSearchError(
            f"{path} is not a folder: give an index folder (made by `python -m imagesearch index`)"
        )
    if not IndexFolder(path).has():
        raise ImageSearchError(
            f"{path} is not an index folder (it has no images.json): make one with "
            f"`python -m imagesearch index PHOTOS --out {path}`"
        )
    return SearchEngine(path)


def app_engine():
    """What the app page searches: the index folder $IMAGESEARCH_INDEX names, else the
    notebooks' settings' engine (built on first use)."""
    if os.environ.get(INDEX_ENV):
        return index_engine(os.environ[INDEX_ENV])
    from .config import settings

    return settings().engine(progress=False)


def app_box():
    """The app page's one output: a SearchBox over `app_engine()`."""
    from .widgets import SearchBox

    return SearchBox(app_engine())


def app_notebook() -> dict:
    """The app notebook (nbformat 4), as app/search_box.ipynb holds it."""

    def cell(kind: str, name: str, source: str) -> dict:
        extra = {"execution_count": None, "outputs": []} if kind == "code" else {}
        return {
            "cell_type": kind,
            "id": name,
            "metadata": {},
            **extra,
            "source": source.splitlines(keepends=True),
        }

    return {
        "cells": [cell("markdown", "app-title", TITLE), cell("code", "app-box", BOX_CODE)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def serve(
    folder: str | os.PathLike, *, port: int = DEFAULT_PORT, host: str = "localhost", browser: bool = False
) -> int:
    """Serve the search box over `folder` until Ctrl+C; Voila's exit status."""
    index_engine(folder)  # a folder that is no index fails here, before any server starts
    if importlib.util.find_spec("voila") is None:
        raise ImageSearchError(VOILA_MISSING)
    if not port_free(host, port):
        raise ImageSearchError(f"port {port} is in use (another app?): choose another with --port")
    package_root = str(Path(__file__).resolve().parents[1])  # the kernel imports this same package
    env = {
        **os.environ,
        INDEX_ENV: str(Path(folder).resolve()),
        "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p),
    }
    with tempfile.TemporaryDirectory(prefix="imagesearch-app-") as tmp:
        notebook = Path(tmp) / "search_box.ipynb"
        notebook.write_text(json.dumps(app_notebook(), indent=1), encoding="utf-8")
        command = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--Voila.ip={host}"]
        command.append("--Voila.open_browser=True" if browser else "--no-browser")
        print(f"the search box over {folder}: http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
        process = subprocess.Popen(command, env=env, cwd=tmp)
        stopped = []

        def stop(*_) -> None:  # `kill` stops Voila too
            stopped.append(True)
            process.terminate()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop)
        try:
            code = process.wait()
            return 0 if stopped else code
        except KeyboardInterrupt:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)  # Voila got the Ctrl+C too, and shuts its kernels down
            if process.poll() is None:
                process.terminate()
                process.wait()
            print("stopped", file=sys.stderr)
            return 0


def add_app_parser(sub) -> None:
    """`app DIR [--port P] [--host H] [--browser]` (cli.py registers it)."""
    p = sub.add_parser("app", help="serve the search box over an index folder as a web page (needs Voila)")
    p.add_argument("folder", help="an index folder (made by `python -m imagesearch index`)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument(
        "--host", default="localhost", help="address to listen on (default localhost: this machine only)"
    )
    p.add_argument("--browser", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=cmd_app)


def cmd_app(args) -> int:
    return serve(args.folder, port=args.port, host=args.host, browser=args.browser)
