"""Files built as an attacker would, in memory, for the upload-decoding tests (no committed binaries).

Also :func:`bounded`: run one call and measure its wall time and this process's memory growth.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zipfile
import zlib

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def zip_file() -> bytes:
    """A small real zip archive (what a PNG/zip polyglot carries)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert('hi')</script>")
    return buffer.getvalue()


HTML = b"<!doctype html><html><body><script>alert('hi')</script></body></html>"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo(size: int = 64, *, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A small noisy gradient (compresses like a photo, not like a flat colour)."""
    y, x = np.mgrid[0:size, 0:size]
    rgb = np.stack([x * 255 // size, y * 255 // size, (x + y) * 127 // size], -1)
    rgb = rgb + np.random.default_rng(seed).integers(-10, 10, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).convert(mode)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header announces width x height 8-bit grayscale pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1000)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def png_with_chunks(extra: int) -> bytes:
    """A valid small PNG with ``extra`` empty private ancillary chunks before its end."""
    data = encode(Image.new("L", (4, 4), 7), "PNG")
    filler = png_chunk(b"abCd", b"") * extra
    return data[:-12] + filler + data[-12:]


def last_scan_header(jpeg: bytes) -> bytes:
    """The SOS segment header (marker, length, scan parameters) of a JPEG's last scan."""
    start = jpeg.rindex(b"\xff\xda")  # entropy data cannot hold FF DA: it stuffs a 00 after every FF
    (length,) = struct.unpack_from(">H", jpeg, start + 2)
    return jpeg[start : start + 2 + length]


def scan_bomb(scans: int, *, size: int = 256) -> bytes:
    """A progressive JPEG followed by ``scans`` empty scans (each makes libjpeg pass over the whole image)."""
    base = encode(Image.new("L", (size, size), 128), "JPEG", progressive=True)
    assert base.endswith(b"\xff\xd9")
    return base[:-2] + last_scan_header(base) * scans + b"\xff\xd9"


def _ifd(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A little-endian TIFF header with one IFD (tag, type, count, 4-byte value) and no next IFD."""
    out = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack("<HHI", tag, kind, count) + value
    return out + b"\x00\x00\x00\x00"


ORIENTATION_6 = (0x0112, 3, 1, struct.pack("<HH", 6, 0))
GARBAGE_EXIF = _ifd([ORIENTATION_6, (0x0128, 5, 1, struct.pack("<I", 8))])
"""Orientation 6 (so exif_transpose rewrites the EXIF) and ResolutionUnit stored as a RATIONAL:
writing it back as a SHORT raises ``struct.error`` inside ``ImageOps.exif_transpose``."""
NEGATIVE_UNIT_EXIF = _ifd([ORIENTATION_6, (0x0128, 8, 1, struct.pack("<hh", -1, 0))])
"""ResolutionUnit as a negative SSHORT: ``struct.error: ushort format requires 0 <= number <= 65535``."""
NONSENSE_ORIENTATION_EXIF = _ifd([(0x0112, 3, 1, struct.pack("<HH", 99, 0))])
"""Orientation 99 (no such value): nothing to turn, the picture is used as it is."""


def jpeg_with_exif(tiff: bytes, image: Image.Image | None = None) -> bytes:
    data = encode(image or photo(16), "JPEG")
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def png_with_exif(tiff: bytes, image: Image.Image | None = None) -> bytes:
    data = encode(image or photo(16), "PNG")
    return data[:33] + png_chunk(b"eXIf", tiff) + data[33:]  # right after the 8+25-byte signature and IHDR


def animated_png(frames: int, size: int = 8) -> bytes:
    images = [Image.new("L", (size, size), (10 * k) % 256) for k in range(frames)]
    return encode(images[0], "PNG", save_all=True, append_images=images[1:])


# --------------------------------------------------------------------------
# Bounds
# --------------------------------------------------------------------------

TIME_BOUND_SECONDS = 5.0
MEMORY_BOUND_BYTES = 300 * 2**20
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def bounded(call, *, seconds: float = TIME_BOUND_SECONDS, memory: int = MEMORY_BOUND_BYTES):
    """Run ``call()``; assert it took under ``seconds`` and grew this process by under ``memory``.

    Returns what the call returned, or the exception it raised. Memory is this
    process's resident size, sampled every millisecond during the call (child
    processes have their own limits and are not counted).
    """
    baseline = peak = _rss()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.001):
            peak = max(peak, _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        outcome = call()
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        outcome = exc
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    peak = max(peak, _rss())
    assert elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"
    assert peak - baseline < memory, f"grew by {(peak - baseline) / 2**20:.0f} MB (bound {memory / 2**20:.0f} MB)"
    return outcome
