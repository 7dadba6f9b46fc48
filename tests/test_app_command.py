"""`python -m imagesearch app DIR` (imagesearch/serve.py): Voila serves the search box over an
index folder. The served page is fetched over loopback; the browser test (test_app_browser.py)
drives the box itself."""

import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from imagesearch import cli, serve
from scripts.app_browser import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
needs_voila = pytest.mark.skipif(
    importlib.util.find_spec("voila") is None, reason="needs Voila (the dev extra): pip install voila"
)


def fetch_page(url: str, process: subprocess.Popen, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return response.read().decode("utf-8")
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.slow
@needs_voila
def test_app_serves_the_search_box_over_an_index_folder(embedded_joint, words_home, tmp_path):
    port = free_port()
    env = {**os.environ, "IMAGESEARCH_HOME": str(words_home), "PYTHONPATH": str(ROOT)}
    env.pop(serve.INDEX_ENV, None)
    log = tmp_path / "app.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "imagesearch", "app", str(embedded_joint), "--port", str(port)],
            cwd=tmp_path,  # the kernel must find the index without the repository's folder
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            page = fetch_page(f"http://localhost:{port}/", process)
        except OSError as error:
            pytest.fail(f"no page ({error}): {log.read_text(errors='replace')[-3000:]}")
        finally:
            stop(process)
    assert "Image search" in page  # the app notebook's title
    assert "SearchBox over 120 images" in page  # the box's cell ran, over the embedded index
    assert "Traceback" not in page and "error when executing" not in page.lower()
    assert process.returncode is not None


def test_app_refuses_a_folder_that_is_no_index(tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(b"")
    assert cli.main(["app", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "is not an index folder" in error and "imagesearch index" in error and "Traceback" not in error
    assert cli.main(["app", str(tmp_path / "missing")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_app_without_voila_says_how_to_install_it(embedded_index, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "voila" else real(name, *a)
    )
    assert cli.main(["app", str(embedded_index)]) == 1
    assert "pip install 'voila" in capsys.readouterr().err


def test_app_notebook_is_the_one_the_repository_serves():
    """`make app` serves app/search_box.ipynb; `app DIR` writes the same notebook."""
    committed = json.loads((ROOT / "app" / "search_box.ipynb").read_text(encoding="utf-8"))
    assert committed == serve.app_notebook()


def test_app_engine_opens_the_folder_the_variable_names(embedded_index, monkeypatch):
    monkeypatch.setenv(serve.INDEX_ENV, str(embedded_index))
    assert len(serve.app_engine().images) == 120
