"""The child side of :mod:`cnnviz.core.image_sandbox`: ``python -m cnnviz.core.image_sandbox_child``.

Imports numpy and Pillow, warms every decoding path up (so nothing needs to be
imported or opened later), waits for one request on stdin, applies the limits
it names, then reads the upload, decodes it and writes one answer to stdout.
Never imports Streamlit, TensorFlow or Keras.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import warnings

_NOBODY = 65534


def _warm_up() -> None:
    """Decode one small file of every kind, so Pillow's lazy imports happen before the limits."""
    import io

    import numpy as np
    from PIL import Image

    from cnnviz.core import image_upload

    samples = []
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turned, so exif_transpose does its whole job
    for mode, fmt in (("RGBA", "PNG"), ("P", "PNG"), ("LA", "PNG"), ("1", "PNG"), ("RGB", "JPEG"), ("CMYK", "JPEG")):
        buffer = io.BytesIO()
        Image.new(mode, (4, 3)).save(buffer, format=fmt, exif=exif)
        samples.append(buffer.getvalue())
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((3, 4), np.uint16)).save(buffer, format="PNG")
    samples.append(buffer.getvalue())
    frames = [Image.new("L", (4, 3), v) for v in (0, 9)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    samples.append(buffer.getvalue())
    for sample in samples:
        image_upload.decode_with_pillow(sample, max_pixels=100)
    for bad in (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff" + b"\x00" * 40, b"GIF89a"):
        try:
            image_upload.decode_with_pillow(bad, max_pixels=100)
        except image_upload.ImageDecodeError:
            pass


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _apply_limits(header: dict) -> None:
    """Limits for the rest of this process's life; hard limits too, and no way back to root."""
    memory = _address_space() + int(header["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime + float(header["cpu_seconds"]))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (3, 3))  # stdin, stdout, stderr: no files, no sockets
    if os.geteuid() == 0:  # root could raise its hard limits again: become nobody
        try:
            os.setgroups([])
            os.setgid(_NOBODY)
            os.setuid(_NOBODY)
        except OSError:
            pass


def _read_exact(stream, length: int) -> bytes:
    chunks, left = [], length
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main() -> int:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    warnings.simplefilter("ignore")  # Pillow's warnings about odd files would only fill stderr
    from cnnviz.core import image_sandbox, image_upload

    _warm_up()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    line = stdin.readline(4096)
    if not line:
        return 0  # the server closed the pipe: this spare is not needed
    header = json.loads(line)
    _apply_limits(header)
    data = _read_exact(stdin, int(header["length"]))
    array = None
    try:
        if len(data) != int(header["length"]):
            raise image_upload.ImageDecodeError("The upload reached the decoder incompletely.")
        decoded = image_upload.decode_with_pillow(data, max_pixels=int(header["max_pixels"]))
        answer, array = {"ok": True, "notes": decoded.notes}, decoded.array
    except image_upload.ImageDecodeError as exc:
        answer = {"ok": False, "reason": str(exc)}
    except MemoryError:
        answer = {"ok": False, "reason": image_upload.MEMORY_MESSAGE}
    except Exception as exc:  # noqa: BLE001 - the reason goes back as words, never a traceback
        answer = {"ok": False, "reason": f"The image could not be decoded ({type(exc).__name__})."}
    del data
    image_sandbox.write_answer(stdout, answer, array)
    stdout.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Skip the interpreter's shutdown (tearing numpy and Pillow down takes 50-150 ms):
    # the server reads the answer as soon as stdout closes, and nothing is left to clean.
    os._exit(code)
