"""Weight snapshots: what they cost a training, and how fast the Activations page follows the slider.

1. **Slider move -> kernels and maps painted in Chromium** (``--browser``, the default): one real
   browser opens the Activations page with the shipped CNN, on the activation grid (the maps)
   and on the learned kernels, and moves the "watch it learn" slider with the keyboard, one
   snapshot at a time, across all snapshots and back. For every move it measures, inside the
   page, the time from the key press to the last change painted in the grid
   (``.st-key-act_grid``) or the kernels (``.st-key-act_kernels``). The first pass over the
   snapshots builds each snapshot's model once per server (cold); the way back finds them built
   (warm). In the same run and page, typing another filter number (an existing control redrawing
   the same grid) is the comparison.
2. **Snapshot overhead on an epoch** (``--training``): the course's CNN trained on the same
   images, alternately without and with snapshots (random start, batches 10/50/200, every
   epoch), one TensorFlow thread as in the server; prints the median epoch time of each and
   their ratio. Asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_snapshots [--browser] [--training]
        [--images 10000] [--epochs 2] [--rounds 3]

Targets (issue 16): slider move -> kernels and maps updated <= 300 ms p50; snapshots add at
most 5 % to an epoch's time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.browser import NoChromium, chromium_page, served, settle, summary  # noqa: E402
from tests.e2e.conftest import wait_idle  # noqa: E402

SLIDER = ".st-key-act_snapshot_shipped input[type='range']"

# t0: a key press on the slider, or Enter in the filter box. Every change drawn inside the watched
# box is stamped at the next animation frame; the last stamp after t0 is when it is complete on screen.
WATCH_JS = """
(selector) => {
  window.__t0 = null; window.__painted = 0; window.__changed = 0;
  document.addEventListener('keydown', (e) => {
    if (['Enter', 'ArrowRight', 'ArrowLeft'].includes(e.key)) window.__t0 = performance.now();
  }, true);
  new MutationObserver((records) => {
    const box = document.querySelector(selector);
    if (!box || !records.some((r) => box.contains(r.target) && r.target !== box)) return;
    window.__changed = performance.now();
    requestAnimationFrame(() => { window.__painted = performance.now(); });
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true,
                             attributeFilter: ['src', 'href', 'd', 'transform', 'data-unformatted']});
}
"""


def painted_after(page) -> float | None:
    painted, t0 = page.evaluate("[window.__painted, window.__t0]")
    return painted - t0 if t0 is not None and painted > t0 else None


def slider_moves(page, url: str, view: str, box: str) -> tuple[list[float], list[float], int]:
    """(cold ms, warm ms, snapshots) for moves over every snapshot and back, on ``view``."""
    page.goto(f"{url}/activations?view={view}")
    wait_idle(page, timeout=240)
    page.locator(box).first.wait_for(timeout=120_000)
    page.evaluate(WATCH_JS, box)
    count = int(page.locator(SLIDER).first.get_attribute("max")) + 1
    page.locator(SLIDER).first.focus()
    page.keyboard.press("Home")  # not timed: to the random start
    settle(page)
    cold, warm = [], []
    for key, into in (("ArrowRight", cold), ("ArrowLeft", warm)):
        for _ in range(count - 1):
            page.locator(SLIDER).first.focus()
            page.keyboard.press(key)
            settle(page)
            ms = painted_after(page)
            if ms is not None:
                into.append(ms)
    return cold, warm, count


def filter_changes(page, url: str, changes: int) -> list[float]:
    """The comparison: another filter number typed on the grid (the same page, the trained model)."""
    page.goto(f"{url}/activations")
    wait_idle(page, timeout=240)
    page.locator(".st-key-act_grid").first.wait_for(timeout=120_000)
    page.evaluate(WATCH_JS, ".st-key-act_grid")
    settle(page)
    times = []
    for k in range(changes):
        box = page.locator(".st-key-act_filter input")
        box.fill(str(2 + k % 30))
        box.press("Enter")
        settle(page)
        ms = painted_after(page)
        if ms is not None:
            times.append(ms)
    return times


def browser_benchmark() -> None:
    try:
        with served("snapshots", None) as sv, chromium_page() as page:
            url = sv.url
            print("Snapshot slider move -> painted in Chromium, shipped CNN (one snapshot per key press)\n")
            every = []
            for view, box, what in (("grid", ".st-key-act_grid", "maps (activation grid)"),
                                    ("kernels", ".st-key-act_kernels", "kernels")):
                cold, warm, count = slider_moves(page, url, view, box)
                summary(f"slider -> {what}, first visit of each of {count} (cold)", cold)
                summary(f"slider -> {what}, again (warm)", warm)
                every += cold + warm
            floor = summary("comparison: filter number -> activation grid", filter_changes(page, url, 12))
        median = summary("slider moves, all", every)
        print(f"slider / filter change:   {median / floor:5.2f}x")
        print("target (issue 16): slider move -> kernels and maps updated <= 300 ms p50")
    except NoChromium as missing:
        print(missing)


def training_benchmark(images: int, epochs: int, rounds: int) -> None:
    os.environ.setdefault("CNNVIZ_TF_THREADS", "1")
    from cnnviz.core import data
    from cnnviz.core.snapshots import SnapshotSeries
    from cnnviz.ml import models, threads, training
    from cnnviz.ml.datasets import load_fashion_mnist

    threads.cap_tf_threads()
    (x, y), _ = load_fashion_mnist()
    x, y = data.prepare_images(x)[:images], y[:images]
    print(f"\nThe course's CNN on {images:,} images, batch 32, {epochs} epochs per run, "
          f"{rounds} rounds of (without, with) snapshots, 1 TensorFlow thread\n")
    seconds: dict[str, list[float]] = {"without": [], "with": []}
    for r in range(rounds):
        for kind in ("without", "with"):
            run = training.TrainingRun("cnn", models.build_cnn(), settings={})
            series = SnapshotSeries() if kind == "with" else None
            started = time.perf_counter()
            training.train(run, x, y, epochs=epochs, batch_size=32, seed=r, snapshots=series)
            total = time.perf_counter() - started
            seconds[kind] += run.epoch_seconds
            extra = f", {len(series)} snapshots, {series.nbytes / 2**20:.1f} MB" if series else ""
            print(f"round {r + 1}, {kind:7s} snapshots: epochs " +
                  " ".join(f"{s:.2f}" for s in run.epoch_seconds) + f" s (fit {total:.2f} s{extra})", flush=True)
    copy_ms = snapshot_copy_ms(models.build_cnn())
    print(f"\none snapshot (get_weights + copy into the series), course CNN: {copy_ms:.2f} ms median of 200; "
          f"epoch 1 takes 5 (start, 10, 50, 200, its end), the others 1")
    without, with_ = statistics.median(seconds["without"]), statistics.median(seconds["with"])
    first = [seconds[k][i] for k in seconds for i in range(0, len(seconds[k]), epochs)]
    print(f"\nmedian epoch: without {without:.2f} s, with {with_:.2f} s: ratio {with_ / without:.3f}")
    print(f"from the copy cost: epoch 1 + {5 * copy_ms / 1000 / without:.4%}, later epochs + "
          f"{copy_ms / 1000 / without:.4%} of the median epoch without")
    print(f"first epochs only (where the early snapshots are): without "
          f"{statistics.median(first[:rounds]):.2f} s, with {statistics.median(first[rounds:]):.2f} s")
    print("target (issue 16): snapshots add at most 5 % to an epoch's time")


def snapshot_copy_ms(model, repeats: int = 200) -> float:
    """Milliseconds to take one snapshot of ``model`` (what the callback does at each point)."""
    from cnnviz.core.snapshots import SnapshotSeries

    times = []
    for _ in range(repeats):
        series = SnapshotSeries()
        started = time.perf_counter()
        series.add(0, 0, model.get_weights())
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--browser", action="store_true", help="only the slider in Chromium")
    ap.add_argument("--training", action="store_true", help="only the overhead on training")
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    both = not (args.browser or args.training)
    print(f"load average: {open('/proc/loadavg').read().strip()}")
    if args.browser or both:
        browser_benchmark()
    if args.training or both:
        training_benchmark(args.images, args.epochs, args.rounds)
    print(f"load average: {open('/proc/loadavg').read().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
