"""Every control of the Convolution and Pooling pages, input -> result visible in Chromium, beside a minimal app.

bench_latency times one path (typed kernel + Ctrl+Enter); a student also picks presets,
edits kernel cells, resizes the kernel, changes weight, stride, mapping and border, types
the pixel to explain, and on the Pooling page moves sliders, flips toggles and picks
options, and any of these can be the slow one. Each control is driven in headless
Chromium (Playwright, Debian's /usr/bin/chromium) on the 512x512 stairwell and timed
inside the page from the input event (the keydown of Enter / Ctrl+Enter / an arrow key,
or the pointerdown of a click) to the last change of the view it should change, loaded
and painted (the view then still for 0.6 s once the app is idle):

Convolution page (/convolution)
  control             widget (key)                       driven by                       visible
  preset              selectbox conv_preset              open, click option              result
  typed kernel        text_area conv_kernel_text         fill, Ctrl+Enter                result
  kernel cell         pixel grid conv_kernel_grid_cells  focus, arrows to the centre, type, Enter result
  kernel rows/columns number_input conv_kernel_rows/cols fill 4 / 3, Enter               result
  weight              number_input conv_weight           fill, Enter                     result
  normalise           checkbox conv_normalise            click (kernel: Box blur 3x3)    result
  border (padding)    selectbox conv_padding             open, click option              result
  stride              radio conv_stride                  click option 2 / 1              result
  flip kernel         toggle conv_flip                   click                           result
  show the result as  radio conv_mapping                 click the next option           result
  explorer row/column number_input conv_row / conv_col   fill, Enter                     explorer
Pooling page (/pooling)
  mode                radio pool_mode                    click the next option           pooled
  pool size           slider pool_size                   ArrowRight / ArrowLeft          pooled
  different h and w   toggle pool_rect                   click                           width slider
  pool width          slider pool_width                  arrows (the toggle on first)    pooled
  stride              selectbox pool_stride              open, click option              pooled
  edges               radio pool_edge                    click (pool size 5 first)       pooled
  window row/column   slider pool_cell_row / _col        ArrowRight / ArrowLeft          window
  CNN stages          slider pool_stages                 ArrowRight / ArrowLeft          stages
  stage input         radio pool_stage_source            click the other option          stages
  test image number   slider pool_stage_index            ArrowRight / ArrowLeft          stages

Views: "result" the picture in .st-key-conv_result; "explorer" the h3 "Output pixel (row R,
column C)" with the new value and the pictures in .st-key-conv_zoom_in / _zoom_out / _arith;
"pooled" the first picture after the text "Downsampled (pooled)"; "window" the pictures
between the headers "Window explorer" and "How a CNN shrinks"; "stages" the pictures after
that header; "width slider" the Pool width slider appearing or going (the pooled picture
cannot change when the toggle turns on: the width starts equal to the height).

Each control is measured, in the same run, on this checkout, optionally ``--compare PATH``
(another checkout, started with its own app.py and PYTHONPATH), and a minimal Streamlit app
per page with the same widget keys and the same work (benchmarks/minimal_apps.py), the apps
alternating in rounds so drift in the machine's load hits all alike; every app opens the
page afresh (a new session) before each control. Prints, per page, medians, p90, n (edits
that became visible), the ratios this/minimal and this/compared, and the machine load at
start and end; asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_controls [--page all] [--compare ../baseline] [--edits 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import minimal_apps  # noqa: E402
from benchmarks.browser import start_minimal_app  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM_ARGS, chromium_path, free_port, stop_app, wait_healthy, wait_idle,
)

STILL_MS = 600
"""A view counts as finished once it has not changed for this long after the app went idle."""

# The clock. window.__next = {view, needle} is what the next edit must change; arm(on) takes a snapshot of that
# view and lets the next input event of kind `on` start the clock (t0). Every later change of the view (its
# pictures' sources, or its elements coming and going) is timed once its pictures have loaded and a frame has been
# painted (a.last, ms after t0); with a needle, the moment an h3 containing it is painted (a.needleAt).
WATCH_JS = """
() => {
  const follows = (a, b) => !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  const pictures = (from, to) => from ? [...document.querySelectorAll('img')].filter(
      (i) => follows(from, i) && (!to || follows(i, to))) : [];
  const header = (text) => [...document.querySelectorAll('h2')].find((h) => h.textContent.includes(text));
  const label = (text) => [...document.querySelectorAll("[data-testid='stMarkdownContainer']")].find(
      (m) => m.textContent.trim().startsWith(text));
  const VIEWS = {
    result: () => [...document.querySelectorAll('.st-key-conv_result img')],
    explorer: () => [...document.querySelectorAll(
        '.st-key-conv_zoom_in img, .st-key-conv_zoom_out img, .st-key-conv_arith img')],
    pooled: () => pictures(label('Downsampled (pooled)')).slice(0, 1),
    window: () => pictures(header('Window explorer'), header('How a CNN shrinks')),
    stages: () => pictures(header('How a CNN shrinks')),
    'width slider': () => [...document.querySelectorAll(".st-key-pool_width input[type='range']")],
  };
  const signature = (els) => els.length + ':' + els.map((e) => e.src || e.tagName).join('|');
  window.__next = null; window.__arm = null;
  window.__snapshot = (on) => {
    const {view, needle} = window.__next;
    window.__arm = {on, view, needle, sig: signature(VIEWS[view]())};
  };
  const hit = (on) => { const a = window.__arm; if (a && a.on === on && a.t0 === undefined) a.t0 = performance.now(); };
  document.addEventListener('pointerdown', () => hit('pointerdown'), true);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') hit(e.ctrlKey || e.metaKey ? 'ctrl+Enter' : 'Enter');
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') hit('arrow');
  }, true);
  new MutationObserver(() => {
    const a = window.__arm;
    if (!a || a.t0 === undefined) return;
    const els = VIEWS[a.view](), sig = signature(els);
    if (sig !== a.sig) {
      a.sig = sig;
      const paint = () => requestAnimationFrame(() => { if (a.sig === sig) a.last = performance.now() - a.t0; });
      const pending = els.filter((e) => e.tagName === 'IMG' && !(e.complete && e.naturalWidth));
      Promise.all(pending.map((i) => new Promise((ok) => {
        i.addEventListener('load', ok, {once: true}); i.addEventListener('error', ok, {once: true});
      }))).then(paint);
    }
    if (a.needle && a.needleAt === undefined
        && [...document.querySelectorAll('h3')].some((h) => h.textContent.includes(a.needle))) {
      a.needleAt = null;
      requestAnimationFrame(() => { a.needleAt = performance.now() - a.t0; });
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


def arm(page, on: str) -> None:
    """The next ``on`` event ('Enter', 'ctrl+Enter', 'arrow', 'pointerdown') starts the clock."""
    page.evaluate("(on) => window.__snapshot(on)", on)


# ----------------------------------------------------------------------------- how controls are driven

def typed(key: str, value, ctrl: bool = False):
    """Fill the widget's input with value(i), then Enter (Ctrl+Enter for a text area)."""
    def step(page, i: int) -> None:
        box = page.locator(f".st-key-{key} textarea, .st-key-{key} input").first
        box.fill(str(value(i)))
        arm(page, "ctrl+Enter" if ctrl else "Enter")
        box.press("Control+Enter" if ctrl else "Enter")
    return step


def radio(key: str, index):
    """Click option number index(i) of a radio group."""
    def step(page, i: int) -> None:
        option = page.locator(f".st-key-{key} [data-testid='stRadioOption']").nth(index(i))
        arm(page, "pointerdown")
        option.click()
    return step


def click(key: str):
    """Click a checkbox or toggle (its label)."""
    def step(page, i: int) -> None:
        box = page.locator(f".st-key-{key} label").first
        arm(page, "pointerdown")
        box.click()
    return step


def slide(key: str, right=lambda i: i % 2 == 0):
    """Focus the slider's thumb, press ArrowRight when right(i), else ArrowLeft (the value is sent on key up)."""
    def step(page, i: int) -> None:
        thumb = page.locator(f".st-key-{key} input[type='range']").first
        thumb.focus()
        arm(page, "arrow")
        page.keyboard.press("ArrowRight" if right(i) else "ArrowLeft")
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


def cell(grid_key: str, value):
    """Keyboard only: focus the kernel's pixel grid, move to the centre cell (row 2, column 2), type value(i), Enter."""
    def step(page, i: int) -> None:
        grid = page.locator(f".st-key-{grid_key} [role='grid']")
        grid.scroll_into_view_if_needed()
        grid.focus()
        page.keyboard.press("Control+Home")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowRight")
        page.keyboard.type(str(value(i)))
        arm(page, "Enter")
        page.keyboard.press("Enter")
    return step


def untimed(*steps):
    """Setup done once after the page opens (e.g. a kernel whose sum is not 0 before "normalise"), not timed."""
    def setup(page) -> None:
        for step in steps:
            page.evaluate("window.__next = {view: 'result', needle: null}")
            step(page, 0)
            wait_idle(page, timeout=60, quiet=0.5)
        page.evaluate("window.__arm = null")
    return setup


@dataclass
class Control:
    name: str
    view: str  # which view must change (see WATCH_JS's VIEWS)
    step: Callable  # step(page, i): edit number i, arming the clock just before the input event
    setup: Callable | None = None
    needle: Callable | None = None  # needle(i): text the explorer's h3 must show


# Presets with pairwise different kernels, none the default (course = Sobel y), and the border options from the
# one after the default ("course"), in a cycle: every pick changes the result.
PRESETS = ["Identity", "Sharpen", "Emboss", "Laplacian (4 neighbours)", "Box blur 3x3", "Outline",
           "Prewitt x (vertical edges)", "Gaussian blur 3x3", "Scharr y (horizontal edges)", "Laplacian (8 neighbours)"]
PADDINGS = ["Zeros around the image (same size)", "Reflect at the edge (…c b | a b c…)",
            "Repeat the edge pixel (…a a | a b c…)", "None (valid): the output shrinks",
            "Keep the border as in the course"]
POOL_STRIDES = ["2", "3", "= pool size", "5"]  # the default is "= pool size": each differs from the one before
PIXEL = lambda i: 100 + 20 * i  # noqa: E731 - output row / column of explorer edit i (the default is 333, 165)

CONVOLUTION = [
    Control("preset (selectbox)", "result", select("conv_preset", PRESETS)),
    Control("typed kernel (Ctrl+Enter)", "result",
            typed("conv_kernel_text", lambda i: f"-1 -2 -1\n0 {i + 1} 0\n1 2 1", ctrl=True)),
    Control("kernel cell (grid)", "result", cell("conv_kernel_grid_cells", lambda i: i + 2)),
    Control("kernel rows (4/3)", "result", typed("conv_kernel_rows", lambda i: 4 - i % 2)),
    Control("kernel columns (4/3)", "result", typed("conv_kernel_cols", lambda i: 4 - i % 2)),
    Control("weight", "result", typed("conv_weight", lambda i: f"{1 + 0.5 * (i + 1):g}")),
    Control("normalise (checkbox)", "result", click("conv_normalise"),
            setup=untimed(select("conv_preset", ["Box blur 3x3"]))),
    Control("border (padding)", "result", select("conv_padding", PADDINGS)),
    Control("stride (2/1)", "result", radio("conv_stride", lambda i: 1 - i % 2)),
    Control("flip kernel (toggle)", "result", click("conv_flip")),
    Control("show the result as", "result", radio("conv_mapping", lambda i: (i + 1) % 4)),
    Control("explorer: output row", "explorer", typed("conv_row", PIXEL), needle=lambda i: f"(row {PIXEL(i)},"),
    Control("explorer: output column", "explorer", typed("conv_col", PIXEL), needle=lambda i: f"column {PIXEL(i)})"),
]
POOLING = [
    Control("mode (radio)", "pooled", radio("pool_mode", lambda i: (i + 1) % 3)),
    Control("pool size (slider 5/4)", "pooled", slide("pool_size")),
    Control("height != width (toggle)", "width slider", click("pool_rect")),
    Control("pool width (slider 5/4)", "pooled", slide("pool_width"), setup=untimed(click("pool_rect"))),
    Control("stride (selectbox)", "pooled", select("pool_stride", POOL_STRIDES)),
    Control("edges (radio)", "pooled", radio("pool_edge", lambda i: 1 - i % 2), setup=untimed(slide("pool_size"))),
    Control("window: output row", "window", slide("pool_cell_row")),
    Control("window: output column", "window", slide("pool_cell_col")),
    Control("CNN stages (slider 3/2)", "stages", slide("pool_stages")),
    Control("stage input (radio)", "stages", radio("pool_stage_source", lambda i: 1 - i % 2)),
    Control("test image (slider)", "stages", slide("pool_stage_index")),
]
PAGES = {  # page -> (URL path, minimal app source without its last line, controls)
    "convolution": ("convolution", minimal_apps.CONVOLUTION_APP, CONVOLUTION),
    "pooling": ("pooling", minimal_apps.POOLING_APP, POOLING),
}


# ----------------------------------------------------------------------------- measuring

def one_edit(page, control: Control, i: int) -> float | None:
    """Do edit i; ms from the input event to the view's last change painted (None: nothing within 30 s)."""
    page.evaluate("(n) => { window.__next = n; }", {"view": control.view,
                                                    "needle": control.needle(i) if control.needle else None})
    control.step(page, i)
    done = ("(() => { const a = window.__arm; return !!a && (a.needle ? a.needleAt != null : a.last !== undefined); })()")
    deadline = time.monotonic() + 30
    while not page.evaluate(done) and time.monotonic() < deadline:
        time.sleep(0.01)
    visible = page.evaluate(done)
    wait_idle(page, timeout=60, quiet=0.3)
    last = "(() => { const a = window.__arm; return Math.max(a.last || 0, a.needleAt || 0); })()"
    deadline = time.monotonic() + 15  # later changes (the explorer follows the result) count: wait for the last
    while visible and page.evaluate(f"performance.now() - window.__arm.t0 - {last}") < STILL_MS \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    took = page.evaluate(last) if visible else None
    page.evaluate("window.__arm = null")
    return took


def open_page(page, url: str) -> None:
    page.bring_to_front()  # a background tab gets no animation frames
    page.goto(url)
    wait_idle(page, timeout=120)
    page.evaluate(WATCH_JS)


def measure(tabs, urls, times: dict[str, list[float]], control: Control, edits: int, size: int) -> None:
    """Each app in ``times`` gets edits 0..edits-1 of ``control``, ``size`` at a time, apps alternating."""
    for name in times:
        open_page(tabs[name], urls[name])
        if control.setup:
            control.setup(tabs[name])
    for start in range(0, edits, size):
        for name in (list(times) if start // size % 2 == 0 else list(times)[::-1]):
            tabs[name].bring_to_front()
            for i in range(start, min(start + size, edits)):
                took = one_edit(tabs[name], control, i)
                if took is not None:
                    times[name].append(took)


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


def report(page: str, results: dict[str, dict[str, list[float]]], names: list[str], edits: int) -> None:
    path = PAGES[page][0]
    print(f"\n{page.capitalize()} page (/{path}): median / p90 in ms, input event -> view changed and painted "
          f"(n = edits that became visible, of {edits})\n")
    ratios = ["this/minimal"] + (["this/compared"] if "compared" in names else [])
    head = f"{'control':28s} | " + " | ".join(f"{n:>22s}" for n in names) + "".join(f" | {r:>13s}" for r in ratios)
    print(head)
    print("-" * len(head))
    for control, times in results.items():
        cells = [f"{stats(times[n])[0]:6.0f} / {stats(times[n])[1]:6.0f} (n={len(times[n]):2d})" for n in names]
        this = stats(times["this"])[0]
        line = f"{control:28s} | " + " | ".join(f"{c:>22s}" for c in cells)
        line += "".join(f" | {this / stats(times[r.split('/')[1]])[0]:12.2f}x" for r in ratios)
        print(line)
    short = [f"{c} ({n}: n={len(t[n])})" for c, t in results.items() for n in names if len(t[n]) < edits]
    if short:
        print("\nnot every edit became visible: " + "; ".join(short))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1, 5, 15 min; {os.cpu_count()} cores)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--page", choices=["convolution", "pooling", "all"], default="all")
    ap.add_argument("--edits", type=int, default=9, help="edits per control and app")
    ap.add_argument("--round", type=int, default=3, help="edits on one app before switching to the next")
    ap.add_argument("--compare", type=Path, help="a second checkout of the project to measure in the same run")
    ap.add_argument("--fragment", action=argparse.BooleanOptionalAction, default=minimal_apps.FRAGMENT,
                    help="run each minimal app's page inside one st.fragment (default: one fragment, minimal_apps.FRAGMENT)")
    ap.add_argument("--only", default="", help="measure only the controls whose names contain one of these, a,b,...")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if (chromium := chromium_path()) is None:
        print("no Chromium found (apt-get install chromium)")
        return 2
    print(f"machine load at start: {load()}")
    print(f"CNNVIZ_DATA_DIR={os.environ.get('CNNVIZ_DATA_DIR', '(unset)')}")
    pages = list(PAGES) if args.page == "all" else [args.page]
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
        for page in pages:
            source = minimal_apps.source(PAGES[page][1], fragment=args.fragment)
            procs[page], ports[page] = start_minimal_app(source, tmp / page)
            print(f"minimal {page} app: port {ports[page]} (benchmarks/minimal_apps.py, "
                  f"{'one st.fragment' if args.fragment else 'no fragment'})")
        for name, proc in procs.items():
            wait_healthy(ports[name], proc)
        only = [word for word in args.only.split(",") if word]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            tabs = {n: browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    for n in [*roots, "minimal"]}
            for page in pages:
                path, _, controls = PAGES[page]
                urls = {**{n: f"http://127.0.0.1:{ports[n]}/{path}" for n in roots},
                        "minimal": f"http://127.0.0.1:{ports[page]}/"}
                for name, tab in tabs.items():  # warm-up: the first run imports and loads the images
                    open_page(tab, urls[name])
                    print(f"{name:8s} {page} warm: {len(tab.locator('img').all())} pictures on the page")
                print(f"\n{page}: {args.edits} edits per control and app, {args.round} at a time, apps alternating")
                results: dict[str, dict[str, list[float]]] = {}
                for control in controls:
                    if only and not any(word in control.name for word in only):
                        continue
                    times = results[control.name] = {n: [] for n in urls}
                    try:
                        measure(tabs, urls, times, control, args.edits, args.round)
                    except Exception as exc:  # noqa: BLE001 - report and go on with the next control
                        print(f"  {control.name}: failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                    print(f"  {control.name:28s} " + "   ".join(
                        f"{n} {stats(t)[0]:5.0f}/{stats(t)[1]:5.0f} ms (n={len(t)})" for n, t in times.items()),
                        flush=True)
                report(page, results, list(urls), args.edits)
                print(f"machine load after the {page} page: {load()}")
            browser.close()
    finally:
        for proc in procs.values():
            stop_app(proc)
        print(f"machine load at end:   {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
