"""Benchmark: 4x4 max pooling of the convolved 512x512 stairwell.

The course's loop (collect 16 pixels, sort, keep the first) against
cnnviz.core.pooling.pool2d (which also returns the kept positions) and the best
library alternative, scikit-image's ``block_reduce``, all in one run; ratios
compare times measured here, on this machine, now.

Run: ``CNNVIZ_DATA_DIR=/work/shared/data python benchmarks/bench_pooling.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz.core import convolution, pooling  # noqa: E402
from benchmarks.timing import best_time  # noqa: E402
from cnnviz.core.data import DataUnavailable, load_ascent  # noqa: E402
from cnnviz.core import reference  # noqa: E402


def main() -> None:
    try:
        stairwell = load_ascent()
    except DataUnavailable as exc:
        sys.exit(f"cannot run the benchmark: {exc}")
    # The course's convolution (kernel, weight 1, border kept, clipped), stored as int16 as the course does.
    i_transformed = convolution.map_output(convolution.correlate2d(stairwell, convolution.COURSE_KERNEL)).astype(np.int16)

    from skimage.measure import block_reduce

    results = {
        "course loop": reference.course_pooling(i_transformed),
        "cnnviz pool2d": pooling.pool2d(i_transformed, mode="max", pool_size=4).values,
        "skimage block_reduce": block_reduce(i_transformed, (4, 4), np.max),
    }
    for name, result in results.items():
        assert result.shape == (128, 128) and np.array_equal(result, results["course loop"]), name

    times = {
        "course loop": best_time(lambda: reference.course_pooling(i_transformed), repeat=3),
        "cnnviz pool2d": best_time(lambda: pooling.pool2d(i_transformed, mode="max", pool_size=4), number=20),
        "skimage block_reduce": best_time(lambda: block_reduce(i_transformed, (4, 4), np.max), number=20),
    }
    print("4x4 max pooling of the convolved 512x512 stairwell -> 128x128 (same result from all three)")
    for name, seconds in times.items():
        print(f"  {name:<22} {seconds * 1e3:9.2f} ms")
    print(f"  cnnviz is {times['course loop'] / times['cnnviz pool2d']:.0f}x faster than the course loop, "
          f"{times['skimage block_reduce'] / times['cnnviz pool2d']:.2f}x the speed of block_reduce "
          "(cnnviz also returns which pixel each block kept)")


if __name__ == "__main__":
    main()
