"""The course's own loops, and plain-loop references the tests hold the fast paths to.

:func:`course_convolution` and :func:`course_pooling` are the course's code line for
line (slow on purpose: the benchmarks compare against them); :func:`loop_correlate2d`
and :func:`reference_pool2d` compute every option of the fast functions one output
value at a time.
"""

from __future__ import annotations

import numpy as np

from cnnviz.core.checks import check_choice, size_pair
from cnnviz.core.convolution import (
    COURSE_KERNEL,
    anchor,
    applied_kernel,
    check_options,
    input_centre,
    normalise_factor,
    output_shape,
    padded_index,
)
from cnnviz.core.padding import same_padding
from cnnviz.core.pooling import EDGE_MODES, POOL_MODES, Pooled, pooled_shape

# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------


def course_convolution(image, kernel=COURSE_KERNEL, weight: float = 1.0) -> np.ndarray:
    """The course's own loop: an int16 copy, border kept, clipped to 0..255 (truncated on store).

    For a 3x3 kernel this is the course's code line for line (nine multiply-add lines,
    ``i[x + dr, y + dc] * filter[dr + 1][dc + 1]``); larger kernels use the same loop with
    the window's lines generated. Note the products are int16 times int, as in the course:
    under NumPy 2 a kernel entry whose product with 255 exceeds 32767 would overflow.
    Slow on purpose: a 512x512 image takes seconds. Returns int16, like the course.
    """
    i = np.asarray(image).astype(np.int16)
    i_transformed = np.copy(i)
    size_x = i_transformed.shape[0]
    size_y = i_transformed.shape[1]
    filter = [[int(v) if float(v).is_integer() else float(v) for v in row] for row in np.asarray(kernel)]  # noqa: A001
    kr, kc = len(filter), len(filter[0])
    if (kr, kc) == (3, 3):
        for x in range(1, size_x - 1):
            for y in range(1, size_y - 1):
                convolution = 0.0
                convolution = convolution + ((i[x - 1, y - 1]) * filter[0][0])
                convolution = convolution + (i[x, y - 1] * filter[1][0])
                convolution = convolution + (i[x + 1, y - 1] * filter[2][0])
                convolution = convolution + (i[x - 1, y] * filter[0][1])
                convolution = convolution + (i[x, y] * filter[1][1])
                convolution = convolution + (i[x + 1, y] * filter[2][1])
                convolution = convolution + (i[x - 1, y + 1] * filter[0][2])
                convolution = convolution + (i[x, y + 1] * filter[1][2])
                convolution = convolution + (i[x + 1, y + 1] * filter[2][2])
                convolution = convolution * weight
                if convolution < 0:
                    convolution = 0
                if convolution > 255:
                    convolution = 255
                i_transformed[x, y] = convolution
        return i_transformed
    ar, ac = kr // 2, kc // 2
    for x in range(ar, size_x - (kr - 1 - ar)):
        for y in range(ac, size_y - (kc - 1 - ac)):
            convolution = 0.0
            for dc in range(kc):  # the course's order: down each kernel column, then the next
                for dr in range(kr):
                    convolution = convolution + (i[x + dr - ar, y + dc - ac] * filter[dr][dc])
            convolution = convolution * weight
            if convolution < 0:
                convolution = 0
            if convolution > 255:
                convolution = 255
            i_transformed[x, y] = convolution
    return i_transformed


def loop_correlate2d(
    image,
    kernel,
    *,
    padding: str = "course",
    stride: int = 1,
    weight: float = 1.0,
    normalise: bool = False,
    flip: bool = False,
    channels: str = "separate",
) -> np.ndarray:
    """:func:`correlate2d` written as plain loops, one output pixel at a time (the tests' reference).

    Same options and result; it pads by index arithmetic rather than with numpy, and sums
    each window in the course's order. Use only on small images.
    """
    image, kernel = check_options(image, kernel, padding, stride, channels, flip)
    factor = normalise_factor(kernel, weight=weight, normalise=normalise)
    weights = applied_kernel(kernel, flip=flip)
    kr, kc = kernel.shape
    ar, ac = anchor(kernel.shape, flip=flip)
    h, w = image.shape[:2]
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    summed = image.ndim == 3 and channels == "sum"
    out_rows, out_cols = output_shape(image.shape, kernel.shape, padding=padding, stride=stride)

    def window_sum(plane, x, y) -> float:
        convolution = 0.0
        for dc in range(kc):
            for dr in range(kr):
                i = padded_index(x + dr - ar, h, padding)
                j = padded_index(y + dc - ac, w, padding)
                if i is not None and j is not None:
                    convolution = convolution + float(plane[i, j]) * float(weights[dr][dc])
        return convolution

    results = []
    for plane in ([None] if summed else planes):
        out = np.zeros((out_rows, out_cols), dtype=np.float64)
        for r in range(out_rows):
            for c in range(out_cols):
                x, y = input_centre(r, c, kernel.shape, padding=padding, stride=stride, flip=flip,
                                    image_shape=image.shape)
                fits = ar <= x < h - (kr - 1 - ar) and ac <= y < w - (kc - 1 - ac)
                if padding == "course" and not fits:
                    if summed:
                        out[r, c] = image.astype(np.float64).mean(axis=2)[x, y]
                    else:
                        out[r, c] = float(plane[x, y])
                    continue
                if summed:
                    total = 0.0
                    for p in planes:
                        total = total + window_sum(p, x, y)
                else:
                    total = window_sum(plane, x, y)
                out[r, c] = total * factor
        results.append(out)
    return results[0] if len(results) == 1 else np.stack(results, axis=-1)



# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------




def course_pooling(i_transformed: np.ndarray) -> np.ndarray:
    """The course's manual 4x4 max pooling, line for line (sides must be multiples of 4).

    Collects the 16 pixels of each block column by column, sorts them
    largest first and keeps ``pixels[0]``.
    """
    size_x = i_transformed.shape[0]
    size_y = i_transformed.shape[1]
    new_x = int(size_x / 4)
    new_y = int(size_y / 4)
    newImage = np.zeros((new_x, new_y))  # noqa: N806 - the course's names
    for x in range(0, size_x, 4):
        for y in range(0, size_y, 4):
            pixels = []
            pixels.append(i_transformed[x, y])
            pixels.append(i_transformed[x + 1, y])
            pixels.append(i_transformed[x + 2, y])
            pixels.append(i_transformed[x + 3, y])
            pixels.append(i_transformed[x, y + 1])
            pixels.append(i_transformed[x + 1, y + 1])
            pixels.append(i_transformed[x + 2, y + 1])
            pixels.append(i_transformed[x + 3, y + 1])
            pixels.append(i_transformed[x, y + 2])
            pixels.append(i_transformed[x + 1, y + 2])
            pixels.append(i_transformed[x + 2, y + 2])
            pixels.append(i_transformed[x + 3, y + 2])
            pixels.append(i_transformed[x, y + 3])
            pixels.append(i_transformed[x + 1, y + 3])
            pixels.append(i_transformed[x + 2, y + 3])
            pixels.append(i_transformed[x + 3, y + 3])
            pixels.sort(reverse=True)
            newImage[int(x / 4), int(y / 4)] = pixels[0]
    return newImage


def reference_pool2d(image, *, mode: str = "max", pool_size=2, strides=None, padding: str = "valid") -> Pooled:
    """:func:`pool2d` written as the course writes it: loops over windows and a list of pixels.

    Slow; the tests use it to prove the vectorised version right.
    """
    check_choice("mode", mode, POOL_MODES)
    check_choice("padding", padding, EDGE_MODES)
    ph, pw = size_pair(pool_size, "pool_size")
    sh, sw = size_pair(pool_size if strides is None else strides, "strides")
    array = np.asarray(image)
    planes = array[..., None] if array.ndim == 2 else array
    size_x, size_y, channels = planes.shape
    new_x, new_y = pooled_shape((size_x, size_y), pool_size=(ph, pw), strides=(sh, sw), padding=padding)
    top = same_padding(size_x, ph, sh)[0] if padding == "same" else 0
    left = same_padding(size_y, pw, sw)[0] if padding == "same" else 0
    values = np.zeros((new_x, new_y, channels))
    kept_rows = np.zeros((new_x, new_y, channels), dtype=np.intp)
    kept_cols = np.zeros((new_x, new_y, channels), dtype=np.intp)
    for c in range(channels):
        for out_x in range(new_x):
            for out_y in range(new_y):
                pixels = []  # (value, row, column), in row-major order
                for x in range(out_x * sh - top, out_x * sh - top + ph):
                    for y in range(out_y * sw - left, out_y * sw - left + pw):
                        if 0 <= x < size_x and 0 <= y < size_y:  # padded cells never count
                            pixels.append((float(planes[x, y, c]), x, y))
                if mode == "average":
                    values[out_x, out_y, c] = sum(p[0] for p in pixels) / len(pixels)
                    continue
                kept = pixels[0]
                for p in pixels[1:]:
                    if (p[0] > kept[0]) if mode == "max" else (p[0] < kept[0]):
                        kept = p
                values[out_x, out_y, c], kept_rows[out_x, out_y, c], kept_cols[out_x, out_y, c] = kept
    squeeze = (lambda a: a[..., 0]) if array.ndim == 2 else (lambda a: a)
    return Pooled(
        values=squeeze(values),
        kept_rows=None if mode == "average" else squeeze(kept_rows),
        kept_cols=None if mode == "average" else squeeze(kept_cols),
        mode=mode, pool_size=(ph, pw), strides=(sh, sw), padding=padding,
        pad=(top, 0, left, 0) if padding == "valid" else (*same_padding(size_x, ph, sh), *same_padding(size_y, pw, sw)),
        input_shape=tuple(array.shape),
    )
