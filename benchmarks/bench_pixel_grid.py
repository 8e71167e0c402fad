"""The pixel grid: an edit in the grid -> the image it drives updated in Chromium, beside minimal apps.

Four uses of the grid (cnnviz.ui.pixel_grid), each driven in headless Chromium (Playwright,
Debian's /usr/bin/chromium) and timed inside the page, from the input event that sends the
edit (the keydown of Enter for a typed value, the pointerup that ends a stroke) to the last
change of the view it drives, its pictures loaded and a frame painted (the view then still
for 0.6 s once the app is idle):

  use                              grid key                 edit                          view
  Pixels: typed cell               gray_editor              type a value, Enter           heatmap .st-key-gray_image
  Pixels: paint stroke             gray_editor              drag along a row, release     heatmap .st-key-gray_image
  Convolution: typed kernel cell   conv_kernel_grid_cells   type into the centre cell     .st-key-conv_result img
  Activations: drawing stroke      act_draw_editor          drag a line, release          prediction AND maps charts
                                                                                          (.st-key-act_draw_predict,
                                                                                           .st-key-act_draw_grid)

Each use is measured, in the same run, on this checkout and on a minimal Streamlit app doing
the same work with the same grid and nothing else (MINIMAL_APPS below: the same component, the
same figure or convolution of the 512x512 stairwell, or the same model's prediction and maps),
apps alternating in rounds so drift in the machine's load hits both alike. The issue's targets:
typed cell and stroke -> image <= 150 ms p50, kernel cell -> result <= 150 ms, drawing stroke ->
maps and prediction <= 300 ms. Prints medians, p90, n, the ratio this/minimal and the machine
load at start and end; asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_pixel_grid [--edits 9] [--use all]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_controls import start_checkout
from benchmarks.browser import start_minimal_app
from tests.e2e.conftest import (
    CHROMIUM_ARGS,
    chromium_path,
    free_port,
    stop_app,
    wait_healthy,
    wait_idle,
)
from tests.e2e.pixel_grid import cell_centre, grid

STILL_MS = 600
"""A view counts as finished once it has not changed for this long after the app went idle."""

_MINIMAL_HEAD = '''
import numpy as np
import streamlit as st
ss = st.session_state
'''

MINIMAL_APPS = {
    "pixels": _MINIMAL_HEAD + '''
from cnnviz.core import images
from cnnviz.figures import matrices
from cnnviz.ui.pixel_grid import matrix_grid

left, right = st.columns([1.1, 1])
with left:
    m = matrix_grid("gray", default=images.SMILEY, key="gray_editor", label="Grayscale matrix")
with right:
    st.plotly_chart(matrices.matrix_heatmap(m, title="The matrix as an image", height=460), key="gray_image",
                    config={"displayModeBar": False})
''',
    "convolution": _MINIMAL_HEAD + '''
from cnnviz.core import convolution as conv
from cnnviz.core import images
from cnnviz.core.data import load_ascent
from cnnviz.core.grid_edits import GridLimits
from cnnviz.ui.pixel_grid import pixel_grid, signed_look

ss.setdefault("settings", conv.ConvolutionSettings())
image = st.cache_resource(load_ascent)()


def store(edit):
    ss.settings = ss.settings.replace(kernel=edit.matrix, preset=None)


controls, result = st.columns([1.1, 3])
with controls:
    kernel = ss.settings.kernel
    pixel_grid(kernel, key="conv_kernel_grid_cells", label="Kernel", current=lambda: ss.settings.kernel, store=store,
               limits=GridLimits(low=-1e6, high=1e6, whole=False, first_index=1),
               look=signed_look(float(np.abs(kernel).max())))
with result, st.container(key="conv_result"):
    raw, shown = ss.settings.apply(image)
    st.image(images.png_bytes(shown, compress_level=1), output_format="PNG")
''',
    "activations": _MINIMAL_HEAD + '''
from cnnviz.core.data import CLASS_NAMES
from cnnviz.figures import network
from cnnviz.ml.activations import ActivationModel
from cnnviz.ml.models import load_shipped
from cnnviz.ui.pixel_grid import drawing_look, matrix_grid

explorer = st.cache_resource(lambda: ActivationModel(load_shipped("cnn")))()
layers = explorer.map_layers()
ss.setdefault("drawing", np.zeros((28, 28), np.uint8))
left, right = st.columns([1, 1.9])
with left:
    drawing = matrix_grid("drawing", default=ss.drawing, key="act_draw_editor", look=drawing_look(), label="Drawing")
with right:
    probabilities = explorer.probabilities(drawing)
    st.markdown(f"The model says **{CLASS_NAMES[int(probabilities[0].argmax())]}**.")
    st.plotly_chart(network.prediction_figure(probabilities, CLASS_NAMES, row_labels=["your drawing"]),
                    key="act_draw_predict", config={"displayModeBar": False}, theme=None)
columns = [(n, explorer.maps(drawing, n)[..., 1]) for n in layers]
st.plotly_chart(network.activation_grid(drawing[np.newaxis], columns, row_labels=["your drawing"], filter_index=1),
                key="act_draw_grid", config={"displayModeBar": False}, theme=None)
''',
}

# The clock: arm(on, selectors) lets the next input event of kind `on` (pointerup, Enter) start it (t0); every
# later change inside a watched container (a picture's source, Plotly's drawing; not Streamlit's stale/fresh
# marks) is timed once its pictures have loaded and a frame is painted (last[selector], ms after t0).
WATCH_JS = """
() => {
  window.__arm = null;
  window.__armFor = (on, selectors) => { window.__arm = {on, selectors, last: {}}; };
  const hit = (on) => { const a = window.__arm; if (a && a.on === on && a.t0 === undefined) a.t0 = performance.now(); };
  document.addEventListener('pointerup', () => hit('pointerup'), true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') hit('Enter'); }, true);
  // Streamlit marks elements stale and fresh while any fragment runs, and the paint report keeps a token:
  // neither is the view changing.
  const bookkeeping = (m) => m.type === 'attributes' && (m.attributeName === 'data-stale' || m.attributeName === 'data-token'
      || (m.attributeName === 'class' && m.target.classList && m.target.classList.contains('stElementContainer')));
  new MutationObserver((mutations) => {
    const a = window.__arm;
    if (!a || a.t0 === undefined) return;
    for (const sel of a.selectors) {
      const box = document.querySelector(sel);
      if (!box || !mutations.some((m) => box.contains(m.target) && !bookkeeping(m))) continue;
      const paint = () => requestAnimationFrame(() => { a.last[sel] = performance.now() - a.t0; });
      const pending = [...box.querySelectorAll('img')].filter((i) => !(i.complete && i.naturalWidth));
      if (pending.length) Promise.all(pending.map((i) => i.decode().catch(() => null))).then(paint);
      else paint();
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


@dataclass
class Use:
    name: str
    page: str  # the app's URL path, and the key of MINIMAL_APPS
    grid_key: str
    on: str  # the input event that starts the clock
    views: tuple[str, ...]  # every one must change


def type_cell(row: int, col: int, value):
    def step(page, use: Use, i: int) -> None:
        grid(page, use.grid_key).focus()
        page.keyboard.press("Control+Home")
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        for _ in range(col):
            page.keyboard.press("ArrowRight")
        page.keyboard.type(str(value(i)))
        arm(page, use)
        page.keyboard.press("Enter")
    return step


def drag(points):
    """A stroke through ``points(i)`` (row, col in cells); the clock starts at the release."""
    def step(page, use: Use, i: int) -> None:
        path = points(i)
        grid(page, use.grid_key).scroll_into_view_if_needed()
        page.mouse.move(*cell_centre(page, use.grid_key, *path[0]))
        page.mouse.down()
        for point in path[1:]:
            page.mouse.move(*cell_centre(page, use.grid_key, *point), steps=2)
        arm(page, use)
        page.mouse.up()
    return step


TARGET_MS = {"Pixels: typed cell -> image": 150, "Pixels: paint stroke -> image": 150,
             "Convolution: kernel cell -> result": 150, "Activations: drawing stroke -> maps+prediction": 300}
"""The issue's targets (p50, ms), printed beside each figure."""


def arm(page, use: Use) -> None:
    page.evaluate("([on, views]) => window.__armFor(on, views)", [use.on, list(use.views)])


USES = {
    "pixels-cell": (Use("Pixels: typed cell -> image", "pixels", "gray_editor", "Enter", (".st-key-gray_image",)),
                    type_cell(0, 0, lambda i: 200 + i)),
    "pixels-stroke": (Use("Pixels: paint stroke -> image", "pixels", "gray_editor", "pointerup",
                          (".st-key-gray_image",)),
                      drag(lambda i: [(i % 10 + 0.5, 0.5), (i % 10 + 0.5, 4.5)])),
    "kernel-cell": (Use("Convolution: kernel cell -> result", "convolution", "conv_kernel_grid_cells", "Enter",
                        (".st-key-conv_result",)),
                    type_cell(1, 1, lambda i: i + 2)),
    "drawing-stroke": (Use("Activations: drawing stroke -> maps+prediction", "activations", "act_draw_editor",
                           "pointerup", (".st-key-act_draw_predict", ".st-key-act_draw_grid")),
                       drag(lambda i: [(3 + 2.5 * i % 22, 4.5), (3 + 2.5 * i % 22 + 3, 14.5), (3 + 2.5 * i % 22, 23.5)])),
}


def one_edit(page, use: Use, step, i: int) -> float | None:
    """Do edit i; ms from the input event to the last change of the views, painted (None: nothing within 30 s)."""
    step(page, use, i)
    done = "(n) => { const a = window.__arm; return !!a && Object.keys(a.last).length === n; }"
    deadline = time.monotonic() + 30
    while not page.evaluate(done, len(use.views)) and time.monotonic() < deadline:
        time.sleep(0.01)
    visible = page.evaluate(done, len(use.views))
    wait_idle(page, timeout=60, quiet=0.3)
    last = "(() => Math.max(...Object.values(window.__arm.last), 0))()"
    deadline = time.monotonic() + 15
    while visible and page.evaluate(f"performance.now() - window.__arm.t0 - {last}") < STILL_MS \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    took = page.evaluate(last) if visible else None
    page.evaluate("window.__arm = null")
    return took


def open_use(page, url: str, use: Use, real: bool) -> None:
    page.bring_to_front()
    page.goto(url)
    wait_idle(page, timeout=180)
    if real and use.page == "activations":  # the drawing is in a tab; start from a black image
        page.get_by_role("tab", name="Draw your own").click()
        wait_idle(page, timeout=120)
        page.locator(".st-key-act_draw_clear button").first.click()
        wait_idle(page)
    grid(page, use.grid_key).wait_for(timeout=60_000)
    page.evaluate(WATCH_JS)


def stats(times: list[float]) -> tuple[float, float]:
    if not times:
        return float("nan"), float("nan")
    ordered = sorted(times)
    return statistics.median(times), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1, 5, 15 min; {os.cpu_count()} cores)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--use", choices=[*USES, "all"], default="all")
    ap.add_argument("--edits", type=int, default=9, help="edits per use and app")
    ap.add_argument("--round", type=int, default=3, help="edits in a row on one app before the other's turn")
    args = ap.parse_args()
    uses = list(USES) if args.use == "all" else [args.use]
    print(f"load at start: {load()}")
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        procs = {"cnnviz": start_checkout(ROOT, port, tmp / "app.log")}
        urls = {"cnnviz": f"http://127.0.0.1:{port}"}
        for page_name in {USES[u][0].page for u in uses}:
            app_tmp = tmp / page_name
            app_tmp.mkdir()
            proc, mport = start_minimal_app(MINIMAL_APPS[page_name], app_tmp)
            procs[page_name] = proc
            urls[f"minimal {page_name}"] = f"http://127.0.0.1:{mport}"
            wait_healthy(mport, proc, timeout=120)
        wait_healthy(port, procs["cnnviz"], timeout=120)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                tabs = {"cnnviz": context.new_page(), "minimal": context.new_page()}
                for name in uses:
                    use, step = USES[name]
                    targets = {"cnnviz": f"{urls['cnnviz']}/{use.page}", "minimal": urls[f"minimal {use.page}"]}
                    times: dict[str, list[float]] = {"cnnviz": [], "minimal": []}
                    for app, url in targets.items():
                        open_use(tabs[app], url, use, real=app == "cnnviz")
                    for start in range(0, args.edits, args.round):
                        order = list(targets) if start // args.round % 2 == 0 else list(targets)[::-1]
                        for app in order:
                            tabs[app].bring_to_front()
                            for i in range(start, min(start + args.round, args.edits)):
                                took = one_edit(tabs[app], use, step, i)
                                if took is not None:
                                    times[app].append(took)
                    results[use.name] = times
                browser.close()
        finally:
            for proc in procs.values():
                stop_app(proc)
    print(f"\nmedian / p90 in ms, input event -> view changed and painted (n = edits that became visible, "
          f"of {args.edits})\n")
    print(f"{'use':48s} | {'target':>6s} | {'cnnviz':>22s} | {'minimal app':>22s} | this/minimal")
    for name, times in results.items():
        (m, p), (mm, mp) = stats(times["cnnviz"]), stats(times["minimal"])
        print(f"{name:48s} | {TARGET_MS[name]:6d} | {m:6.0f} / {p:6.0f} (n={len(times['cnnviz']):2d}) | "
              f"{mm:6.0f} / {mp:6.0f} (n={len(times['minimal']):2d}) | {m / mm:12.2f}")
    print(f"\nload at end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
