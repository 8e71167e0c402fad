"""Everything cached and shared by all sessions (no TensorFlow): images, data, results, PNGs.

What the whole class sees is built once: the stairwell, Fashion-MNIST, a convolution
of one image with one kernel, the PNG bytes of a picture. Cached arrays are
read-only, so no session can change what the others see.
"""

from __future__ import annotations

import hashlib
import weakref

import numpy as np
import streamlit as st

from cnnviz.core import convolution, explain, images, number_pictures, pooling
from cnnviz.core.data import DataUnavailable, data_dir, load_ascent, prepare_images
from cnnviz.core.rendering import signed_rgb
from cnnviz.ml.datasets import load_fashion_mnist


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


_DIGESTS: dict[int, tuple[weakref.ref, str]] = {}


def image_digest(image: np.ndarray) -> str:
    """A digest of the image's shape, type and pixels: the key of everything cached about it.

    A page asks for several cached views of one image per run; the digest of a read-only
    array (the shared stairwell, a sample) is computed once and remembered while the array
    lives, so the views do not hash the same 512x512 pixels again and again.
    """
    remembered = _DIGESTS.get(id(image))
    if remembered is not None and remembered[0]() is image:
        return remembered[1]
    image = np.asarray(image)
    digest = hashlib.blake2b(f"{image.shape}{image.dtype}".encode() + np.ascontiguousarray(image).tobytes(),
                             digest_size=16).hexdigest()
    if not image.flags.writeable:
        key = id(image)
        _DIGESTS[key] = (weakref.ref(image, lambda _ref, key=key: _DIGESTS.pop(key, None)), digest)
    return digest


@st.cache_resource(show_spinner="Loading the stairwell image…")
def _ascent_or_message() -> tuple[np.ndarray | None, str | None]:
    try:
        return _read_only(load_ascent()), None
    except DataUnavailable as exc:
        return None, str(exc)


def stairwell() -> tuple[np.ndarray | None, str | None]:
    """The course's stairwell (shared, read-only), or None and a sentence saying why not."""
    return _ascent_or_message()


@st.cache_resource(show_spinner=False)
def builtin_image(name: str) -> np.ndarray:
    """A scikit-image sample (shared, read-only)."""
    return _read_only(images.builtin_image(name))


ROUND_TRIP_SIDE = 260
"""About how many pixels wide the Pixels page draws a matrix read back by Pillow (whole pixels per value)."""


def round_trip_block(shape) -> int:
    """Screen pixels per value when a matrix of ``shape`` is drawn about :data:`ROUND_TRIP_SIDE` wide."""
    return max(1, ROUND_TRIP_SIDE // max(shape[:2]))


@st.cache_resource(max_entries=64, show_spinner=False)
def round_trips(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, bytes, bytes]:
    """The course's matplotlib round trip and Pillow's exact one of ``matrix``, with PNGs to show.

    Returns (what imread gives back, what Pillow gives back, a PNG of the first, a PNG of
    the second with each pixel drawn as a block, about :data:`ROUND_TRIP_SIDE` wide). Cached for the whole class and
    read-only: drawing and saving a matplotlib figure takes tens of milliseconds, and an
    edit of one matrix should not redraw the other's.
    """
    figure_back, exact_back = images.matplotlib_roundtrip(matrix), images.pillow_roundtrip(matrix)
    figure_png = images.png_bytes(np.rint(np.clip(figure_back, 0, 1) * 255).astype(np.uint8), compress_level=1)
    exact_png = images.png_bytes(images.enlarge(exact_back, round_trip_block(exact_back.shape)),
                                 compress_level=1)
    return _read_only(figure_back), _read_only(exact_back), figure_png, exact_png


@st.cache_resource(max_entries=128, show_spinner=False)
def _png(image_key: str, _image: np.ndarray) -> bytes:
    return images.png_bytes(_image, compress_level=1)


def png_of(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image, fast to encode, for ``st.image(..., output_format="PNG")``.

    Shared by the class (keyed by :func:`image_digest`). Pass ``output_format="PNG"`` too:
    with the default ("auto") Streamlit decodes the PNG and re-encodes it as JPEG, which
    costs more than everything else in a kernel edit.
    """
    return _png(image_digest(image), image)


MAX_PICTURE_WIDTH = 1460
"""Widest picture st.image sends as it is: Streamlit resizes and re-encodes wider ones on every run
(and pictures wider than an integer ``width=``), so cached pictures are made at most this wide and
shown with ``width="stretch"`` or ``"content"``."""


def _fitted_png(picture: np.ndarray) -> bytes:
    if picture.shape[1] > MAX_PICTURE_WIDTH:
        from PIL import Image

        height = round(picture.shape[0] * MAX_PICTURE_WIDTH / picture.shape[1])
        picture = np.asarray(Image.fromarray(picture).resize((MAX_PICTURE_WIDTH, height), Image.LANCZOS))
    return images.png_bytes(picture, compress_level=1)


@st.cache_data(max_entries=512, show_spinner=False)
def matrix_png(values: np.ndarray, *, origin: tuple[int, int] = (0, 0), signed: bool = False,
               limit: float | None = None, title: str | None = None,
               frame: tuple[int, int, int, int] | None = None, ring: tuple[int, int] | None = None) -> bytes:
    """PNG of a small matrix with its numbers (:func:`cnnviz.core.number_pictures.matrix_picture`).

    Cached for the whole class: the explorer's crops are the same for every student on
    the same view, and a picture costs the browser far less than a heatmap with text.
    """
    picture = number_pictures.matrix_picture(values, origin=origin, signed=signed, limit=limit, title=title,
                                             frame=frame, ring=ring)
    return _fitted_png(picture)


@st.cache_data(max_entries=512, show_spinner=False)
def arithmetic_png(window: np.ndarray, kernel: np.ndarray, products: np.ndarray, *,
                   origin: tuple[int, int], window_limit: float | None = None,
                   titles: tuple[str, str, str] = ("input window", "kernel", "products")) -> bytes:
    """PNG of input window × kernel = products (:func:`cnnviz.core.number_pictures.arithmetic_picture`)."""
    return _fitted_png(number_pictures.arithmetic_picture(window, kernel, products, origin=origin,
                                                          window_limit=window_limit, titles=titles))


@st.cache_data(max_entries=256, show_spinner=False)
def arithmetic_rows_png(rows: tuple, *, origin: tuple[int, int], window_limit: float | None = None) -> bytes:
    """One PNG of several window × kernel = products rows, one above the other; ``rows`` holds
    (window, kernel, products, titles) tuples (:func:`arithmetic_png` for one)."""
    return _fitted_png(number_pictures.stacked([
        number_pictures.arithmetic_picture(window, kernel, products, origin=origin, window_limit=window_limit,
                                           titles=titles) for window, kernel, products, titles in rows]))


class EncodedPicture:
    """Picture bytes already encoded, for components that take "an object with a save method".

    ``streamlit_image_coordinates`` encodes the picture it is given on every run; handing it
    this instead sends the cached bytes as they are (its format and quality arguments are
    ignored: the bytes were encoded once, see :func:`jpeg_picture`).
    """

    def __init__(self, data: bytes):
        self.data = data

    def save(self, buffer, **_ignored) -> None:
        buffer.write(self.data)


@st.cache_resource(max_entries=256, show_spinner=False)
def _jpeg(image_key: str, quality: int, _image: np.ndarray) -> bytes:
    return images.jpeg_bytes(_image, quality=quality)


def jpeg_picture(image: np.ndarray, *, quality: int = 85) -> EncodedPicture:
    """``image`` encoded as JPEG once for the whole class (a click target: no need to be exact)."""
    return EncodedPicture(_jpeg(image_digest(image), quality, image))


FASHION_SPINNER = (
    "Loading Fashion-MNIST… (on a machine that has never used it, Keras downloads about "
    "30 MB first; this gives up after 2 minutes)"
)


@st.cache_resource(show_spinner=FASHION_SPINNER)
def _fashion_mnist() -> dict[str, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    arrays = {
        "train_raw": x_train, "train_labels": y_train, "test_raw": x_test, "test_labels": y_test,
        "train": prepare_images(x_train), "test": prepare_images(x_test),
    }
    arrays["train_range"] = np.array([arrays["train"].min(), arrays["train"].max()])
    return {name: _read_only(array) for name, array in arrays.items()}


def fashion_mnist() -> tuple[dict[str, np.ndarray] | None, str | None]:
    """Fashion-MNIST shared by all sessions, or None and a sentence saying how to provide it.

    Keys: "train_raw"/"test_raw" (N, 28, 28) uint8 as loaded, "train"/"test" prepared
    the course's way (N, 28, 28, 1) float32 in 0..1, "train_labels"/"test_labels",
    "train_range" (the prepared training images' smallest and largest value).
    A failure is not cached: the next visit tries again.
    """
    try:
        return _fashion_mnist(), None
    except DataUnavailable as exc:
        return None, str(exc)


def local_fashion_mnist() -> dict[str, np.ndarray] | None:
    """Fashion-MNIST when it can be read from ``CNNVIZ_DATA_DIR`` (never a download), else None."""
    return fashion_mnist()[0] if data_dir() is not None else None


def _settings_key(settings: convolution.ConvolutionSettings) -> tuple:
    """What a result depends on: the kernel, the correlation options and the mapping (not the preset's name)."""
    return settings.kernel.tobytes(), settings.kernel.shape, tuple(sorted(settings.correlate_options().items())), \
        settings.mapping


@st.cache_resource(max_entries=48, show_spinner=False)
def _convolution_result(image_key: str, settings_key: tuple, _image: np.ndarray, _settings):
    raw, shown = _settings.apply(_image)
    display = signed_rgb(raw) if _settings.mapping == "signed" else shown
    return tuple(_read_only(np.asarray(a)) for a in (raw, shown, explain.align_to_input(display, _image.shape, _settings)))


def convolution_result(image: np.ndarray, settings: convolution.ConvolutionSettings
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw sums, shown values, the result drawn on the input's grid) for ``image``.

    Cached and shared by all students (read-only arrays, no copies): the Convolution and
    Pooling pages, and every student looking at the same image and kernel, compute it once. Raises ValueError
    when the settings do not fit the image (e.g. a kernel larger than a "valid" image).
    """
    return _convolution_result(image_digest(image), _settings_key(settings), image, settings)


@st.cache_resource(max_entries=64, show_spinner=False)
def _pooled(image_key: str, settings_key: tuple, pool_options: tuple, _image: np.ndarray, _settings) -> pooling.Pooled:
    return pooling.pool2d(convolution_result(_image, _settings)[1], **dict(pool_options))


def pooled(image: np.ndarray, settings: convolution.ConvolutionSettings, **pool_options) -> pooling.Pooled:
    """The convolution of ``image`` pooled (:func:`cnnviz.core.pooling.pool2d`), shared by all students.

    Raises ValueError when the pool does not fit. Treat the result as read-only.
    """
    return _pooled(image_digest(image), _settings_key(settings), tuple(sorted(pool_options.items())), image, settings)


@st.cache_resource(max_entries=256, show_spinner=False)
def _view_picture(image_key: str, settings_key: tuple, what: tuple, jpeg: bool, _build) -> bytes:
    picture = _build()
    return images.jpeg_bytes(picture) if jpeg else images.png_bytes(picture, compress_level=1)


def view_png(image: np.ndarray, settings: convolution.ConvolutionSettings, what: tuple, build) -> bytes:
    """PNG bytes of a picture derived from ``image`` and ``settings``, built once for the whole class.

    ``what`` names the picture completely (its kind and every option it depends on besides the
    image and the settings); ``build()`` makes the uint8 array on the first request.
    """
    return _view_picture(image_digest(image), _settings_key(settings), what, False, build)


def view_jpeg(image: np.ndarray, settings: convolution.ConvolutionSettings, what: tuple, build) -> bytes:
    """As :func:`view_png`, as JPEG: for the many pictures one per position (a window's frame), which
    must encode fast and need not be exact."""
    return _view_picture(image_digest(image), _settings_key(settings), what, True, build)
