"""Activation explorer: class or filter change -> new activation grid visible in Chromium.

One real browser (Debian's Chromium under Playwright) opens the Activations page
with the shipped CNN and, in turn, picks another class in the "Class" box, types
another filter number, and removes or puts back a layer (pool_2) in the "Layers"
box. For every change it measures, inside the page, the time from the click (or
Enter in the filter box) to the last
change drawn in the activation grid (``.st-key-act_grid``), painted: the moment
the student sees the whole new grid.

In the same run, a minimal Streamlit app with the class and filter widgets and one
small image that depends on them gives the floor (Streamlit's own round trip here).
Prints medians, p90 and ratios; asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_activations [--changes 12] [--repeat 1]

Target (issue 7): median <= 500 ms with the shipped model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.browser import NoChromium, chromium_page, served, settle, summary  # noqa: E402
from tests.e2e.conftest import wait_idle  # noqa: E402

MINIMAL_APP = '''
import numpy as np, streamlit as st
from cnnviz.core.data import CLASS_NAMES
from cnnviz.ui.resources import png_of

st.selectbox("Class", range(10), index=9, format_func=CLASS_NAMES.__getitem__, key="act_class")
st.number_input("Filter", 0, 63, 1, key="act_filter")
shade = (st.session_state.act_class * 64 + st.session_state.act_filter) % 256
with st.container(key="act_grid"):
    st.image(png_of(np.full((28, 28), shade, np.uint8)), width=112, output_format="PNG")
'''

# t0: a click on an option, on a layer chip's x, or Enter in a number box. Every change drawn inside the
# grid is stamped at the next animation frame; the last stamp after t0 is when the new grid
# is complete on screen.
WATCH_JS = """
() => {
  window.__t0 = null; window.__painted = 0; window.__changed = 0;
  const start = () => { window.__t0 = performance.now(); };
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('[role="option"], button[aria-label^="Remove "]')) start();
  }, true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') start(); }, true);
  new MutationObserver((records) => {
    const box = document.querySelector('.st-key-act_grid');
    if (!box || !records.some((r) => box.contains(r.target) && r.target !== box)) return;
    window.__changed = performance.now();
    requestAnimationFrame(() => { window.__painted = performance.now(); });
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true,
                             attributeFilter: ['src', 'href', 'd', 'transform', 'data-unformatted']});
}
"""

CLASSES = ["Sneaker", "Bag", "Trouser", "Shirt", "Sandal", "Coat", "Pullover", "Dress", "T-shirt/top", "Ankle boot"]


def choose_class(page, name: str) -> None:
    box = page.locator(".st-key-act_class input")
    box.click()
    box.fill(name)
    page.get_by_role("option", name=name, exact=True).click()


def set_filter(page, value: int) -> None:
    box = page.locator(".st-key-act_filter input")
    box.fill(str(value))
    box.press("Enter")


def toggle_layer(page, layer: str, *, remove: bool) -> None:
    """Remove ``layer`` from the Layers box (its chip's x), or pick it again."""
    if remove:
        page.locator(f".st-key-act_layers button[aria-label='Remove {layer}']").click()
    else:
        page.locator(".st-key-act_layers input").click()
        page.get_by_role("option", name=layer, exact=True).click()
        page.keyboard.press("Escape")


def measure(page, url: str, path: str, changes: int, kinds: tuple[str, ...]) -> dict[str, list[float]]:
    """Milliseconds from each change to the new grid painted, by kind of change (in turn)."""
    page.goto(f"{url}/{path}")
    wait_idle(page, timeout=180)
    page.locator(".st-key-act_grid").first.wait_for(timeout=120_000)
    page.evaluate(WATCH_JS)
    settle(page)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for k in range(changes):
        kind, turn = kinds[k % len(kinds)], k // len(kinds)
        if kind == "class":
            choose_class(page, CLASSES[turn % len(CLASSES)])
        elif kind == "filter":
            set_filter(page, 2 + turn % 30)
        else:
            toggle_layer(page, "pool_2", remove=turn % 2 == 0)
        settle(page)
        painted, t0 = page.evaluate("[window.__painted, window.__t0]")
        if t0 is not None and painted > t0:
            times[kind].append(painted - t0)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=12, help="changes per round (class, filter, layer in turn)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds on the app (a fresh page each)")
    ap.add_argument("--no-minimal", action="store_true", help="skip the minimal-app floor")
    args = ap.parse_args()

    try:
        with served("activations", None if args.no_minimal else MINIMAL_APP) as sv, chromium_page() as page:
            url = sv.url
            print(f"Class, filter or layer change -> activation grid painted in Chromium, shipped CNN, "
                  f"{args.changes} changes per round\n")
            floor = float("nan")
            if sv.minimal_url is not None:
                t = measure(page, sv.minimal_url, "", args.changes, ("class", "filter"))
                floor = summary("minimal Streamlit app (same widgets)", t["class"] + t["filter"])
            every: list[float] = []
            for r in range(args.repeat):
                t = measure(page, url, "activations", args.changes, ("class", "filter", "layer"))
                tag = f" (round {r + 1})" if args.repeat > 1 else ""
                for kind, values in t.items():
                    summary(f"cnnviz Activations, {kind} change{tag}", values)
                    every += values
        print()
        median = summary("cnnviz Activations, all changes", every)
        if sv.minimal_url is not None and every:
            print(f"cnnviz / minimal app:                {median / floor:5.2f}x")
        print("target (issue 7): median <= 500 ms")
    except NoChromium as missing:
        print(missing)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
