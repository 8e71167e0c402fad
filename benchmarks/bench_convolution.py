"""Benchmark: the course's manual convolution of the 512x512 stairwell, and bigger kernels.

The course's own loop against cnnviz.core.convolution.correlate2d (the course's options: border
kept, weight 1), scipy.ndimage.correlate and scipy.signal.correlate2d, all measured in one run
on this machine; ratios compare those times. For 5x5 and 15x15 kernels the course's loop is
timed on a 64x64 crop and scaled by the number of output pixels (it would take minutes on
the whole image); that line says so.

Targets: cnnviz at least 300x faster than the course's loop, and no slower than
scipy.ndimage.correlate (ratio cnnviz/ndimage <= about 1).

Run: ``CNNVIZ_DATA_DIR=/work/shared/data python benchmarks/bench_convolution.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz.core import convolution  # noqa: E402
from benchmarks.timing import best_time  # noqa: E402
from cnnviz.core.data import DataUnavailable, load_ascent  # noqa: E402
from cnnviz.core import reference  # noqa: E402


def main() -> None:
    from scipy import ndimage, signal

    try:
        image, name = load_ascent(), "stairwell"
    except DataUnavailable as exc:
        from skimage import data

        print(f"{exc} Using scikit-image's camera instead.")
        image, name = data.camera(), "camera"
    rng = np.random.default_rng(0)
    kernels = {
        "course 3x3": convolution.COURSE_KERNEL,
        "5x5 integer": rng.integers(-3, 4, (5, 5)).astype(np.float64),
        "15x15 integer": rng.integers(-3, 4, (15, 15)).astype(np.float64),
    }
    print(f"{name} {image.shape[0]}x{image.shape[1]}, times are the best of 5 runs")
    for label, kernel in kernels.items():
        cnnviz = best_time(lambda: convolution.map_output(convolution.correlate2d(image, kernel)), repeat=7, number=3)
        raw = best_time(lambda: convolution.correlate2d(image, kernel), repeat=7, number=3)
        nd = best_time(lambda: ndimage.correlate(image, kernel, output=np.float64), repeat=7, number=3)
        nd_f64 = best_time(lambda: ndimage.correlate(image.astype(np.float64), kernel), repeat=7, number=3)
        sig = best_time(lambda: signal.correlate2d(image.astype(np.float64), kernel, mode="same"), repeat=3)
        if kernel.shape == (3, 3):
            course = best_time(lambda: reference.course_convolution(image, kernel, 1), repeat=1)
            course_note = "whole image"
            same = np.array_equal(reference.course_convolution(image, kernel, 1),
                                  convolution.map_output(convolution.correlate2d(image, kernel)))
        else:
            crop = image[:64, :64]
            per_pixel = best_time(lambda: reference.course_convolution(crop, kernel, 1), repeat=1) / (
                (64 - kernel.shape[0] + 1) * (64 - kernel.shape[1] + 1))
            course = per_pixel * (image.shape[0] - kernel.shape[0] + 1) * (image.shape[1] - kernel.shape[1] + 1)
            course_note = "64x64 crop, scaled"
            same = None
        print(f"\n{label} kernel")
        print(f"  course loop ({course_note}) {course * 1e3:10.1f} ms")
        print(f"  cnnviz correlate2d + clip    {cnnviz * 1e3:10.2f} ms   {course / cnnviz:8.0f}x faster than the course"
              + ("" if same is None else f" (identical output: {same})"))
        print(f"  cnnviz correlate2d alone     {raw * 1e3:10.2f} ms   (raw sums, border kept, no clipping)")
        print(f"  scipy.ndimage.correlate      {nd * 1e3:10.2f} ms   cnnviz alone/ndimage = {raw / nd:.2f}"
              f"   (on a float64 copy: {nd_f64 * 1e3:.2f} ms, cnnviz/that = {cnnviz / nd_f64:.2f})")
        print(f"  scipy.signal.correlate2d     {sig * 1e3:10.2f} ms   cnnviz/signal = {cnnviz / sig:.3f}")


if __name__ == "__main__":
    main()
