#!/usr/bin/env python3
"""The app (`make app`: Voila serving app/search_box.ipynb) driven by headless Chromium.

One driver for two users: tests/test_app_browser.py checks the page as a person would use it,
and `make screenshot` (this script's main) writes the committed picture of the box in use that
notebook 07 shows where widgets do not render (GitHub). Chromium is driven through its DevTools
protocol over a websocket (`websocket-client`, which jupyter_server already installs), so no
WebDriver is needed.

    python -m scripts.app_browser --query "sheep on grass" --out docs/images/search-box.png
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "search_box.ipynb"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SCREENSHOT_WIDTH = 960  # px: the committed picture reads at GitHub's width without scaling
SCREENSHOT_QUERY = "sheep on grass"  # notebook 07's first driven query
MAX_SCREENSHOT_BYTES = 300_000

# What the page shows, as the user would read it: status line, loaded result images, captions,
# which results are liked, and the page's whole text (to find tutorial text that must not be there).
PAGE_STATE = """JSON.stringify({
  input: !!document.querySelector('.imagesearch-query input'),
  status: (document.querySelector('.imagesearch-status') || {}).innerText || '',
  images: [...document.querySelectorAll('.imagesearch-result img')]
          .filter(img => img.complete && img.naturalWidth > 0).length,
  captions: [...document.querySelectorAll('.imagesearch-caption')].map(c => c.innerText),
  liked: [...document.querySelectorAll('.imagesearch-result')].map(r =>
          [...r.querySelectorAll('.imagesearch-mark button.mod-active')].some(b => b.innerText.trim() === 'like')),
  errors: [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type*="error"]')]
          .map(e => e.innerText.slice(0, 300)),
  text: document.body ? document.body.innerText : '',
})"""


def chromium() -> str | None:
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Process ids below `pid` (Voila's kernel runs in a session of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop(process: subprocess.Popen) -> None:
    """Stop a process started here, its process group, and whatever it left running."""
    if process.poll() is None:
        below = descendants(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        deadline = time.monotonic() + 10
        for pid in below:
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def local_get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    with opener.open(url, timeout=10) as response:
        return response.read()


class DevTools:
    """The few Chrome DevTools protocol calls the app needs, over one page's websocket."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(
            ws_url, timeout=60, suppress_origin=True, http_no_proxy=["127.0.0.1", "localhost"]
        )
        self.last_id = 0

    def call(self, method: str, **params):
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.last_id:  # anything else is an event: not asked for
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def state(self) -> dict:
        return json.loads(self.evaluate(PAGE_STATE))

    def wait_for(self, condition, timeout: float, what: str) -> dict:
        """The page state once `condition(state)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if condition(state):
                return state
            if time.monotonic() > deadline:
                state.pop("text")
                raise AssertionError(
                    f"timed out after {timeout:.0f} s waiting for {what}; page state: {state}"
                )
            time.sleep(0.25)

    def type_text(self, text: str) -> None:
        """Key by key, as a person types (the box hands its value over only on Enter or blur)."""
        for char in text:
            self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
            self.call("Input.dispatchKeyEvent", type="keyUp", key=char)

    def press_enter(self) -> None:
        keys = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **keys)
        self.call("Input.dispatchKeyEvent", type="keyUp", **keys)

    def click(self, selector_js: str) -> None:
        """A mouse click in the middle of the element the JavaScript expression finds."""
        rect = self.evaluate(
            f"(e => {{ e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();"
            f" return [r.x + r.width / 2, r.y + r.height / 2]; }})({selector_js})"
        )
        x, y = rect
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, clip_js: str | None = None, margin: int = 8) -> bytes:
        """PNG bytes of the viewport, or of the element the JavaScript expression finds (with a
        margin around it)."""
        params = {"format": "png"}
        if clip_js:
            x, y, width, height = self.evaluate(
                f"(e => {{ e.scrollIntoView(); const r = e.getBoundingClientRect();"
                f" return [r.x + window.scrollX, r.y + window.scrollY, r.width, r.height]; }})({clip_js})"
            )
            x, y = max(0, x - margin), max(0, y - margin)
            clip = dict(x=x, y=y, width=width + 2 * margin, height=height + 2 * margin, scale=1)
            params.update(captureBeyondViewport=True, clip=clip)
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def close(self) -> None:
        self.ws.close()


# --- what a person does on the page -----------------------------------------------------------

QUERY_INPUT = "document.querySelector('.imagesearch-query input')"


def like_button(i: int) -> str:
    return (
        f"[...document.querySelectorAll('.imagesearch-result')[{i}]"
        ".querySelectorAll('.imagesearch-mark button')].find(b => b.innerText.trim() === 'like')"
    )


def results_shown(state: dict) -> bool:
    return state["images"] > 0 and state["images"] == len(state["captions"])


def open_box(devtools: DevTools, url: str, timeout: float = 240) -> dict:
    """Load the app and wait for the box (Voila runs the notebook first: TensorFlow, the CNN)."""
    devtools.call("Page.navigate", url=url)
    return devtools.wait_for(lambda s: s["input"] and s["status"] != "", timeout, "the search box")


def search(devtools: DevTools, query: str, timeout: float = 60) -> dict:
    """Type `query` into the word box, press Enter, and wait for its results."""
    devtools.evaluate(f"(i => {{ i.focus(); i.select(); }})({QUERY_INPUT})")
    devtools.type_text(query)
    devtools.press_enter()
    return devtools.wait_for(
        lambda s: f"for '{query}'" in s["status"] and results_shown(s), timeout, f"results for {query!r}"
    )


def like(devtools: DevTools, i: int, timeout: float = 60) -> dict:
    """Click the i-th result's like toggle and wait for the steered results."""
    devtools.click(like_button(i))
    return devtools.wait_for(
        lambda s: "1 liked" in s["status"] and results_shown(s) and any(s["liked"]),
        timeout,
        f"the results after liking result {i + 1}",
    )


# --- the processes ---------------------------------------------------------------------------


@contextlib.contextmanager
def voila(env: dict[str, str], log_path: Path, notebook: Path = APP, timeout: float = 60) -> Iterator[str]:
    """Voila serving `notebook` on a free loopback port; yields the page's URL."""
    port = free_port()
    runtime = tempfile.mkdtemp(prefix="imagesearch-voila-")
    env = {**env, "JUPYTER_RUNTIME_DIR": runtime, "PYTHONUNBUFFERED": "1"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("voila")),
                str(notebook),
                f"--port={port}",
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                "--show_tracebacks=True",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Voila did not start (exit code {process.poll()}); see {log_path}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/"
        finally:
            stop(process)
            shutil.rmtree(runtime, ignore_errors=True)


@contextlib.contextmanager
def browser(width: int = 1280, height: int = 1400, timeout: float = 30) -> Iterator[DevTools]:
    """Headless Chromium with a fixed window size; yields a DevTools connection to its page."""
    executable = chromium()
    if executable is None:
        raise RuntimeError("no Chromium: apt-get install -y chromium (Debian) or put chromium on PATH")
    profile = Path(tempfile.mkdtemp(prefix="imagesearch-chromium-"))
    process = subprocess.Popen(
        [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--no-proxy-server",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    devtools = None
    try:
        active = profile / "DevToolsActivePort"  # Chromium writes the port it picked here
        deadline = time.monotonic() + timeout
        while not (active.exists() and active.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Chromium did not start its DevTools endpoint (exit code {process.poll()})"
                )
            time.sleep(0.1)
        port = int(active.read_text().split()[0])
        pages = [
            t for t in json.loads(local_get(f"http://127.0.0.1:{port}/json/list")) if t["type"] == "page"
        ]
        devtools = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        stop(process)
        shutil.rmtree(profile, ignore_errors=True)


# --- the committed screenshot ------------------------------------------------------------------

BOX = f"{QUERY_INPUT}.closest('.widget-vbox')"  # the box's outer VBox: the inputs and the results


def small_png(png: bytes, limit: int = MAX_SCREENSHOT_BYTES) -> bytes:
    """The same picture in fewer colours when it is too large to commit (photos make PNGs big);
    Pillow's quantizer is deterministic, so the same page gives the same bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64):
        if len(png) <= limit:
            break
        buffer = io.BytesIO()
        image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buffer, format="PNG", optimize=True
        )
        png = buffer.getvalue()
    return png


def take_screenshot(out: Path, query: str = SCREENSHOT_QUERY, like_index: int = 0) -> dict:
    """Serve the app on the current IMAGESEARCH_* settings, search `query`, like one result and
    write the box as a PNG at most SCREENSHOT_WIDTH px wide; returns the final page state."""
    log = ROOT / "results" / "screenshot-voila.log"
    with voila(dict(os.environ), log) as url, browser(SCREENSHOT_WIDTH, 1000) as page:
        open_box(page, url)
        search(page, query)
        state = like(page, like_index)
        # No hover or focus ring where the click was: the same picture on every run.
        page.call("Input.dispatchMouseEvent", type="mouseMoved", x=0, y=0)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        time.sleep(1)  # the last thumbnails' paint
        png = small_png(page.screenshot(BOX))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(png)
    tmp.replace(out)
    state.pop("text")
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "search-box.png")
    parser.add_argument("--query", default=SCREENSHOT_QUERY)
    parser.add_argument("--like", type=int, default=1, help="which result to like (1 = the first)")
    args = parser.parse_args(argv)
    state = take_screenshot(args.out, args.query, args.like - 1)
    from PIL import Image

    with Image.open(args.out) as image:
        size = image.size
    print(f"{args.out}: {size[0]}x{size[1]} px, {args.out.stat().st_size / 1000:.0f} KB; {state['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
