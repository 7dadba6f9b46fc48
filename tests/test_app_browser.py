"""`make app` for real: Voila serves notebook 07, headless Chromium types a query into the page
and presses Enter.

Chromium is driven through its DevTools protocol over a websocket (`websocket-client`, which
jupyter_server already installs), so no WebDriver is needed. The screenshot is kept in
results/test-artifacts/ with Voila's log, for a person to look at when the test fails.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_search_box.ipynb"
ARTIFACTS = ROOT / "results" / "test-artifacts"
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
QUERY = "telephone"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="needs Chromium for the browser test: "
        "apt-get install -y chromium (Debian) or put chromium on PATH",
    ),
]


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
    """Stop a process this test started, its process group, and whatever it left running."""
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
    """The few Chrome DevTools protocol calls this test needs, over one page's websocket."""

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

    def wait_for(self, expression: str, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what}; page state: {self.evaluate(PAGE_STATE)}"
        )

    def type_text(self, text: str) -> None:
        """Key by key, as a person types (the box hands its value over only on Enter or blur)."""
        for char in text:
            self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
            self.call("Input.dispatchKeyEvent", type="keyUp", key=char)

    def press_enter(self) -> None:
        keys = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **keys)
        self.call("Input.dispatchKeyEvent", type="keyUp", **keys)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self.ws.close()


# What the page shows, as the user would read it: status line, loaded result images, captions.
PAGE_STATE = """JSON.stringify({
  input: !!document.querySelector('.imagesearch-query input'),
  status: (document.querySelector('.imagesearch-status') || {}).innerText || '',
  images: [...document.querySelectorAll('.imagesearch-result img')]
          .filter(img => img.complete && img.naturalWidth > 0).length,
  captions: [...document.querySelectorAll('.imagesearch-caption')].map(c => c.innerText),
  errors: [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type*="error"]')]
          .map(e => e.innerText.slice(0, 300)),
})"""


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
def voila(app_home, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "IMAGESEARCH_DATASET": "embedded",
        "IMAGESEARCH_HOME": str(app_home),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("IMAGESEARCH_MODEL", "IMAGESEARCH_VECTORS"):
        env.pop(name, None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "voila.log", "wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("voila")),
            str(NOTEBOOK),
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
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"Voila did not start (exit code {process.poll()}); see {ARTIFACTS / 'voila.log'}"
                )
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(process)
        log.close()


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    process = subprocess.Popen(
        [
            CHROMIUM,
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
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1280,1400",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    devtools = None
    try:
        active = profile / "DevToolsActivePort"  # Chromium writes the port it picked here
        deadline = time.monotonic() + 30
        while not (active.exists() and active.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start its DevTools endpoint (exit code {process.poll()})")
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


def test_typing_a_query_and_enter_in_the_page_shows_result_images(voila, browser):
    screenshot = ARTIFACTS / "search_box.png"
    screenshot.unlink(missing_ok=True)
    browser.call("Page.navigate", url=voila)
    try:
        # Voila runs the whole notebook first (TensorFlow, the CNN): allow a slow machine.
        state = json.loads(
            browser.wait_for(
                f"(s => s.input && s.status !== '' ? JSON.stringify(s) : null)(JSON.parse({PAGE_STATE}))",
                240,
                "the search box",
            )
        )
        assert not state["errors"], state["errors"]
        assert QUERY not in state["status"]  # the notebook's own queries were other ones

        browser.evaluate(
            "(i => { i.focus(); i.select(); })(document.querySelector('.imagesearch-query input'))"
        )
        browser.type_text(QUERY)
        time.sleep(1)  # were the box to search per keystroke, a search would have started by now
        assert QUERY not in json.loads(browser.evaluate(PAGE_STATE))["status"]
        browser.press_enter()
        done = (
            f"(s => s.status.includes(\"for '{QUERY}'\") && s.images > 0 && s.images === s.captions.length"
            f" ? JSON.stringify(s) : null)(JSON.parse({PAGE_STATE}))"
        )
        state = json.loads(browser.wait_for(done, 60, f"result images for {QUERY!r}"))
        assert state["images"] == 8  # the box's default number of results
        assert state["captions"][0].startswith(f"1. {QUERY}")
        assert sum(QUERY in caption for caption in state["captions"]) >= 4
    finally:
        browser.screenshot(screenshot)
    assert screenshot.stat().st_size > 10_000
