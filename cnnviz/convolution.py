"""Convolution as the course does it, and every variant a student may want to try.

The course's "manual convolution" slides a 3x3 kernel over the stairwell,
multiplies by a ``weight``, clips to 0..255 and leaves the one-pixel border as
it was. Its loop computes *cross-correlation* (the kernel is not flipped), as
Keras' ``Conv2D`` does; ``flip=True`` gives true convolution.

Anchoring: a kernel of size k is anchored at index ``k // 2`` (as
``scipy.ndimage`` anchors it), so an even-sized kernel has one more row/column
before its anchor than after it. Output pixel (r, c) of a same-size result is

    sum over a, b of  kernel[a, b] * image[r + a - k_rows // 2, c + b - k_cols // 2]

times the weight (divided by the kernel's sum when normalising).

Two implementations live here: :func:`correlate2d` (vectorised: scipy.ndimage
for small kernels, an FFT for large integer kernels) and
:func:`loop_correlate2d` / :func:`course_convolution` (plain Python loops
written the way the course writes them), which the tests hold the fast path to.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

PADDING_LABELS = {
    "valid": "None (valid): the output shrinks",
    "course": "Keep the border as in the course",
    "zero": "Zeros around the image (same size)",
    "reflect": "Reflect at the edge (…c b | a b c…)",
    "edge": "Repeat the edge pixel (…a a | a b c…)",
}
"""How to treat pixels whose window runs off the image: choice -> human label."""
PADDINGS = tuple(PADDING_LABELS)

MAPPING_LABELS = {
    "clip": "Clip to 0..255 (the course)",
    "abs": "Absolute value, clipped to 255",
    "rescale": "Rescale min..max to 0..255",
    "signed": "Signed values (blue < 0 < red)",
}
"""How raw sums become something to look at: choice -> human label."""
MAPPINGS = tuple(MAPPING_LABELS)

CHANNEL_LABELS = {
    "separate": "Each colour channel separately",
    "sum": "Summed over channels (as Keras Conv2D)",
}
"""What to do with a colour image's three channels: choice -> human label."""
CHANNELS = tuple(CHANNEL_LABELS)

STRIDES = (1, 2, 3, 4)
"""Strides offered: step between kernel positions, in pixels."""

MAX_KERNEL_SIDE = 15
"""Largest kernel side accepted (rows and columns)."""

ZERO_SUM_TOLERANCE = 1e-12
"""A kernel whose sum is this close to 0 is not normalised (edge kernels sum to 0)."""

COURSE_KERNEL = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64)
"""The course's kernel: emphasises horizontal edges."""
COURSE_KERNEL.setflags(write=False)

_FFT_MIN_TAPS = 64
"""Kernels with at least this many entries use an FFT (faster than direct sums)."""


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {list(choices)}")


def check_kernel(kernel) -> np.ndarray:
    """The kernel as a float64 (rows, cols) array; ValueError naming the problem otherwise."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"a kernel is a non-empty 2-D grid of numbers, got shape {kernel.shape}")
    if max(kernel.shape) > MAX_KERNEL_SIDE:
        raise ValueError(
            f"a kernel is at most {MAX_KERNEL_SIDE}x{MAX_KERNEL_SIDE}, got {kernel.shape[0]}x{kernel.shape[1]}"
        )
    if not np.all(np.isfinite(kernel)):
        raise ValueError("a kernel's entries must be finite numbers (no NaN or infinity)")
    return kernel


def normalise_factor(kernel, *, weight: float = 1.0, normalise: bool = False) -> float:
    """The number every sum is multiplied by: ``weight``, divided by the kernel's sum if asked.

    A kernel whose sum is 0 (edge detectors) cannot be normalised: the weight alone is used.
    """
    total = float(np.sum(kernel))
    if normalise and abs(total) > ZERO_SUM_TOLERANCE:
        return float(weight) / total
    return float(weight)


def can_normalise(kernel) -> bool:
    """Whether "normalise by the kernel's sum" applies (the sum is not 0)."""
    return abs(float(np.sum(kernel))) > ZERO_SUM_TOLERANCE


def anchor(kernel_shape: tuple[int, int], *, flip: bool = False) -> tuple[int, int]:
    """Row and column of the kernel entry that sits on the output pixel, for the kernel as applied.

    The unflipped kernel is anchored at ``size // 2``; flipping moves that entry to ``size - 1 - size // 2``.
    """
    kr, kc = kernel_shape
    if flip:
        return kr - 1 - kr // 2, kc - 1 - kc // 2
    return kr // 2, kc // 2


def applied_kernel(kernel, *, flip: bool = False) -> np.ndarray:
    """The kernel as it is slid over the image: itself, or rotated 180 degrees for true convolution."""
    kernel = np.asarray(kernel, dtype=np.float64)
    return kernel[::-1, ::-1] if flip else kernel


def _check_options(image, kernel, padding, stride, channels, flip) -> tuple[np.ndarray, np.ndarray]:
    _check_choice("padding", padding, PADDINGS)
    _check_choice("channels", channels, CHANNELS)
    if int(stride) != stride or not 1 <= stride <= 64:
        raise ValueError(f"stride={stride!r} must be a whole number from 1 to 64")
    kernel = check_kernel(kernel)
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    if padding == "valid" and (image.shape[0] < kernel.shape[0] or image.shape[1] < kernel.shape[1]):
        raise ValueError(
            f"the kernel ({kernel.shape[0]}x{kernel.shape[1]}) is larger than the image "
            f"({image.shape[0]}x{image.shape[1]}): with padding 'valid' there is no output"
        )
    return image, kernel


def _is_integral(array: np.ndarray) -> bool:
    return array.dtype.kind in "iub" or bool(np.all(array == np.rint(array)))


def _plane_correlate(plane: np.ndarray, kernel: np.ndarray, padding: str, flip: bool) -> np.ndarray:
    """Same-size (or valid) correlation of one 2-D plane, unweighted, float64."""
    from scipy import ndimage, signal

    kr, kc = kernel.shape
    weights = applied_kernel(kernel, flip=flip)
    ar, ac = anchor(kernel.shape, flip=flip)
    exact_fft = (
        kernel.size >= _FFT_MIN_TAPS
        and _is_integral(plane)
        and _is_integral(kernel)
        and (padding not in ("valid", "course") or (plane.shape[0] >= kr and plane.shape[1] >= kc))
        and float(np.abs(kernel).sum()) * max(1.0, float(np.abs(plane).max(initial=0))) < 2.0**40
    )
    if exact_fft:
        # Integer inputs and kernel: the exact sums are integers, so rounding the
        # FFT's result (error far below 0.5) gives them back bit for bit.
        if padding in ("valid", "course"):
            padded = plane.astype(np.float64)
        else:
            mode = {"zero": "constant", "reflect": "reflect", "edge": "edge"}[padding]
            padded = np.pad(plane.astype(np.float64), ((ar, kr - 1 - ar), (ac, kc - 1 - ac)), mode=mode)
        valid = np.rint(signal.fftconvolve(padded, weights[::-1, ::-1], mode="valid"))
        if padding != "course":
            return valid
        out = plane.astype(np.float64)  # the border keeps the input values
        out[ar:ar + valid.shape[0], ac:ac + valid.shape[1]] = valid
        return out, (ar, ac, valid.shape)  # type: ignore[return-value]
    mode = {"zero": "constant", "reflect": "mirror", "edge": "nearest"}.get(padding, "nearest")
    origin = [-(1 - s % 2) if flip else 0 for s in kernel.shape]
    same = ndimage.correlate(plane, weights, output=np.float64, mode=mode, cval=0.0, origin=origin)
    h, w = plane.shape
    if padding == "valid":
        return same[ar:h - (kr - 1 - ar), ac:w - (kc - 1 - ac)]
    if padding == "course":
        return same, (ar, ac, (h - kr + 1, w - kc + 1))  # type: ignore[return-value]
    return same


def correlate2d(
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
    """Slide ``kernel`` over ``image``: the raw float64 sums times the weight, before any clipping.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
        Grayscale or colour image (any real dtype).
    kernel : (rows, cols) array
        1x1 up to 15x15, odd or even, anchored at ``size // 2``.
    padding : {"valid", "course", "zero", "reflect", "edge"}
        "course" keeps the input's values where the window does not fit (the course's one-pixel
        border for a 3x3 kernel); "valid" returns only the positions where it fits.
    stride : int
        Step between kernel positions; the output keeps every ``stride``-th row and column.
    weight : float
        Every sum is multiplied by it (the course's ``weight``).
    normalise : bool
        Also divide by the kernel's sum, where that sum is not 0.
    flip : bool
        True convolution (kernel rotated 180 degrees) instead of cross-correlation.
    channels : {"separate", "sum"}
        For colour images: one result per channel (H, W, C), or their sum (H, W) as Conv2D does.
        With "sum" and padding "course", the border keeps the mean of the input's channels.

    Examples
    --------
    >>> correlate2d(np.arange(9).reshape(3, 3), np.ones((3, 3)), padding="valid")
    array([[36.]])
    """
    image, kernel = _check_options(image, kernel, padding, stride, channels, flip)
    factor = normalise_factor(kernel, weight=weight, normalise=normalise)
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    results = []
    interior = None
    for plane in planes:
        result = _plane_correlate(np.ascontiguousarray(plane), kernel, padding, flip)
        if padding == "course":
            result, interior = result
        results.append(result)
    if image.ndim == 2:
        out = results[0]
    elif channels == "sum":
        out = np.sum(results, axis=0)
    else:
        out = np.stack(results, axis=-1)
    if factor != 1.0:
        out *= factor
    if padding == "course":
        # The border (where the window does not fit) keeps the input's values, unweighted.
        ar, ac, (vh, vw) = interior
        border = image  # assigning strips casts them; no full float copy of the image
        if image.ndim == 3 and channels == "sum":
            border = image.astype(np.float64).mean(axis=2)
        if vh <= 0 or vw <= 0:
            out = np.array(border, dtype=np.float64)
        else:
            out[:ar] = border[:ar]
            out[ar + vh:] = border[ar + vh:]
            out[:, :ac] = border[:, :ac]
            out[:, ac + vw:] = border[:, ac + vw:]
    if stride > 1:
        out = out[::stride, ::stride]
    return np.ascontiguousarray(out)


def convolve2d(image, kernel, **options) -> np.ndarray:
    """True convolution: :func:`correlate2d` with the kernel flipped (``flip=True``)."""
    return correlate2d(image, kernel, flip=True, **options)


def map_output(values, *, mapping: str = "clip") -> np.ndarray:
    """Turn raw sums into something to show.

    "clip" is the course: values below 0 become 0, above 255 become 255, and storing into the
    course's int16 copy truncates toward zero (254.9 -> 254); "abs" takes the absolute value first;
    "rescale" stretches min..max to 0..255; these three return uint8. "signed" returns the
    float64 values unchanged, for a diverging colour scale centred on 0.

    >>> map_output(np.array([-3.5, 12.9, 300.0]))
    array([  0,  12, 255], dtype=uint8)
    """
    _check_choice("mapping", mapping, MAPPINGS)
    values = np.asarray(values, dtype=np.float64)
    if mapping == "signed":
        return values.copy()
    if mapping == "abs":
        values = np.abs(values)
    if mapping == "rescale":
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if high - low <= 0:
            return np.zeros(values.shape, dtype=np.uint8)
        return np.floor((values - low) * (255.0 / (high - low)) + 0.5).astype(np.uint8)
    # Casting 0..255 floats to uint8 truncates toward zero, as the course's int16 store does;
    # clipping straight into the uint8 result avoids a full-size float temporary.
    return np.clip(values, 0.0, 255.0, out=np.empty(values.shape, np.uint8), casting="unsafe")


def signed_limit(values) -> float:
    """Half-width of a diverging colour scale centred on 0 that covers ``values`` (at least 1)."""
    values = np.asarray(values, dtype=np.float64)
    return max(1.0, float(np.abs(values).max(initial=0.0)))


# --------------------------------------------------------------------------
# Settings shared by the Convolution and Pooling pages
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvolutionSettings:
    """A kernel and every option of :func:`correlate2d` and :func:`map_output`.

    ``preset`` names the preset the kernel came from (None for a typed kernel).
    The defaults are the course's: its kernel, weight 1, border kept, clipped.
    """

    kernel: np.ndarray = field(default_factory=lambda: COURSE_KERNEL.copy())
    preset: str | None = "course_horizontal"
    padding: str = "course"
    stride: int = 1
    weight: float = 1.0
    normalise: bool = False
    flip: bool = False
    channels: str = "separate"
    mapping: str = "clip"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", check_kernel(self.kernel))
        _check_choice("padding", self.padding, PADDINGS)
        _check_choice("channels", self.channels, CHANNELS)
        _check_choice("mapping", self.mapping, MAPPINGS)
        _check_choice("stride", self.stride, STRIDES)
        if not np.isfinite(self.weight):
            raise ValueError(f"weight={self.weight!r} must be a finite number")

    def correlate_options(self) -> dict:
        """Keyword arguments for :func:`correlate2d`."""
        return dict(padding=self.padding, stride=self.stride, weight=self.weight,
                    normalise=self.normalise, flip=self.flip, channels=self.channels)

    def apply(self, image) -> tuple[np.ndarray, np.ndarray]:
        """(raw float64 sums, what to show) for ``image`` with these settings."""
        raw = correlate2d(image, self.kernel, **self.correlate_options())
        return raw, map_output(raw, mapping=self.mapping)

    def replace(self, **changes) -> "ConvolutionSettings":
        """A copy with some fields changed (checked like a new one)."""
        return replace(self, **changes)

    def __eq__(self, other) -> bool:
        if not isinstance(other, ConvolutionSettings):
            return NotImplemented
        mine = {k: v for k, v in self.__dict__.items() if k != "kernel"}
        theirs = {k: v for k, v in other.__dict__.items() if k != "kernel"}
        return mine == theirs and np.array_equal(self.kernel, other.kernel)

    __hash__ = None  # type: ignore[assignment]


# --------------------------------------------------------------------------
# Where an output pixel comes from, and its arithmetic
# --------------------------------------------------------------------------


def output_shape(image_shape, kernel_shape, *, padding: str = "course", stride: int = 1) -> tuple[int, int]:
    """(rows, cols) of the result for an image and kernel of these shapes."""
    h, w = image_shape[:2]
    kr, kc = kernel_shape
    if padding == "valid":
        h, w = h - kr + 1, w - kc + 1
    return -(-h // stride), -(-w // stride)


def input_centre(row: int, col: int, kernel_shape, *, padding: str = "course", stride: int = 1,
                 flip: bool = False) -> tuple[int, int]:
    """The input pixel the kernel's anchor sits on when output pixel (row, col) is computed."""
    r, c = row * stride, col * stride
    if padding == "valid":
        ar, ac = anchor(kernel_shape, flip=flip)
        r, c = r + ar, c + ac
    return r, c


def _padded_index(i: int, n: int, padding: str) -> int | None:
    """Index into an axis of length n for position i, or None for a zero (outside, zero padding)."""
    if 0 <= i < n:
        return i
    if padding == "zero":
        return None
    if padding == "edge":
        return min(max(i, 0), n - 1)
    if n == 1:
        return 0
    period = 2 * (n - 1)  # reflect without repeating the edge pixel
    i = i % period
    return period - i if i > n - 1 else i


@dataclass
class PixelArithmetic:
    """Everything behind one output pixel: the window, the products and how they become a value."""

    row: int
    col: int
    centre: tuple[int, int]
    window: np.ndarray | None  # (rows, cols) input values under the kernel (None: border kept)
    inside: np.ndarray | None  # True where the window lies on the image (False: padding)
    kernel: np.ndarray  # the kernel as applied (flipped for true convolution)
    products: np.ndarray | None
    total: float | None
    factor: float
    raw: float
    shown: float
    border_kept: bool


def pixel_arithmetic(image, settings: ConvolutionSettings, row: int, col: int,
                     *, channel: int | None = None) -> PixelArithmetic:
    """The course's multiply-add lines for output pixel (row, col), made explicit.

    For a colour image give ``channel`` (with channels="separate"), or leave it None to
    explain the channel sum on a grayscale version is not attempted: the page shows gray inputs.
    """
    image = np.asarray(image)
    plane = image if image.ndim == 2 else image[..., channel or 0]
    kernel = check_kernel(settings.kernel)
    kr, kc = kernel.shape
    rows, cols = output_shape(plane.shape, kernel.shape, padding=settings.padding, stride=settings.stride)
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"output pixel ({row}, {col}) is outside the {rows}x{cols} result")
    cr, cc = input_centre(row, col, kernel.shape, padding=settings.padding, stride=settings.stride,
                          flip=settings.flip)
    applied = applied_kernel(kernel, flip=settings.flip)
    ar, ac = anchor(kernel.shape, flip=settings.flip)
    factor = normalise_factor(kernel, weight=settings.weight, normalise=settings.normalise)
    h, w = plane.shape
    fits = ar <= cr < h - (kr - 1 - ar) and ac <= cc < w - (kc - 1 - ac)
    if settings.padding == "course" and not fits:
        raw = float(plane[cr, cc])
        shown = float(map_output(np.array([raw]), mapping=settings.mapping)[0]) \
            if settings.mapping != "rescale" else raw
        return PixelArithmetic(row, col, (cr, cc), None, None, applied, None, None, factor, raw, shown, True)
    window = np.zeros((kr, kc), dtype=np.float64)
    inside = np.zeros((kr, kc), dtype=bool)
    for a in range(kr):
        for b in range(kc):
            i = _padded_index(cr + a - ar, h, settings.padding)
            j = _padded_index(cc + b - ac, w, settings.padding)
            inside[a, b] = 0 <= cr + a - ar < h and 0 <= cc + b - ac < w
            window[a, b] = 0.0 if i is None or j is None else float(plane[i, j])
    products = window * applied
    total = float(products.sum())
    raw = total * factor
    shown = raw if settings.mapping in ("signed", "rescale") else float(
        map_output(np.array([raw]), mapping=settings.mapping)[0])
    return PixelArithmetic(row, col, (cr, cc), window, inside, applied, products, total, factor, raw, shown, False)


def sliding_steps(image, settings: ConvolutionSettings) -> list[tuple[int, int, np.ndarray]]:
    """The output filling in one kernel position at a time: (row, col, output so far) per step.

    Cells not computed yet are NaN. Meant for small images (the 10x10 matrix), not 512x512.
    Border pixels kept by the course's padding are filled in first (they need no arithmetic).
    """
    plane = np.asarray(image)
    if plane.ndim != 2:
        raise ValueError(f"sliding_steps takes a grayscale (H, W) image, got shape {plane.shape}")
    raw = correlate2d(plane, settings.kernel, **{**settings.correlate_options(), "channels": "separate"})
    shown = map_output(raw, mapping=settings.mapping).astype(np.float64)
    partial = np.full(raw.shape, np.nan)
    steps = []
    if settings.padding == "course":
        kr, kc = settings.kernel.shape
        ar, ac = anchor(settings.kernel.shape, flip=settings.flip)
        h, w = plane.shape
        rr, cc = np.mgrid[0:raw.shape[0], 0:raw.shape[1]] * settings.stride
        border = ~((rr >= ar) & (rr < h - (kr - 1 - ar)) & (cc >= ac) & (cc < w - (kc - 1 - ac)))
        partial[border] = shown[border]
    else:
        border = np.zeros(raw.shape, dtype=bool)
    for r in range(raw.shape[0]):
        for c in range(raw.shape[1]):
            if border[r, c]:
                continue
            partial[r, c] = shown[r, c]
            steps.append((r, c, partial.copy()))
    return steps


# --------------------------------------------------------------------------
# Plain-loop references, written the way the course writes its loop
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
    image, kernel = _check_options(image, kernel, padding, stride, channels, flip)
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
                i = _padded_index(x + dr - ar, h, padding)
                j = _padded_index(y + dc - ac, w, padding)
                if i is not None and j is not None:
                    convolution = convolution + float(plane[i, j]) * float(weights[dr][dc])
        return convolution

    results = []
    for plane in ([None] if summed else planes):
        out = np.zeros((out_rows, out_cols), dtype=np.float64)
        for r in range(out_rows):
            for c in range(out_cols):
                x, y = input_centre(r, c, kernel.shape, padding=padding, stride=stride, flip=flip)
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


def align_to_input(shown: np.ndarray, image_shape, settings: ConvolutionSettings,
                   *, fill=(214, 222, 235)) -> np.ndarray:
    """The result drawn on the input's grid, so both can be shown side by side at one scale.

    Each output pixel covers ``stride`` x ``stride`` input pixels; a "valid" result is shifted
    by the kernel's anchor so every output pixel sits on the input pixel it was computed for.
    Where there is no output (valid padding), the canvas shows ``fill`` (a light blue-grey).
    Returns (H, W, 3) uint8.
    """
    shown = np.asarray(shown, dtype=np.uint8)
    if settings.stride == 1 and settings.padding != "valid" and shown.shape[:2] == tuple(image_shape[:2]):
        return shown  # nothing to stretch or fill: the result already sits on the input's grid
    rgb = shown if shown.ndim == 3 else np.repeat(shown[..., None], 3, axis=2)
    s = settings.stride
    big = rgb.repeat(s, axis=0).repeat(s, axis=1)
    h, w = image_shape[:2]
    canvas = np.empty((h, w, 3), dtype=np.uint8)
    canvas[:] = fill
    top, left = anchor(settings.kernel.shape, flip=settings.flip) if settings.padding == "valid" else (0, 0)
    rows, cols = min(big.shape[0], h - top), min(big.shape[1], w - left)
    canvas[top:top + rows, left:left + cols] = big[:rows, :cols]
    return canvas


def output_pixel_at(row: int, col: int, image_shape, settings: ConvolutionSettings) -> tuple[int, int]:
    """The output pixel drawn at input pixel (row, col) by :func:`align_to_input` (clamped to the result)."""
    top, left = anchor(settings.kernel.shape, flip=settings.flip) if settings.padding == "valid" else (0, 0)
    rows, cols = output_shape(image_shape, settings.kernel.shape, padding=settings.padding, stride=settings.stride)
    r = min(max((int(row) - top) // settings.stride, 0), rows - 1)
    c = min(max((int(col) - left) // settings.stride, 0), cols - 1)
    return r, c


def parse_matrix_param(text: str, *, max_side: int = 16) -> np.ndarray:
    """A small 0..255 matrix from a link (``0,255,0;255,0,255``); ValueError saying what is wrong."""
    rows = [row.split(",") for row in str(text).strip().split(";") if row.strip()]
    if not rows or len(rows) > max_side or any(len(r) != len(rows[0]) for r in rows) or len(rows[0]) > max_side:
        raise ValueError(f"it must be a rectangular matrix of at most {max_side}x{max_side} values, rows separated by ;")
    try:
        values = np.array([[int(v) for v in row] for row in rows])
    except ValueError:
        raise ValueError("every value must be a whole number from 0 to 255") from None
    if values.min() < 0 or values.max() > 255:
        raise ValueError("every value must be a whole number from 0 to 255")
    return values.astype(np.uint8)


def matrix_param(matrix) -> str:
    """A small matrix as text for a link (read back by :func:`parse_matrix_param`)."""
    return ";".join(",".join(str(int(v)) for v in row) for row in np.asarray(matrix))
