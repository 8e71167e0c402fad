"""A cheap look at an upload's structure before any decoder sees it.

Walks the PNG chunks or JPEG segments of a file (no decompression, no Pillow)
and refuses files whose *shape* is pathological: a JPEG with thousands of
scans (each scan makes the decoder pass over the whole image again: the
progressive "scan bomb"), a PNG with a huge number of chunks, a declared size
above the pixel limit, a file that ends early, bytes after a PNG's end. The
walk is linear in the file's length and runs at C speed (``bytes.find`` and a
compiled regular expression), so it is safe to run in the server process.

Every refusal is a :class:`StructureProblem` whose message gives the reason
first, in plain words.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8\xff"

MAX_JPEG_SCANS = 64
"""Most scans a JPEG may have. Encoders write 1 (baseline) or about 6-12 (progressive)."""

MAX_JPEG_SEGMENTS = 1000
"""Most marker segments a JPEG may have (real files have tens: tables, EXIF, ICC, XMP, scans)."""

MAX_PNG_CHUNKS = 10_000
"""Most chunks a PNG may have (an 8 MB file in libpng's 8 KB IDAT chunks has about 1,000)."""

# Start-of-frame markers (SOF0-SOF15 without DHT 0xC4, JPG 0xC8 and DAC 0xCC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_SOS, _EOI, _SOI = 0xDA, 0xD9, 0xD8
# Markers without a length: RST0-RST7 and TEM.
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}
# The next marker after entropy-coded data: 0xFF followed by anything but a
# stuffed zero, a restart marker or a fill byte.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_NOT_FILL = re.compile(rb"[^\xff]")
_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}")


class StructureProblem(ValueError):
    """The file's structure is refused; the message says why, in words."""


@dataclass
class Structure:
    """What the walk found: the format, the declared size and how the file is built."""

    format: str
    width: int
    height: int
    parts: int
    """PNG chunks or JPEG markers."""
    scans: int = 0
    """JPEG scans (0 for a PNG)."""
    frames: int = 0
    """Animation frames announced by an APNG's frame-control chunks (0 for a still image)."""
    trailing: int = 0
    """Bytes after the image's end (kept only for a JPEG: phones store extra data there)."""
    notes: list[str] = field(default_factory=list)


def sniff_format(data: bytes) -> str | None:
    """ "PNG", "JPEG" or None, from the first bytes (never from the file name)."""
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(JPEG_START):
        return "JPEG"
    return None


def check_structure(
    data: bytes,
    *,
    max_pixels: int,
    max_jpeg_scans: int = MAX_JPEG_SCANS,
    max_png_chunks: int = MAX_PNG_CHUNKS,
) -> Structure:
    """Walk a PNG's chunks or a JPEG's segments; raise StructureProblem for what is refused.

    >>> check_structure(b"GIF89a", max_pixels=100)
    Traceback (most recent call last):
    ...
    cnnviz.core.image_structure.StructureProblem: This file is not a PNG or JPEG image (its content was not recognised).
    """
    kind = sniff_format(data)
    if kind == "PNG":
        found = _walk_png(data, max_chunks=max_png_chunks)
    elif kind == "JPEG":
        found = _walk_jpeg(data, max_scans=max_jpeg_scans)
    else:
        raise StructureProblem("This file is not a PNG or JPEG image (its content was not recognised).")
    check_pixels(found.width, found.height, max_pixels)
    return found


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Refuse a declared size above ``max_pixels`` (a decompression bomb is refused from its header)."""
    if width * height > max_pixels:
        side = int(max_pixels**0.5)
        raise StructureProblem(
            f"The image is {width}x{height} pixels; the limit is "
            f"{max_pixels:,} pixels (about {side}x{side})."
        )


def _truncated(kind: str) -> StructureProblem:
    return StructureProblem(
        f"The file is truncated or damaged: it ends before the {kind} image is complete."
    )


def _walk_png(data: bytes, *, max_chunks: int) -> Structure:
    pos = len(PNG_SIGNATURE)
    chunks = 0
    width = height = -1
    image_data = False
    frames = 0
    while True:
        if pos + 8 > len(data):
            raise _truncated("PNG")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if not _CHUNK_TYPE.fullmatch(kind) or length > 0x7FFFFFFF:
            raise StructureProblem(
                f"The file is damaged: its PNG structure is broken at byte {pos:,} "
                "(this is not a valid PNG chunk; the file may be another kind of file in disguise)."
            )
        if chunks == 0 and (kind != b"IHDR" or length != 13):
            raise StructureProblem(
                "The file is damaged: its PNG structure is broken (it does not start with the PNG header "
                "chunk, IHDR); it may be another kind of file in disguise."
            )
        end = pos + 12 + length
        if end > len(data):
            raise _truncated("PNG")
        chunks += 1
        if chunks > max_chunks:
            raise StructureProblem(
                f"The PNG has too many chunks (more than {max_chunks:,}); real images have far fewer, "
                "and files built like this take very long to decode."
            )
        if chunks == 1:
            width, height = struct.unpack_from(">II", data, pos + 8)
            if width == 0 or height == 0:
                raise StructureProblem(f"The file is damaged: its header says the image is {width}x{height} pixels.")
        elif kind == b"IDAT":
            image_data = True
        elif kind == b"fcTL":
            frames += 1
        elif kind == b"IEND":
            break
        pos = end
    if not image_data:
        raise StructureProblem("The file is damaged: the PNG holds no image data (no IDAT chunk).")
    trailing = len(data) - end
    if trailing:
        raise StructureProblem(
            f"The file has {trailing:,} bytes of other data after the end of the PNG image; "
            "it may be another kind of file in disguise (a polyglot), so it is refused."
        )
    return Structure("PNG", width, height, chunks, frames=frames)


def _walk_jpeg(data: bytes, *, max_scans: int) -> Structure:
    pos = 2  # after SOI
    segments = scans = 0
    width = height = -1
    n = len(data)
    while True:
        if pos >= n:
            raise _truncated("JPEG")
        if data[pos] != 0xFF:
            raise StructureProblem(
                f"The file is damaged: its JPEG structure is broken at byte {pos:,} "
                "(a marker was expected; the file may be another kind of file in disguise)."
            )
        fill_end = _NOT_FILL.search(data, pos)  # fill bytes (0xFF) may precede a marker
        if fill_end is None:
            raise _truncated("JPEG")
        pos = fill_end.start()
        marker = data[pos]
        pos += 1
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise StructureProblem(
                f"The JPEG has too many segments (more than {MAX_JPEG_SEGMENTS:,}); real photos have tens, "
                "and files built like this take very long to decode."
            )
        if marker == _EOI:
            break
        if marker in _STANDALONE:
            continue
        if marker == _SOI or (marker < 0xC0 and marker != 0x01):  # 0x02-0xBF are reserved, never written
            raise StructureProblem(
                f"The file is damaged: its JPEG structure is broken at byte {pos - 2:,} (an unexpected marker)."
            )
        if pos + 2 > n:
            raise _truncated("JPEG")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise StructureProblem(f"The file is damaged: a JPEG segment at byte {pos - 2:,} has an impossible length.")
        end = pos + length
        if end > n:
            raise _truncated("JPEG")
        if marker in _SOF_MARKERS and width < 0:
            if length < 8:
                raise StructureProblem("The file is damaged: the JPEG frame header is too short.")
            height, width = struct.unpack_from(">HH", data, pos + 3)
        elif marker == _SOS:
            if width < 0:
                raise StructureProblem("The file is damaged: the JPEG image data comes before its frame header.")
            scans += 1
            if scans > max_scans:
                raise StructureProblem(
                    f"The JPEG has too many scans (more than {max_scans}); photos have at most about a dozen, "
                    "and a file with thousands of scans keeps the decoder busy for minutes (a scan bomb)."
                )
            found = _NEXT_MARKER.search(data, end)
            if found is None:
                raise _truncated("JPEG")
            end = found.start()
        pos = end
    if width < 0 or scans == 0:
        raise StructureProblem("The file is damaged: the JPEG holds no image data.")
    trailing = n - pos
    notes = []
    if trailing:
        notes.append(
            f"Ignored {trailing:,} bytes after the end of the JPEG image (phones store extra data there); "
            "only the picture is used."
        )
    # A height of 0 means "given later" (DNL marker); Pillow's own check after open() covers it.
    return Structure("JPEG", width, max(height, 0), segments, scans=scans, trailing=trailing, notes=notes)
