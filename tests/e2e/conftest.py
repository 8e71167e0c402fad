"""Browser fixtures: the real app in a subprocess, driven by Playwright in Debian's Chromium.

With CI=true a missing browser or Playwright fails the run instead of skipping.
"""

from __future__ import annotations

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

from tests.conftest import ROOT, require

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
IDLE = (
    "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
    "[data-test-script-state='notRunning']"
)


def chromium_path() -> str | None:
    """Debian's Chromium (or $CHROMIUM); None when no browser is installed."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, log_path: Path, extra_env: dict | None = None) -> subprocess.Popen:
    """Start ``streamlit run app.py`` headless on ``port``; return the process."""
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]
    env = {**os.environ, **(extra_env or {})}
    log = open(log_path, "w")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the app exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer /_stcore/health within {timeout} s")


def stop_app(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_idle(page, timeout: float = 60.0, quiet: float = 0.4) -> None:
    """Wait until the app has finished running and stayed idle for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    page.wait_for_timeout(100)
    quiet_since = None
    while time.monotonic() < deadline:
        idle = page.locator(IDLE).count() > 0 and page.locator("[data-testid='stSkeleton']").count() == 0
        if not idle:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return
        time.sleep(0.05)
    raise AssertionError(f"the app was still running after {timeout} s")


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox ``key`` (it filters its options by what is typed)."""
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def assert_no_exception(page) -> None:
    """No Streamlit exception box (a traceback) is on the page."""
    boxes = page.get_by_test_id("stException")
    texts = [boxes.nth(i).inner_text()[:300] for i in range(boxes.count())]
    assert not texts, f"exception shown on the page: {texts}"


def watch_frontend_errors(page) -> list[str]:
    """Start recording the errors of the page's own code: uncaught exceptions, and Streamlit's
    "Bad delta path" (an element sent to a position the browser does not have; the whole app is
    gone after it). Returns the list the errors are appended to; see :func:`assert_no_frontend_error`."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"[:500]))
    page.on("console", lambda message: errors.append(f"console: {message.text}"[:500])
            if message.type == "error" and "Bad delta path" in message.text else None)
    return errors


def assert_no_frontend_error(errors: list[str], where: str = "") -> None:
    """None of the errors :func:`watch_frontend_errors` records happened."""
    assert not errors, f"the browser's app failed{' ' + where if where else ''}: {errors[:3]}"


PRESENTER_KEY = "classroom-test-key"
"""The presenter key of the classroom tests' server (:func:`class_url`)."""


def serve(tmp_path_factory, name: str, env: dict | None = None):
    """Start the real app (with ``env``) for a fixture: yields its base URL, stops it afterwards."""
    port = free_port()
    log_path = tmp_path_factory.mktemp(name) / "server.log"
    proc = start_app(port, log_path, env)
    try:
        wait_healthy(port, proc)
    except RuntimeError as exc:
        stop_app(proc)
        pytest.fail(f"{exc}; log:\n{log_path.read_text()[-3000:]}")
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


@pytest.fixture(scope="module")
def class_url(tmp_path_factory):
    """A server of the classroom tests' own, with a known presenter key (a live presentation would
    pull the other tests' tabs along)."""
    yield from serve(tmp_path_factory, "classroom", {"CNNVIZ_PRESENTER_KEY": PRESENTER_KEY})


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Base URL of the real app, started once for the browser tests."""
    yield from serve(tmp_path_factory, "app")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium under Playwright (never downloads a browser)."""
    path = chromium_path()
    require(path is not None, "no Chromium found (apt-get install chromium, or set CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab (its own session) at a projector-like size."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def open_page(page, app_url: str, path: str = "", timeout: float = 90.0) -> None:
    """Open ``app_url/path`` and wait until the page has rendered without an exception."""
    page.goto(f"{app_url}/{path.lstrip('/')}")
    wait_idle(page, timeout=timeout)
    assert_no_exception(page)


def run_async(coroutine):
    """Run a protocol client's coroutine to its end, in a thread of its own: Playwright's sync API (the
    session's browser fixture) keeps an event loop running in the main thread, where ``asyncio.run``
    refuses to start another one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
