"""Benchmark: the app's training path against a plain ``model.fit``, and the light pages'
responsiveness while a training runs. Prints ratios; not a test.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_training.py [--images 10000] [--repeats 2] [--browser]

1. One epoch of the course's CNN through ``cnnviz.ml.models.train`` with the Train page's
   hooks (a progress update at most every 0.25 s, the live Plotly curves rebuilt and
   serialised after the epoch, the queue's heartbeat every batch) against a plain
   ``model.fit`` of the same model, data, batch size and learning rate. Target: <= 1.10.
2. Reruns of a light page (Pixels, through AppTest) while a training runs in another
   thread of the same process (as on the server, where each session's script is a thread),
   against the same reruns with nothing else running.
3. With --browser: clicks on the Pixels page in Chromium against a real server, idle and
   while another tab trains the CNN on all 54,000 images.

Both use the app's TensorFlow thread cap (``CNNVIZ_TF_THREADS``, default 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

from cnnviz.core import data
from cnnviz.ml import models  # noqa: E402
from cnnviz.ml import datasets  # noqa: E402
from cnnviz.ml.queue import TrainingQueue  # noqa: E402
from cnnviz.ml import threads  # noqa: E402
from cnnviz.ml import training  # noqa: E402
from cnnviz.figures import training as training_figures  # noqa: E402


def load(n_images: int):
    (x_train, y_train), _ = datasets.load_fashion_mnist()
    x = data.prepare_images(x_train)
    (x_fit, y_fit), (x_val, y_val) = data.split_validation(x, y_train, validation_size=data.VALIDATION_SIZE)
    x_fit, y_fit = data.subset(x_fit, y_fit, n_images, seed=0)
    return (x_fit, y_fit), (x_val[:2000], y_val[:2000])


def plain_fit(x, y, val, batch_size: int) -> float:
    """The course's way: compile, fit one epoch, nothing else."""
    keras.utils.set_random_seed(0)
    model = models.build_cnn()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=batch_size, validation_data=val, verbose=0)
    return time.perf_counter() - started


def app_fit(x, y, val, batch_size: int) -> float:
    """The Train page's path: training.train with its per-batch and per-epoch hooks."""
    keras.utils.set_random_seed(0)
    run = training.TrainingRun("bench", models.build_cnn(), settings={})
    queue = TrainingQueue()
    ticket = queue.join("bench")
    queue.try_acquire(ticket)
    last = [0.0]
    updates = [0]

    def on_batch(epoch, batch, steps):
        queue.touch(ticket)
        now = time.perf_counter()
        if now - last[0] > 0.25 or batch == steps:
            last[0] = now
            updates[0] += 1

    def on_epoch(epoch, logs, seconds):
        training_figures.training_curves(run.history, total_epochs=1).to_json()

    started = time.perf_counter()
    try:
        training.train(run, x, y, epochs=1, batch_size=batch_size, validation_data=val,
                     on_batch=on_batch, on_epoch=on_epoch)
    finally:
        queue.release(ticket)
    return time.perf_counter() - started


def light_page_reruns(n: int) -> list[float]:
    """Seconds per rerun of the Pixels page (AppTest, whole app frame)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("pages/pixels.py")
    app.run()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
    return times


def browser_responsiveness(n: int) -> tuple[list[float], list[float]]:
    """Seconds from a click on the Pixels page's "Invert" to the app being idle again, in
    Chromium against a real server: with nothing else running, then while another tab
    trains the CNN on all 54,000 images (stopped afterwards)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import (CHROMIUM_ARGS, chromium_path, free_port, open_page,
                                    start_app, stop_app, wait_healthy, wait_idle)

    port = free_port()
    proc = start_app(port, Path("/tmp/bench_training_server.log"))
    url = f"http://127.0.0.1:{port}"

    def clicks(page) -> list[float]:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            page.get_by_role("button", name="Invert").click()
            wait_idle(page, timeout=120, quiet=0.05)
            times.append(time.perf_counter() - started - 0.05)
        return times

    try:
        wait_healthy(port, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            student = browser.new_page(viewport={"width": 1400, "height": 1000})
            trainer = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_page(student, url, "pixels")
            open_page(trainer, url, "train", timeout=240)
            idle = clicks(student)
            slider = trainer.locator(".st-key-train_size input[type='range']").first
            slider.focus()
            slider.press("End")
            wait_idle(trainer, timeout=120)
            trainer.get_by_role("button", name="Start training").click()
            trainer.get_by_test_id("stProgress").wait_for(timeout=240_000)
            time.sleep(3.0)
            busy = clicks(student)
            still_training = trainer.get_by_test_id("stProgress").count() > 0
            trainer.locator(".st-key-train_stop button").first.click()
            wait_idle(trainer, timeout=120)
            browser.close()
        if not still_training:
            print("   (the training ended before the measurements did: use fewer clicks)")
        return idle, busy
    finally:
        stop_app(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=10_000, help="training images per epoch")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--reruns", type=int, default=20)
    p.add_argument("--browser", action="store_true",
                   help="also measure clicks in Chromium against a real server while a tab trains")
    args = p.parse_args()
    print(f"TensorFlow threads (intra, inter): {threads.cap_tf_threads()}")
    (x, y), val = load(args.images)

    plain, app = [], []
    for _ in range(args.repeats):  # alternate, keep the best of each (least disturbed)
        plain.append(plain_fit(x, y, val, args.batch_size))
        app.append(app_fit(x, y, val, args.batch_size))
    print(f"\n1. One CNN epoch on {len(x):,} images, batch {args.batch_size}:")
    print(f"   plain model.fit   {min(plain):6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in plain)})")
    print(f"   app training path {min(app):6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in app)})")
    print(f"   ratio app / plain = {min(app) / min(plain):.3f} (best runs), "
          f"{statistics.median(app) / statistics.median(plain):.3f} (medians)   (target <= 1.10; "
          "on a shared machine differences of +-15 % are noise: compare several runs)")

    idle = light_page_reruns(args.reruns)
    busy: list[float] = []
    done = threading.Event()

    def background_training():
        try:
            while not done.is_set():
                app_fit(x[:5000], y[:5000], val, args.batch_size)
        finally:
            done.set()

    worker = threading.Thread(target=background_training, daemon=True)
    worker.start()
    time.sleep(3.0)  # let the training get going
    busy = light_page_reruns(args.reruns)
    done.set()
    worker.join()
    print(f"\n2. Pixels page rerun (AppTest), {args.reruns} reruns each:")
    print(f"   idle server      median {1000 * statistics.median(idle):6.1f} ms, "
          f"max {1000 * max(idle):6.1f} ms")
    print(f"   during training  median {1000 * statistics.median(busy):6.1f} ms, "
          f"max {1000 * max(busy):6.1f} ms")
    print(f"   ratio during / idle (median) = {statistics.median(busy) / statistics.median(idle):.2f}")

    if args.browser:
        idle, busy = browser_responsiveness(min(args.reruns, 10))
        print("\n3. Pixels page 'Invert' click until idle (Chromium, real server), "
              f"{len(idle)} clicks each:")
        print(f"   nobody training  median {1000 * statistics.median(idle):6.1f} ms, "
              f"max {1000 * max(idle):6.1f} ms")
        print(f"   another tab trains the CNN  median {1000 * statistics.median(busy):6.1f} ms, "
              f"max {1000 * max(busy):6.1f} ms")
        print(f"   ratio during / idle (median) = {statistics.median(busy) / statistics.median(idle):.2f}")


if __name__ == "__main__":
    main()
