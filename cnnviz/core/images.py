"""Images as matrices: the course's matrices, built-in images, editing and saving them.

Everything here works on numpy arrays: a grayscale image is an (H, W) uint8
matrix with 0 black and 255 white; a colour image is (H, W, 3) uint8 RGB.
"""

from __future__ import annotations

import io

import numpy as np

SMILEY = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 255, 255, 0, 0, 0, 0, 255, 255, 0],
        [0, 255, 255, 0, 0, 0, 0, 255, 255, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 128, 128, 0, 0, 0, 0],
        [0, 0, 0, 0, 128, 128, 0, 0, 0, 0],
        [0, 255, 0, 0, 0, 0, 0, 0, 255, 0],
        [0, 0, 255, 0, 0, 0, 0, 255, 0, 0],
        [0, 0, 0, 255, 255, 255, 255, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)
"""The course's 10x10 grayscale smiley: 0 is black, 255 white, 128 grey."""
SMILEY.setflags(write=False)


def _rgb_grid() -> np.ndarray:
    grid = np.zeros((3, 3, 3), dtype=np.uint8)
    grid[0, 0] = [255, 0, 0]  # top-left: red
    grid[1, 1] = [0, 255, 0]  # centre: green
    grid[2, 2] = [0, 0, 255]  # bottom-right: blue
    grid[0, 2] = [255, 255, 0]  # top-right: yellow = red + green
    grid.setflags(write=False)
    return grid


RGB_GRID = _rgb_grid()
"""The course's 3x3 RGB matrix: red, green, blue on the diagonal, yellow top-right."""

ASTRONAUT_CROP = (slice(100, 164), slice(200, 264))
"""The course's 64x64 crop of scikit-image's astronaut: ``astronaut()[100:164, 200:264]``."""

MAX_MATRIX_SIDE = 64
"""Largest side of the editable grayscale matrix (a grid bigger than this is unreadable)."""

ZOOM_WINDOWS = (4, 8, 16, 32)
"""Sides of the Pixels page's zoom window (up to 32 grey values, or 8 colour pixels, are printed)."""

# --------------------------------------------------------------------------
# Built-in images
# --------------------------------------------------------------------------

BUILTIN_IMAGES = {
    "Astronaut crop 64x64 (course)": ("astronaut", ASTRONAUT_CROP),
    "Astronaut": ("astronaut", None),
    "Camera": ("camera", None),
    "Coins": ("coins", None),
    "Brick": ("brick", None),
    "Chelsea the cat": ("chelsea", None),
    "Moon": ("moon", None),
    "Text": ("text", None),
}
"""Images bundled with scikit-image (no download needed): name -> (skimage.data function, crop)."""

DEFAULT_BUILTIN = "Astronaut crop 64x64 (course)"


def builtin_image(name: str) -> np.ndarray:
    """One of :data:`BUILTIN_IMAGES` as a uint8 array (grayscale or RGB)."""
    if name not in BUILTIN_IMAGES:
        raise ValueError(f"unknown built-in image {name!r}; choose one of {list(BUILTIN_IMAGES)}")
    from skimage import data

    loader, crop = BUILTIN_IMAGES[name]
    image = np.asarray(getattr(data, loader)())
    if crop is not None:
        image = image[crop]
    return np.ascontiguousarray(image, dtype=np.uint8)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """A uint8 (H, W) matrix from a grayscale or RGB uint8 image (ITU-R 601 luma, as Pillow's "L")."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.uint8, copy=False)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        rgb = image[..., :3].astype(np.float64)
        luma = rgb @ np.array([0.299, 0.587, 0.114])
        return np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}")


def describe(image: np.ndarray) -> dict:
    """What the course prints about a matrix: shape as (H, W, C), dtype, number of values."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    return {
        "height": height,
        "width": width,
        "channels": channels,
        "shape": tuple(image.shape),
        "dtype": str(image.dtype),
        "values": int(image.size),
    }


# --------------------------------------------------------------------------
# Editing a grayscale matrix
# --------------------------------------------------------------------------


def parse_cells(cells, previous: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Turn grid cells (numbers or text) into a uint8 matrix, and say what was fixed.

    A cell that is not a number keeps its previous value; a number outside
    0..255 is clipped; a fraction is rounded. Each fix gives one message
    naming the cell (row and column counted from 0, as numpy does).

    >>> m, msgs = parse_cells([["0", "300"], ["x", "7.6"]], np.zeros((2, 2), np.uint8))
    >>> m.tolist()
    [[0, 255], [0, 8]]
    >>> len(msgs)
    3
    """
    previous = np.asarray(previous, dtype=np.uint8)
    rows = [list(row) for row in cells]
    if len(rows) != previous.shape[0] or any(len(r) != previous.shape[1] for r in rows):
        raise ValueError(f"cells do not match the matrix shape {previous.shape}")
    result = previous.copy()
    messages: list[str] = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            text = "" if cell is None else str(cell).strip()
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
            if not np.isfinite(value):
                shown = text if text else "an empty cell"
                messages.append(
                    f"Row {r}, column {c}: {shown!r} is not a number from 0 to 255; "
                    f"kept {previous[r, c]}."
                    if text
                    else f"Row {r}, column {c}: {shown} is not a number; kept {previous[r, c]}."
                )
                continue
            clipped = min(max(value, 0.0), 255.0)
            rounded = int(np.rint(clipped))
            if clipped != value:
                messages.append(
                    f"Row {r}, column {c}: {text} is outside 0..255; clipped to {rounded}."
                )
            elif rounded != value:
                messages.append(f"Row {r}, column {c}: {text} is not a whole number; rounded to {rounded}.")
            result[r, c] = rounded
    return result, messages


def resize_matrix(matrix: np.ndarray, rows: int, cols: int, *, fill: int = 0) -> np.ndarray:
    """The matrix cut or padded (with ``fill``) to rows x cols, keeping the top-left part that fits."""
    for name, n in (("rows", rows), ("cols", cols)):
        if not 1 <= int(n) <= MAX_MATRIX_SIDE:
            raise ValueError(f"{name} must be between 1 and {MAX_MATRIX_SIDE}, got {n}")
    matrix = np.asarray(matrix, dtype=np.uint8)
    out = np.full((int(rows), int(cols)), np.uint8(fill), dtype=np.uint8)
    r, c = min(rows, matrix.shape[0]), min(cols, matrix.shape[1])
    out[:r, :c] = matrix[:r, :c]
    return out


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel drawn as a ``factor`` x ``factor`` block, so tiny matrices can be seen (factor 1: the image itself)."""
    image = np.asarray(image)
    if factor == 1:
        return image
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def invert(matrix: np.ndarray) -> np.ndarray:
    """The photographic negative: 255 - value."""
    return (255 - np.asarray(matrix, dtype=np.uint8)).astype(np.uint8)


def random_matrix(shape: tuple[int, int], *, seed: int | None = None) -> np.ndarray:
    """A matrix of uniformly random values 0..255."""
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def add_noise(matrix: np.ndarray, *, amount: float = 25.0, seed: int | None = None) -> np.ndarray:
    """The matrix plus Gaussian noise (standard deviation ``amount``), clipped to 0..255."""
    matrix = np.asarray(matrix, dtype=np.uint8)
    noise = np.random.default_rng(seed).normal(0.0, amount, size=matrix.shape)
    return np.clip(np.rint(matrix + noise), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# Saving and the course's round trip
# --------------------------------------------------------------------------


def png_bytes(image: np.ndarray, *, compress_level: int = 6) -> bytes:
    """The image itself (not a plot of it) as PNG bytes, one pixel per value.

    ``compress_level`` 1 encodes several times faster (bigger files), for images
    sent to the browser on every edit.
    """
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(
        buffer, format="PNG", compress_level=compress_level
    )
    return buffer.getvalue()


def jpeg_bytes(image: np.ndarray, *, quality: int = 85) -> bytes:
    """The image as JPEG bytes: small and lossy, for pictures that are click targets, not data."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def csv_text(matrix: np.ndarray) -> str:
    """A 2-D matrix as comma-separated rows of integers."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"CSV holds a 2-D matrix, got shape {matrix.shape}")
    return "\n".join(",".join(str(int(v)) for v in row) for row in matrix) + "\n"


def npy_bytes(matrix: np.ndarray) -> bytes:
    """The array in NumPy's .npy format (``np.load`` reads it back exactly)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(matrix), allow_pickle=False)
    return buffer.getvalue()


def pillow_roundtrip(image: np.ndarray) -> np.ndarray:
    """Save the matrix as a PNG with Pillow and read it back: exactly the same array."""
    from PIL import Image

    with Image.open(io.BytesIO(png_bytes(image)), formats=["PNG"]) as img:
        return np.asarray(img)


def matplotlib_roundtrip(image: np.ndarray, *, figsize=(4, 4), title: str | None = None) -> np.ndarray:
    """The course's round trip: draw with imshow, savefig as PNG, read back with imread.

    What comes back is the saved *figure* (figsize x dpi pixels, RGBA floats
    in 0..1), not the matrix: 400x400x4 float32 for a 4x4-inch figure.
    """
    from matplotlib.figure import Figure  # object API: safe to use from several threads
    from matplotlib.image import imread

    image = np.asarray(image)
    fig = Figure(figsize=figsize, dpi=100)
    ax = fig.add_subplot()
    if image.ndim == 2:
        ax.imshow(image, cmap="gray")
    else:
        ax.imshow(image)
    if title:
        ax.set_title(title)
    ax.axis("off")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    buffer.seek(0)
    return imread(buffer)
