"""Live means live: kernel edit -> new result visible in Chromium, on the 512x512 stairwell.

One real browser (Debian's Chromium under Playwright) types kernels into the
Convolution lab and measures, inside the page, the time from the key press to
the moment the new result image has loaded and been painted. It does so

1. alone on the server,
2. while 30 simulated students (light websocket sessions, see students.py)
   rerun the Convolution page every ~2 s each,

and, in the same run, against a minimal Streamlit app that does the same
edit -> scipy.ndimage.correlate -> st.image with nothing else (the best one can
expect from Streamlit here). Prints medians, p90 and ratios; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python -m benchmarks.bench_latency [--edits 15] [--students 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.browser import NoChromium, chromium_page, served, summary  # noqa: E402
from benchmarks.students import Students  # noqa: E402
from tests.e2e.conftest import wait_idle  # noqa: E402

MINIMAL_APP = '''
import numpy as np, scipy.ndimage as ndi, streamlit as st
from cnnviz.core.data import load_ascent
from cnnviz.ui.resources import png_of

@st.cache_resource
def image():
    return load_ascent().astype(np.float64)

@st.fragment
def lab():
    text = st.text_area("kernel", "-1 -2 -1; 0 0 0; 1 2 1", key="conv_kernel_text")
    kernel = np.array([[float(v) for v in row.split()] for row in text.replace(";", "\\n").splitlines() if row.strip()])
    out = np.clip(ndi.correlate(image(), kernel, mode="nearest"), 0, 255).astype(np.uint8)
    with st.container(key="conv_result"):
        st.image(png_of(out))

lab()
'''

# Resolves when the result image has changed, loaded and been painted after the last Ctrl+Enter.
WATCH_JS = """
() => {
  window.__edits = [];
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) window.__t0 = performance.now();
  }, true);
  const box = () => document.querySelector('.st-key-conv_result img');
  let last = box() && box().src;
  new MutationObserver(() => {
    const img = box();
    if (!img || img.src === last) return;
    last = img.src;
    const t0 = window.__t0;
    const done = () => requestAnimationFrame(() => window.__edits.push(performance.now() - t0));
    if (img.complete && img.naturalWidth) done(); else img.addEventListener('load', done, {once: true});
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}
"""


def kernels(n: int) -> list[str]:
    """n different 3x3 kernels (the course's kernel with a changing centre), so every edit changes the result."""
    return [f"-1 -2 -1\n0 {k % 7 - 3} 0\n1 2 1" for k in range(1, n + 1)]


def measure(page, url: str, path: str, edits: int) -> list[float]:
    """Milliseconds from Ctrl+Enter in the kernel box to the new result painted, one per edit."""
    page.goto(f"{url}/{path}")
    wait_idle(page, timeout=120)
    page.evaluate(WATCH_JS)
    box = page.locator(".st-key-conv_kernel_text textarea")
    times: list[float] = []
    for text in kernels(edits):
        before = page.evaluate("window.__edits.length")
        box.fill(text)
        box.press("Control+Enter")
        deadline = time.monotonic() + 30
        while page.evaluate("window.__edits.length") == before and time.monotonic() < deadline:
            time.sleep(0.01)
        if page.evaluate("window.__edits.length") > before:
            times.append(page.evaluate("window.__edits[window.__edits.length - 1]"))
        wait_idle(page, timeout=60, quiet=0.3)
    return times


MATRIX_WATCH_JS = """
() => {
  window.__edits = []; window.__sends = [];
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__t0 = performance.now(); }, true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { window.__sends.push(performance.now() - window.__t0); return send.call(this, data); };
  const labels = () => { const b = document.querySelector('.st-key-gray_image .heatmaplayer'); return b && b.textContent; };
  let last = labels();
  new MutationObserver(() => {
    const now = labels();
    if (now === null || now === last) return;
    last = now;
    const t0 = window.__t0;
    requestAnimationFrame(() => window.__edits.push(performance.now() - t0));
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def measure_matrix(page, url: str, edits: int) -> tuple[list[float], list[float]]:
    """Pixels page: Enter in a pixel-grid cell -> the image beside it shows the new value (ms), and
    Enter -> the grid's first websocket message after it, the edit (ms)."""
    from tests.e2e.pixel_grid import type_value

    page.goto(f"{url}/pixels")
    wait_idle(page, timeout=120)
    page.evaluate(MATRIX_WATCH_JS)
    sends = []
    for value in range(10, 10 + edits):
        page.evaluate("window.__sends = []")
        type_value(page, "gray_editor", 0, 0, str(value))
        first = page.evaluate("window.__sends.filter(t => t >= 0)")  # the edit itself; later ones are paint reports
        if first:
            sends.append(min(first))
    return page.evaluate("window.__edits"), sends


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edits", type=int, default=15)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between a student's actions")
    ap.add_argument("--tensorflow", action="store_true",
                    help="first open the Activations page, so the server has TensorFlow and the model loaded "
                         "(as in a class where some students look at activation maps)")
    args = ap.parse_args()

    try:
        with served("latency", MINIMAL_APP) as sv, chromium_page() as page:
            url, murl = sv.url, sv.minimal_url
            print(f"Kernel edit -> result visible in Chromium, 512x512 stairwell, {args.edits} edits each\n")
            minimal_alone = summary("minimal Streamlit app, alone", measure(page, murl, "", args.edits))
            if args.tensorflow:
                page.goto(f"{url}/activations")
                wait_idle(page, timeout=300)
                print("(the server has imported TensorFlow and loaded the shipped CNN)")
            alone = summary("cnnviz Convolution lab, alone", measure(page, url, "convolution", args.edits))
            matrix, sends = measure_matrix(page, url, min(args.edits, 10))
            summary("cnnviz Pixels matrix cell, alone", matrix)
            if sends:
                print(f"{'  (Enter -> the edit sent to the server)':46s} median {statistics.median(sends):6.0f} ms")
            students = Students(url, args.students, page="convolution", interval=args.interval,
                                queries=["", "kernel=sobel_x", "kernel=gaussian_5", "kernel=sharpen&map=abs"]).start()
            time.sleep(3)
            summary(f"cnnviz Pixels matrix cell, {args.students} students",
                    measure_matrix(page, url, min(args.edits, 10))[0])
            loaded = summary(f"cnnviz Convolution lab, {args.students} students",
                             measure(page, url, "convolution", args.edits))
            students.stop()
        runs = sorted(students.durations)
        if runs:
            print(f"{'  (the students: full page runs)':46s} median {1000 * statistics.median(runs):6.0f} ms   "
                  f"p95 {1000 * runs[int(0.95 * (len(runs) - 1))]:6.0f} ms   (n={len(runs)}, errors {len(students.errors)})")
        print()
        print(f"cnnviz alone / minimal app:          {alone / minimal_alone:5.2f}x")
        print(f"cnnviz with {args.students} students / alone:     {loaded / alone:5.2f}x")
        print("target: cnnviz median <= 150 ms, alone and with the class")
    except NoChromium as missing:
        print(missing)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
