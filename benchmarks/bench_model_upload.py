"""Model upload: checking and loading the shipped CNN through the sandbox, next to Keras' own loader.

In one run, on the same bytes (assets/models/fashion_cnn.keras):

* ``sandbox``: ``cnnviz.ml.model_files.open_model_bytes`` — the fresh child process that
  reads and checks the file (no Keras), then the server's rebuild from the checked spec,
  the weights set, and ``check_model`` (feature extractor built): what a student waits for;
  also split into the child alone and the rebuild alone;
* ``keras``: ``keras.saving.load_model(path, compile=False, safe_mode=True)`` on the same
  file (loading only: no checks, no feature extractor) — the direct, unsandboxed way.

Prints best-of and median times per call; asserts nothing.

    python -m benchmarks.bench_model_upload [--repeat 5]

Target (issue 12): the sandboxed check and load under 1.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import keras

    from cnnviz.ml import model_files
    from cnnviz.ml.models import SHIPPED_MODELS

    path = SHIPPED_MODELS["cnn"]
    data = path.read_bytes()
    kind = model_files.sniff_format(data, path.name)
    model_files.open_model_bytes(data, path.name)  # warm up: Keras' first model build is slower
    keras.saving.load_model(path, compile=False, safe_mode=True)

    spec, weights = model_files.check_in_sandbox(data, kind)
    rows = {
        "sandbox: check + rebuild + extractor": timed(lambda: model_files.open_model_bytes(data, path.name), args.repeat),
        "  of which the child (check, weights)": timed(lambda: model_files.check_in_sandbox(data, kind), args.repeat),
        "  of which the rebuild (Keras layers)": timed(lambda: model_files.build_model(spec, weights), args.repeat),
        "keras.saving.load_model(safe_mode=True)": timed(
            lambda: keras.saving.load_model(path, compile=False, safe_mode=True), args.repeat),
    }
    print(f"{path.name} ({len(data) / 1024:.0f} KB), {args.repeat} runs each")
    print(f"{'':42s} {'best':>8s} {'median':>8s}")
    for name, times in rows.items():
        print(f"{name:42s} {min(times):7.3f}s {statistics.median(times):7.3f}s")
    best = min(rows["sandbox: check + rebuild + extractor"])
    print(f"sandboxed / direct (best): {best / min(rows['keras.saving.load_model(safe_mode=True)']):.1f}x; "
          f"target: sandboxed under 1.5 s ({'met' if best < 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
