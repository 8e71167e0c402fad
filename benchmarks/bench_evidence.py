"""Class evidence: occlusion, saliency, Grad-CAM and the classes x filters grid on the shipped CNN.

Times, on the first ankle boots of the test set (the Class evidence page's default):

* occlusion of one image with the default 6x6 grey patch, stride 2 (144 positions): cnnviz's
  one batch against the straightforward way, one ``model(x)`` call per occluded image;
* saliency and Grad-CAM (conv_2) of three images, from the logit, after the first call
  (which traces the gradient); against recomputing through a freshly built logit model
  each time (what a page would do without keeping the EvidenceModel);
* the classes x filters grid for N = 20 (200 test images), the first time and then from the
  cache; against 200 single-image calls of the feature extractor.

Prints medians of a few runs and the ratios; asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_evidence [--repeat 5]

Targets (issue 17): occlusion <= 2 s, saliency and Grad-CAM <= 500 ms, grid N=20 <= 3 s the first
time, then cached.
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


def timed(function, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import numpy as np

    from cnnviz.ml.threads import cap_tf_threads

    cap_tf_threads()
    import keras

    from cnnviz.core import evidence as core
    from cnnviz.core.data import prepare_images
    from cnnviz.ml.activations import ActivationModel
    from cnnviz.ml.datasets import load_fashion_mnist
    from cnnviz.ml.evidence import EvidenceModel
    from cnnviz.ml.models import load_shipped

    (_, _), (x_test, y_test) = load_fashion_mnist()
    boots = x_test[np.flatnonzero(y_test == 9)[:3]]
    explorer = ActivationModel(load_shipped("cnn"))
    print(f"machine: {os.cpu_count()} cores; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"TensorFlow threads capped as in the app\n")

    rows = []

    # -- occlusion ---------------------------------------------------------------
    def occlusion_fresh():
        return EvidenceModel(explorer).occlusion(boots[0])  # a fresh cache each time

    model = explorer.model

    def occlusion_one_by_one():
        batch, rows_, cols_ = core.occluded_images(boots[0])
        prepared = prepare_images(batch)
        base = keras.ops.convert_to_numpy(model(prepare_images(boots[:1]), training=False))[0]
        return [base[9] - keras.ops.convert_to_numpy(model(prepared[k:k + 1], training=False))[0, 9]
                for k in range(len(prepared))]

    occlusion_fresh()
    occlusion_one_by_one()
    t_occ, result = timed(occlusion_fresh, args.repeat)
    t_occ_base, drops = timed(occlusion_one_by_one, max(2, args.repeat // 2))
    np.testing.assert_allclose(result.drop(9).ravel(), drops, atol=1e-5)
    shared = EvidenceModel(explorer)
    shared.occlusion(boots[0])
    t_occ_cached, _ = timed(lambda: shared.occlusion(boots[0]), args.repeat)
    rows.append(("occlusion, 1 image, 6x6 patch, stride 2 (144)", t_occ, "one model call per image", t_occ_base, 2.0))
    rows.append(("occlusion, the same again (cached)", t_occ_cached, "", None, None))

    # -- saliency and Grad-CAM ------------------------------------------------------
    evidence = EvidenceModel(explorer)
    targets = [9, 9, 9]
    start = time.perf_counter()
    evidence.saliency(boots, targets)
    t_sal_first = time.perf_counter() - start
    evidence.grad_cam(boots, targets)
    t_sal, _ = timed(lambda: evidence.saliency(boots, targets), args.repeat)
    t_cam, _ = timed(lambda: evidence.grad_cam(boots, targets), args.repeat)
    t_sal_base, _ = timed(lambda: EvidenceModel(explorer).saliency(boots, targets), max(2, args.repeat // 2))
    t_cam_base, _ = timed(lambda: EvidenceModel(explorer).grad_cam(boots, targets), max(2, args.repeat // 2))
    rows.append(("saliency, the process's first gradient (once)", t_sal_first, "", None, None))
    rows.append(("saliency, 3 images (logit gradient)", t_sal, "logit model rebuilt each time", t_sal_base, 0.5))
    rows.append(("Grad-CAM on conv_2, 3 images", t_cam, "logit model rebuilt each time", t_cam_base, 0.5))

    # -- the classes x filters grid -------------------------------------------------------
    chosen = core.first_per_class(y_test, 20)
    images, labels = x_test[chosen], y_test[chosen]
    grid = EvidenceModel(explorer)
    start = time.perf_counter()
    means = grid.class_filter_means(images, labels, "conv_2")
    t_grid_first = time.perf_counter() - start
    t_grid_cached, _ = timed(lambda: grid.class_filter_means(images, labels, "conv_2"), args.repeat)
    extractor = explorer.extractor
    index = explorer.names.index("conv_2")

    def grid_one_by_one():
        prepared = prepare_images(images)
        per_image = [keras.ops.convert_to_numpy(extractor(prepared[k:k + 1], training=False)[index]).mean(axis=(1, 2))[0]
                     for k in range(len(prepared))]
        return core.class_means(np.stack(per_image), labels)

    t_grid_base, direct = timed(grid_one_by_one, 1)
    np.testing.assert_allclose(means, direct, rtol=1e-4, atol=1e-5)
    rows.append(("classes x filters, conv_2, N=20 (200 images), first", t_grid_first,
                 "200 single-image extractor calls", t_grid_base, 3.0))
    rows.append(("classes x filters, the same again (cached)", t_grid_cached, "", None, None))

    print(f"{'what':52s} {'cnnviz':>10s}   {'baseline':34s} {'time':>9s} {'ratio':>7s}  target")
    for what, t, base_name, t_base, target in rows:
        ratio = f"{t_base / t:6.1f}x" if t_base else ""
        base = f"{t_base * 1000:7.0f} ms" if t_base else ""
        goal = f"<= {target * 1000:.0f} ms {'ok' if t <= target else 'MISSED'}" if target else ""
        print(f"{what:52s} {t * 1000:7.1f} ms   {base_name:34s} {base:>9s} {ratio:>7s}  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
