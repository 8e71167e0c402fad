"""Every control of the Convolution lab, input -> result visible in Chromium; two checkouts side by side.

bench_latency times one path (typed kernel + Ctrl+Enter); a student also picks presets,
resizes the kernel, changes weight, stride, mapping and border, and types the pixel to
explain, and any of these can be the slow one. Each control is driven in headless
Chromium (Playwright, Debian's /usr/bin/chromium) on the 512x512 stairwell, and timed
inside the page from the input event (Enter keydown, or pointerdown on an option) to:

* kernel and option controls: the new result image loaded and painted;
* the pixel explorer's row / column: the heading "Output pixel (row R, column C)"
  showing the new value and the zoom charts finished redrawing (last mutation in
  them, painted, once they have been still for 1 s).

With ``--compare PATH`` a second checkout (e.g. the previous commit) runs at the same
time; each control is measured on both apps in alternating rounds, so drift in the
machine's load hits both alike. A minimal Streamlit app doing the typed-kernel work
(bench_latency's MINIMAL_APP) gives the floor. Prints medians, p90, ratios and the
machine load; asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_controls [--compare ../baseline] [--edits 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_latency import MINIMAL_APP, start_minimal_app  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM_ARGS, chromium_path, free_port, stop_app, wait_healthy, wait_idle,
)

# Clock: window.__arm = {on, needle} names the input event that starts it (t0). It stops (window.__done) when
# the result image changes, loads and is painted, or, with a needle, when an h3 contains it; window.__chart is
# the last paint after a mutation in the explorer's zoom charts.
WATCH_JS = """
() => {
  window.__done = []; window.__arm = null; window.__chart = 0;
  const hit = (on) => { const a = window.__arm; if (a && a.on === on && a.t0 === undefined) a.t0 = performance.now(); };
  document.addEventListener('pointerdown', () => hit('pointerdown'), true);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') hit(e.ctrlKey || e.metaKey ? 'ctrl+Enter' : 'Enter');
  }, true);
  const img = () => document.querySelector('.st-key-conv_result img');
  const painted = (a) => requestAnimationFrame(() => window.__done.push(performance.now() - a.t0));
  let src = img() && img().src;
  new MutationObserver((records) => {
    const charts = '.st-key-conv_zoom_in, .st-key-conv_zoom_out';
    if (records.some((m) => (m.target.nodeType === 1 ? m.target : m.target.parentElement)?.closest(charts)))
      requestAnimationFrame(() => { window.__chart = performance.now(); });
    const a = window.__arm, i = img(), ready = a && a.t0 !== undefined && !a.seen;
    if (i && i.src !== src) {
      src = i.src;
      if (ready && !a.needle) {
        a.seen = true;
        if (i.complete && i.naturalWidth) painted(a); else i.addEventListener('load', () => painted(a), {once: true});
      }
    }
    if (ready && a.needle && [...document.querySelectorAll('h3')].some((h) => h.textContent.includes(a.needle))) {
      a.seen = true;
      painted(a);
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""

# Presets with pairwise different kernels, none the default (course = Sobel y), and the border options from the
# one after the default ("course"), in a cycle: every pick changes the result.
PRESETS = ["Identity", "Sharpen", "Emboss", "Laplacian (4 neighbours)", "Box blur 3x3", "Outline",
           "Prewitt x (vertical edges)", "Gaussian blur 3x3", "Scharr y (horizontal edges)", "Laplacian (8 neighbours)"]
PADDINGS = ["Zeros around the image (same size)", "Reflect at the edge (…c b | a b c…)",
            "Repeat the edge pixel (…a a | a b c…)", "None (valid): the output shrinks",
            "Keep the border as in the course"]


def arm(page, on: str, needle: str | None = None) -> None:
    """The next ``on`` event ('Enter', 'ctrl+Enter', 'pointerdown') starts the clock; ``needle``: wait for an h3."""
    page.evaluate("([on, needle]) => { window.__arm = {on, needle}; }", [on, needle])


def typed(key: str, value, ctrl: bool = False, needle=None):
    """Fill the widget's input with value(i), then Enter (Ctrl+Enter for a text area)."""
    def step(page, i: int) -> None:
        box = page.locator(f".st-key-{key} textarea, .st-key-{key} input").first
        box.fill(str(value(i)))
        arm(page, "ctrl+Enter" if ctrl else "Enter", needle(i) if needle else None)
        box.press("Control+Enter" if ctrl else "Enter")
    return step


def radio(key: str, index):
    """Click option number index(i) of a radio group."""
    def step(page, i: int) -> None:
        option = page.locator(f".st-key-{key} [data-testid='stRadioOption']").nth(index(i))
        arm(page, "pointerdown")
        option.click()
    return step


def select(key: str, labels: list[str]):
    """Open a selectbox, then click the option labels[i] (the clock starts at that click)."""
    def step(page, i: int) -> None:
        opener = page.locator(f".st-key-{key} button[aria-label='Open']")
        option = page.get_by_role("option", name=labels[i % len(labels)], exact=True)
        for _ in range(3):  # the list closes again when the page scrolls while it opens: scroll first
            opener.scroll_into_view_if_needed()
            page.wait_for_timeout(200)
            opener.click()
            try:
                option.wait_for(timeout=3000)
                break
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the list is not open, again
                page.keyboard.press("Escape")
        arm(page, "pointerdown")
        option.click()
    return step


PIXEL = lambda i: 100 + 20 * i  # noqa: E731 - output row / column of explorer edit i (the default is 333, 165)
CONTROLS = {  # name -> (widget key, edit i); every edit differs from the one before it
    "preset (selectbox)": ("conv_preset", select("conv_preset", PRESETS)),
    "typed kernel (Ctrl+Enter)": ("conv_kernel_text",
                                  typed("conv_kernel_text", lambda i: f"-1 -2 -1\n0 {i + 1} 0\n1 2 1", ctrl=True)),
    "kernel rows (3/4)": ("conv_kernel_rows", typed("conv_kernel_rows", lambda i: 4 - i % 2)),
    "kernel columns (3/4)": ("conv_kernel_cols", typed("conv_kernel_cols", lambda i: 4 - i % 2)),
    "weight": ("conv_weight", typed("conv_weight", lambda i: f"{1 + 0.5 * (i + 1):g}")),
    "stride (2/1)": ("conv_stride", radio("conv_stride", lambda i: 1 - i % 2)),
    "show the result as": ("conv_mapping", radio("conv_mapping", lambda i: (i + 1) % 4)),
    "border (padding)": ("conv_padding", select("conv_padding", PADDINGS)),
    "explorer: output row": ("conv_row", typed("conv_row", PIXEL, needle=lambda i: f"(row {PIXEL(i)},")),
    "explorer: output column": ("conv_col", typed("conv_col", PIXEL, needle=lambda i: f"column {PIXEL(i)})")),
}


def one_edit(page, step, i: int, explorer: bool) -> float | None:
    """Do edit i; milliseconds from the input event to its result visible (None: nothing within 30 s)."""
    before = page.evaluate("window.__done.length")
    step(page, i)
    deadline = time.monotonic() + 30
    while page.evaluate("window.__done.length") == before and time.monotonic() < deadline:
        time.sleep(0.01)
    took = page.evaluate(f"window.__done[{before}]") if page.evaluate("window.__done.length") > before else None
    wait_idle(page, timeout=60, quiet=0.3)
    if explorer and took is not None:  # the zoom charts redraw in bursts after the heading: wait for the last
        deadline = time.monotonic() + 15
        while page.evaluate("performance.now() - window.__chart") < 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
        took = max(took, page.evaluate("window.__chart - window.__arm.t0"))
    page.evaluate("window.__arm = null")
    return took


def open_lab(page, url: str) -> None:
    page.bring_to_front()  # a background tab gets no animation frames
    page.goto(url)
    wait_idle(page, timeout=120)
    page.evaluate(WATCH_JS)


def start_checkout(root: Path, port: int, log: Path) -> subprocess.Popen:
    """``streamlit run app.py`` in the checkout ``root``, importing its own cnnviz (PYTHONPATH = root)."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def stats(times: list[float]) -> tuple[float, float]:
    """Median and p90 (nan when nothing became visible)."""
    if not times:
        return float("nan"), float("nan")
    ordered = sorted(times)
    return statistics.median(times), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def measure(pages, urls, times: dict[str, list[float]], key: str, step, edits: int, size: int) -> None:
    """Each app in ``times`` gets edits 0..edits-1 of one control, ``size`` at a time, apps alternating."""
    for name in times:
        open_lab(pages[name], urls[name])
    for start in range(0, edits, size):
        for name in (list(times) if start // size % 2 == 0 else list(times)[::-1]):
            pages[name].bring_to_front()
            for i in range(start, min(start + size, edits)):
                took = one_edit(pages[name], step, i, explorer=key in ("conv_row", "conv_col"))
                if took is not None:
                    times[name].append(took)


def report(results: dict[str, dict[str, list[float]]], names: list[str]) -> None:
    print("\nmedian / p90 in ms, input event -> result visible (n = edits that became visible)\n")
    head = f"{'control':28s} | " + " | ".join(f"{n + ' checkout':>22s}" for n in names)
    ratio = "compared" in names
    print(head + (" | ratio this/compared" if ratio else ""))
    print("-" * (len(head) + 23 * ratio))
    for control, times in results.items():
        cells = [f"{stats(times[n])[0]:6.0f} / {stats(times[n])[1]:6.0f} (n={len(times[n]):2d})" for n in names]
        line = f"{control:28s} | " + " | ".join(f"{c:>22s}" for c in cells)
        print(line + (f" | {stats(times['this'])[0] / stats(times['compared'])[0]:6.2f}" if ratio else ""))
    typed_times = results.get("typed kernel (Ctrl+Enter)")
    if not typed_times:
        return
    floor = stats(typed_times["minimal"])[0]
    print(f"\nminimal Streamlit app, typed kernel: median {floor:.0f} ms (n={len(typed_times['minimal'])})")
    for n in names:
        print(f"typed kernel, {n} checkout / minimal app: {stats(typed_times[n])[0] / floor:5.2f}x")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1, 5, 15 min; {os.cpu_count()} cores)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edits", type=int, default=9, help="edits per control and app")
    ap.add_argument("--round", type=int, default=3, help="edits on one app before switching to the other")
    ap.add_argument("--compare", type=Path, help="a second checkout of the project to measure in the same run")
    ap.add_argument("--only", default="", help="measure only the controls whose names contain one of these, a,b,...")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if (chromium := chromium_path()) is None:
        print("no Chromium found (apt-get install chromium)")
        return 2
    print(f"machine load at start: {load()}")
    print(f"CNNVIZ_DATA_DIR={os.environ.get('CNNVIZ_DATA_DIR', '(unset)')}")
    tmp = Path(tempfile.mkdtemp(prefix="cnnviz-controls-"))
    roots = {"this": ROOT, **({"compared": args.compare.resolve()} if args.compare else {})}
    procs, ports = {}, {}
    try:
        for name, root in roots.items():
            ports[name] = free_port()
            procs[name] = start_checkout(root, ports[name], tmp / f"{name}.log")
            git = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                                 capture_output=True, text=True, check=False).stdout.strip() or "not a git checkout"
            print(f"{name:8s} checkout: {root} ({git}), port {ports[name]}")
        procs["minimal"], ports["minimal"] = start_minimal_app(MINIMAL_APP, tmp)
        for name, proc in procs.items():
            wait_healthy(ports[name], proc)
        urls = {n: f"http://127.0.0.1:{port}/{'' if n == 'minimal' else 'convolution'}" for n, port in ports.items()}
        results: dict[str, dict[str, list[float]]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            pages = {n: browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for n in urls}
            for name, page in pages.items():  # warm-up: the first run imports and loads the image
                open_lab(page, urls[name])
                caption = page.locator(".st-key-conv_result").inner_text().strip().splitlines() or ["(no caption)"]
                print(f"{name:8s} warm: {caption[-1]}")
            print(f"\n{args.edits} edits per control and app, {args.round} at a time, apps alternating\n")
            only = [word for word in args.only.split(",") if word]
            for control, (key, step) in CONTROLS.items():
                if only and not any(word in control for word in only):
                    continue
                times = results[control] = {n: [] for n in urls if n != "minimal" or key == "conv_kernel_text"}
                try:
                    measure(pages, urls, times, key, step, args.edits, args.round)
                except Exception as exc:  # noqa: BLE001 - report and go on with the next control
                    print(f"  {control}: failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                print(f"  {control:28s} " + "   ".join(
                    f"{n} {stats(t)[0]:5.0f}/{stats(t)[1]:5.0f} ms (n={len(t)})" for n, t in times.items()), flush=True)
            browser.close()
        report(results, list(roots))
    finally:
        for proc in procs.values():
            stop_app(proc)
        print(f"machine load at end:   {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
