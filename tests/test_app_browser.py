"""`make app` for real: Voila serves the app notebook (app/search_box.ipynb), and headless
Chromium checks that the page is the search box alone (none of notebook 07's tutorial text),
types a query and presses Enter, likes a result, and sees the results change.

The browser and Voila are driven by scripts/app_browser.py, the same code that takes the
committed screenshot (`make screenshot`). The screenshot of each run is kept in
results/test-artifacts/ with Voila's log, for a person to look at when the test fails.
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from scripts import app_browser

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "notebooks" / "07_search_box.ipynb"
ARTIFACTS = ROOT / "results" / "test-artifacts"
QUERY = "telephone"

SCREENSHOT = ROOT / "docs" / "images" / "search-box.png"  # the committed one (make screenshot)
needs_chromium = pytest.mark.skipif(
    app_browser.chromium() is None,
    reason="needs Chromium for the browser test: apt-get install -y chromium (Debian) or put chromium on PATH",
)


def tutorial_headings() -> list[str]:
    """The markdown headings of notebook 07: text the app must not show."""
    cells = json.loads(TUTORIAL.read_text(encoding="utf-8"))["cells"]
    lines = ("".join(c["source"]).splitlines() for c in cells if c["cell_type"] == "markdown")
    return [line.lstrip("#").strip() for block in lines for line in block if line.startswith("#")]


@pytest.fixture
def app_home(embedded_joint, words_home, tmp_path):
    """An IMAGESEARCH_HOME where settings().engine() finds the embedded index and its joint model
    (trained once per session by the fixture), so that Voila builds nothing."""
    from imagesearch.config import Settings

    home = tmp_path / "home"
    shutil.copytree(embedded_joint, home / "indexes" / Settings("embedded").index_dir.name)
    (home / "vectors").symlink_to(words_home / "vectors", target_is_directory=True)
    return home


@pytest.fixture
def app_url(app_home):
    env = {**os.environ, "IMAGESEARCH_DATASET": "embedded", "IMAGESEARCH_HOME": str(app_home)}
    for name in ("IMAGESEARCH_MODEL", "IMAGESEARCH_VECTORS"):
        env.pop(name, None)
    try:
        with app_browser.voila(env, ARTIFACTS / "voila.log") as url:
            yield url
    except RuntimeError as error:  # Voila did not start: the log says why
        pytest.fail(str(error))


@pytest.fixture
def page():
    with app_browser.browser() as devtools:
        yield devtools


@pytest.mark.slow
@needs_chromium
def test_the_app_is_the_box_alone_and_a_query_then_a_like_change_the_results(app_url, page):
    headings = tutorial_headings()
    assert len(headings) >= 5  # 07's title and its sections: what this test looks for
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "search_box.png"
    screenshot.unlink(missing_ok=True)
    try:
        state = app_browser.open_box(page, app_url)
        assert not state["errors"], state["errors"]
        shown = [h for h in headings if h in state["text"]]
        assert not shown, f"the app shows the tutorial's text: {shown}"
        assert "box.report()" not in state["text"]

        page.evaluate(f"(i => {{ i.focus(); i.select(); }})({app_browser.QUERY_INPUT})")
        page.type_text(QUERY)
        time.sleep(1)  # were the box to search per keystroke, a search would have started by now
        assert QUERY not in page.state()["status"]
        page.press_enter()
        found = page.wait_for(
            lambda s: f"for '{QUERY}'" in s["status"] and app_browser.results_shown(s),
            60,
            f"result images for {QUERY!r}",
        )
        assert found["images"] == 8  # the box's default number of results
        assert found["captions"][0].startswith(f"1. {QUERY}")
        assert sum(QUERY in caption for caption in found["captions"]) >= 4
        assert not any(found["liked"])

        liked = app_browser.like(page, len(found["captions"]) - 1)  # the last one: the ranks must move
        assert f"8 images for '{QUERY}', 1 liked" in liked["status"]
        assert liked["images"] == 8
        assert sum(liked["liked"]) == 1  # the liked image stays in the list, its toggle on
        assert liked["captions"] != found["captions"]  # the search moved toward the liked image
        assert not liked["errors"], liked["errors"]
    finally:
        screenshot.write_bytes(page.screenshot())
    assert screenshot.stat().st_size > 10_000


def test_notebook_07_shows_the_committed_screenshot_where_widgets_do_not_render():
    from PIL import Image

    with Image.open(SCREENSHOT) as image:
        assert image.format == "PNG" and image.width <= app_browser.SCREENSHOT_WIDTH
    assert SCREENSHOT.stat().st_size <= app_browser.MAX_SCREENSHOT_BYTES
    cells = json.loads(TUTORIAL.read_text(encoding="utf-8"))["cells"]
    box = next(i for i, c in enumerate(cells) if "SearchBox(engine)" in "".join(c["source"]))
    after = cells[box + 1]  # right under the live box
    assert after["cell_type"] == "markdown" and "../docs/images/search-box.png" in "".join(after["source"])
