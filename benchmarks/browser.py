"""What the browser benchmarks share: cnnviz and a minimal app served side by side, one Chromium
page to drive them, and waiting until a watched view has settled.

Each browser benchmark used to start the servers and Chromium itself, in the same dozen lines.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, free_port, start_app, stop_app, wait_healthy, wait_idle


@dataclass(frozen=True)
class Served:
    """Where the apps of one benchmark run answer; ``minimal_url`` is None without a minimal app."""

    url: str
    minimal_url: str | None
    tmp: Path


class NoChromium(RuntimeError):
    """Debian's Chromium is not installed (apt-get install chromium)."""


@contextmanager
def served(prefix: str, minimal_source: str | None) -> Iterator[Served]:
    """This checkout's app and, when ``minimal_source`` is given, a minimal one-file app, both healthy;
    stopped on leaving."""
    tmp = Path(tempfile.mkdtemp(prefix=f"cnnviz-{prefix}-"))
    port = free_port()
    app = start_app(port, tmp / "app.log")
    minimal, mport = (None, None) if minimal_source is None else start_minimal_app(minimal_source, tmp)
    try:
        wait_healthy(port, app)
        if minimal is not None:
            wait_healthy(mport, minimal)
        yield Served(f"http://127.0.0.1:{port}", None if minimal is None else f"http://127.0.0.1:{mport}", tmp)
    finally:
        stop_app(app)
        if minimal is not None:
            stop_app(minimal)


@contextmanager
def chromium_page(height: int = 1000) -> Iterator:
    """One page of headless Debian Chromium (Playwright), 1400 pixels wide; raises NoChromium without it."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if chromium is None:
        raise NoChromium("no Chromium found (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": height})
        finally:
            browser.close()


def settle(page, quiet_ms: float = 600, timeout: float = 90, poll: str | None = None) -> None:
    """Wait until the script is idle and the page's watch (``window.__changed``, set by a benchmark's
    observer) has seen no change for ``quiet_ms``; ``poll``, when given, is script run in the page
    before each look (a watch that must be asked to look, such as one inside iframes)."""
    deadline = time.monotonic() + timeout
    wait_idle(page, timeout=timeout, quiet=0.3)
    while time.monotonic() < deadline:
        if poll:
            page.evaluate(poll)
        if page.evaluate("performance.now() - Math.max(window.__changed, window.__t0 || 0)") >= quiet_ms:
            return
        time.sleep(0.05)


def start_minimal_app(source: str, tmp: Path) -> tuple[subprocess.Popen, int]:
    """Start a one-file Streamlit app (``source``) with the project's config: the floor to compare with."""
    app_dir = tmp / "minimal"
    (app_dir / ".streamlit").mkdir(parents=True)
    (app_dir / "minimal_app.py").write_text(source)
    (app_dir / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "minimal_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=app_dir, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=open(tmp / "minimal.log", "w"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    return proc, port


def summary(name: str, times: list[float]) -> float:
    """Print a line of the times' median, p90 and count (ms); return the median (NaN when empty)."""
    if not times:
        print(f"{name:46s} no edit became visible")
        return float("nan")
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    median = statistics.median(times)
    print(f"{name:46s} median {median:6.0f} ms   p90 {p90:6.0f} ms   (n={len(times)})")
    return median
