"""Safe decoding of uploaded images: checked in the server, decoded in a limited child process.

Every Pillow step (open, the pixel limit before ``load()``, frames, EXIF orientation,
mode conversion) runs inside one checked path; any failure is an ImageDecodeError whose
message gives the reason first. :mod:`cnnviz.core.image_structure` refuses pathological
files before Pillow runs; :mod:`cnnviz.core.image_sandbox` runs Pillow in a child.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np

from cnnviz.core import image_sandbox
from cnnviz.core.image_structure import StructureProblem, check_structure

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
"""Largest image upload accepted, in bytes."""

MAX_UPLOAD_PIXELS = 4096 * 4096
"""Largest decoded image accepted, in pixels (guards against decompression bombs)."""

UPLOAD_FORMATS = ("PNG", "JPEG")
"""Image formats accepted from users; Pillow is told to try only these."""


class ImageDecodeError(ValueError):
    """An upload is not an image we accept; the message says why, in words."""


@dataclass
class DecodedImage:
    """A decoded upload: uint8 grayscale (H, W) or RGB (H, W, 3), plus what was converted."""

    array: np.ndarray
    notes: list[str] = field(default_factory=list)


MEMORY_MESSAGE = "Decoding this image needed more memory than an upload may use, so it was stopped."

_EXIF_MESSAGE = (
    "The image's EXIF metadata (which says which way up the picture is) is damaged, "
    "so the picture cannot be turned upright ({detail})."
)


def decode_image(
    data: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_UPLOAD_PIXELS,
    sandbox: bool | None = None,
) -> DecodedImage:
    """Decode an uploaded PNG or JPEG safely into a uint8 array.

    Checks the size in bytes, the format (from the content, not the file
    name), the file's structure (truncation, scan bombs, extra data, the
    declared pixel count) without decoding, then decodes in a child process
    with memory, CPU and time limits (:mod:`cnnviz.core.image_sandbox`), so a
    hostile file costs at most those limits. ``sandbox=None`` uses the child
    where the platform allows it (POSIX); ``False`` decodes in this process,
    with the same checks but no time limit.

    Converts 16-bit, palette, RGBA, CMYK and animated images to 8-bit
    grayscale or RGB and says what was done. Raises ImageDecodeError, whose
    message gives the reason first.
    """
    if not data:
        raise ImageDecodeError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageDecodeError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    data = bytes(data)
    try:
        structure = check_structure(data, max_pixels=max_pixels)
    except StructureProblem as exc:
        raise ImageDecodeError(str(exc)) from None
    if sandbox is None:
        sandbox = image_sandbox.available()
    if sandbox:
        try:
            result = image_sandbox.decode(data, max_pixels=max_pixels)
        except image_sandbox.SandboxError as exc:
            raise ImageDecodeError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a fault in the plumbing still reaches the page as words
            raise ImageDecodeError(f"The image could not be decoded (the decoder failed: {type(exc).__name__}).") from None
        decoded = DecodedImage(result.array, result.notes)
    else:
        decoded = decode_with_pillow(data, max_pixels=max_pixels)
    decoded.notes.extend(structure.notes)
    return decoded


def decode_with_pillow(data: bytes, *, max_pixels: int = MAX_UPLOAD_PIXELS) -> DecodedImage:
    """Every Pillow step of decoding an upload, each inside the checked path.

    Opens with only the accepted formats, checks ``img.size`` against
    ``max_pixels`` before ``load()`` (Pillow's DecompressionBombWarning is an
    error too), takes an animation's first frame, loads, turns the picture
    upright from its EXIF orientation and converts it to uint8 grayscale or
    RGB. Any failure is an ImageDecodeError with the reason first. This is
    what the sandbox's child runs; call :func:`decode_image` instead.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(UPLOAD_FORMATS))
            width, height = img.size
            if width * height > max_pixels:
                raise ImageDecodeError(
                    f"The image is {width}x{height} pixels; the limit is "
                    f"{max_pixels:,} pixels (about {int(max_pixels ** 0.5)}x{int(max_pixels ** 0.5)})."
                )
            frames = getattr(img, "n_frames", 1)
            if frames > 1:
                notes.append(f"Animated image with {frames} frames: using the first frame.")
                img.seek(0)
            img.load()
            try:
                img = ImageOps.exif_transpose(img)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - struct.error, SyntaxError, ValueError...
                raise ImageDecodeError(_EXIF_MESSAGE.format(detail=_detail(exc))) from None
            return _to_uint8(img, notes)
    except ImageDecodeError:
        raise
    except UnidentifiedImageError:
        raise ImageDecodeError(
            "This file is not a PNG or JPEG image (its content was not recognised)."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageDecodeError("The image is too large to decode safely (decompression bomb).") from None
    except MemoryError:
        raise ImageDecodeError(MEMORY_MESSAGE) from None
    except Exception as exc:  # noqa: BLE001 - whatever Pillow raises, the student reads words
        raise ImageDecodeError(
            f"The image could not be decoded; it may be truncated or damaged ({_detail(exc)})."
        ) from None


def _detail(exc: BaseException) -> str:
    """A short technical detail for a message: the exception's text, or its type when it has none."""
    text = " ".join(str(exc).split())[:160]
    return text or type(exc).__name__


def _to_uint8(img, notes: list[str]) -> DecodedImage:
    """Pillow image of any accepted mode -> uint8 grayscale or RGB, saying what was converted."""
    from PIL import Image

    mode = img.mode
    if mode.startswith("I;16"):
        values = np.asarray(img).astype(np.uint32)
        array = ((values + 128) // 257).astype(np.uint8)  # = rint(v / 65535 * 255), in integers
        notes.append(f"{mode} image (more than 8 bits per pixel): scaled to 0..255.")
        return DecodedImage(array, notes)
    if mode in ("I", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        array = np.clip(np.rint(values / top * 255.0), 0, 255).astype(np.uint8)
        notes.append(f"{mode} image (more than 8 bits per pixel): scaled to 0..255.")
        return DecodedImage(array, notes)
    if mode == "1":
        notes.append("Black-and-white (1-bit) image: converted to 0/255 grayscale.")
        img = img.convert("L")
    elif mode == "P":
        has_alpha = "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
        notes.append("Palette image: converted to RGB colours.")
    elif mode == "CMYK":
        img = img.convert("RGB")
        notes.append("CMYK image: converted to RGB.")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGB")
        notes.append(f"{mode} image: converted to RGB.")
    if img.mode in ("LA", "RGBA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        flattened = Image.alpha_composite(background, img.convert("RGBA"))
        img = flattened.convert("L" if img.mode == "LA" else "RGB")
        notes.append("Transparency removed: transparent areas are shown as white.")
    return DecodedImage(np.asarray(img, dtype=np.uint8), notes)


def prepare_decoding() -> None:
    """Have a sandboxed decoder process ready for the next upload (cheap when one already waits)."""
    image_sandbox.prestart()
