"""Decoding uploads in a throwaway child process, so a hostile file cannot hurt the server.

Pillow's decoders run C code on the uploader's bytes and cannot be
interrupted: a progressive-JPEG "scan bomb" keeps a core busy for half an
hour, and a decoder bug would crash (or worse) the one process that serves the
whole class. So the bytes go to a fresh ``python -m cnnviz.core.image_sandbox_child``
(started with ``subprocess``, never a fork of the server), which

* sets its own limits before it reads the upload: address space (RLIMIT_AS),
  CPU seconds (RLIMIT_CPU), no files written (RLIMIT_FSIZE 0), no new file
  descriptors (RLIMIT_NOFILE 3: no files, no sockets), no core dumps;
* reads the upload from stdin, decodes it with :func:`cnnviz.core.image_upload.decode_with_pillow`;
* writes back only a small JSON header and a plain ``.npy`` uint8 array.

The server kills the child's whole process group when the wall-clock timeout
passes, reads at most what a valid answer can hold, loads the array with
``allow_pickle=False`` and checks its dtype and shape. One child serves one
upload and exits. To keep an upload fast, one spare child is started ahead of
time (interpreter start and imports cost 0.2-0.5 s here) and waits, idle,
for the next upload; at most :data:`MAX_CONCURRENT_DECODES` decode at once.

No Streamlit, TensorFlow or Keras: the child imports numpy and Pillow only.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz.core import sandbox

try:
    import fcntl  # POSIX only; without it the answer's pipe keeps its default size
except ImportError:  # pragma: no cover
    fcntl = None

CHILD_MODULE = "cnnviz.core.image_sandbox_child"

DECODE_TIMEOUT_SECONDS = 10.0
"""Wall-clock time one decode may take before its process group is killed."""

DECODE_CPU_SECONDS = 8
"""CPU seconds one decode may use (RLIMIT_CPU, counted from when the upload arrives)."""

DECODE_MEMORY_BYTES = 768 * 2**20
"""Address space one decode may add to the child's baseline (RLIMIT_AS).

A 4096x4096 RGBA PNG (the largest upload, flattened onto white) needs about 300-380 MB."""

MAX_CONCURRENT_DECODES = 2
"""Children decoding at once (the classroom server has 2 cores); others wait their turn."""

BUSY_WAIT_SECONDS = 20.0
"""How long an upload waits for a free decoding slot before the student is asked to retry."""

_MAX_HEADER = 64 * 1024
_MAX_STDERR = 64 * 1024
_NPY_SLACK = 4096  # an .npy header is 128 bytes; anything far beyond the pixels is refused
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the cnnviz package


class SandboxError(Exception):
    """The child could not decode the upload; the message says why, in words."""


@dataclass
class SandboxResult:
    array: np.ndarray
    notes: list[str]


def available() -> bool:
    """Whether child processes with resource limits can be used here (POSIX only)."""
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------
# The protocol (both sides)
# --------------------------------------------------------------------------


def encode_request(data: bytes, *, max_pixels: int, cpu_seconds: float, memory_bytes: int) -> bytes:
    """One line of JSON (the limits and the length), then the upload's bytes."""
    header = {
        "length": len(data),
        "max_pixels": int(max_pixels),
        "cpu_seconds": float(cpu_seconds),
        "memory_bytes": int(memory_bytes),
    }
    return json.dumps(header).encode() + b"\n" + data


def write_answer(stream, header: dict, array: np.ndarray | None = None) -> None:
    """A 4-byte length, a JSON header, then (for a decoded image) the array as .npy, written without copies."""
    body = json.dumps(header).encode()
    stream.write(struct.pack(">I", len(body)) + body)
    if array is not None:
        array = np.ascontiguousarray(array, dtype=np.uint8)
        npy_header = io.BytesIO()
        np.lib.format.write_array_header_1_0(npy_header, np.lib.format.header_data_from_array_1_0(array))
        stream.write(npy_header.getvalue())
        stream.write(memoryview(array).cast("B"))


def _plain(text, limit: int = 400) -> str:
    """A child's text made safe to show: printable characters only, no markdown markup, bounded."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    for ch in "`*_[]<>#|\\~":
        text = text.replace(ch, " ")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_answer(raw: bytes | bytearray, *, max_pixels: int) -> SandboxResult:
    """Check and read a child's answer; raise SandboxError for a refusal or anything malformed.

    The array part must be a plain ``.npy`` of uint8 in C order: its header is
    read by numpy's own header parser (a literal, never a pickle) and the
    pixels are then viewed in ``raw`` without a copy, as ``np.load(...,
    allow_pickle=False)`` would read them.
    """
    malformed = "The decoder's answer was malformed."
    if len(raw) < 4:
        raise SandboxError("The decoder gave no answer.")
    (size,) = struct.unpack_from(">I", raw)
    if size > _MAX_HEADER or 4 + size > len(raw):
        raise SandboxError(malformed)
    try:
        header = json.loads(bytes(raw[4 : 4 + size]))
    except ValueError:
        raise SandboxError(malformed) from None
    if not isinstance(header, dict):
        raise SandboxError(malformed)
    if not header.get("ok"):
        raise SandboxError(_plain(header.get("reason") or "The image could not be decoded."))
    notes = header.get("notes")
    if not isinstance(notes, list):
        raise SandboxError(malformed)
    notes = [_plain(note) for note in notes[:20]]
    start = 4 + size
    try:
        npy = io.BytesIO(bytes(raw[start : start + _NPY_SLACK]))
        version = np.lib.format.read_magic(npy)
        if version != (1, 0):
            raise ValueError(version)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(npy)
    except Exception:
        raise SandboxError("The decoder's answer was malformed (not a plain array).") from None
    if (
        dtype != np.uint8
        or fortran
        or len(shape) not in (2, 3)
        or (len(shape) == 3 and shape[2] != 3)
        or min(shape[:2]) < 1
        or shape[0] * shape[1] > max_pixels
        or len(raw) - start - npy.tell() != int(np.prod(shape))
    ):
        raise SandboxError("The decoder's answer was malformed (an unexpected array).")
    array = np.frombuffer(raw, dtype=np.uint8, offset=start + npy.tell()).reshape(shape)
    return SandboxResult(array, notes)


# --------------------------------------------------------------------------
# Children: one spare started ahead, one child per upload
# --------------------------------------------------------------------------

_slots = sandbox.Slots(MAX_CONCURRENT_DECODES, BUSY_WAIT_SECONDS)
_spare_lock = threading.Lock()
_spare: subprocess.Popen | None = None


def _start_child() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", CHILD_MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(_ROOT),
        env=sandbox.child_environment(),
        close_fds=True,
        start_new_session=True,  # its own process group: a timeout kills everything it started
    )


def _close_pipes(proc: subprocess.Popen) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child's whole process group, close its pipes and reap it."""
    sandbox.kill_group(proc)
    _close_pipes(proc)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def prestart() -> None:
    """Start the spare child now (if there is none), so the next upload need not wait for it."""
    global _spare
    if not available():
        return
    with _spare_lock:
        if _spare is not None and _spare.poll() is None:
            return
        try:
            _spare = _start_child()
        except OSError:
            _spare = None


def _take_child() -> subprocess.Popen:
    global _spare
    with _spare_lock:
        proc, _spare = _spare, None
    if proc is not None and proc.poll() is None:
        return proc
    if proc is not None:
        _kill(proc)
    return _start_child()


@atexit.register
def _stop_spare() -> None:
    global _spare
    with _spare_lock:
        proc, _spare = _spare, None
    if proc is not None:
        _kill(proc)


def _exchange(proc: subprocess.Popen, request: bytes, *, deadline: float, max_answer: int) -> tuple[bytearray, bytearray]:
    """Write the request, read stdout/stderr (bounded) until both close or the deadline passes."""
    out, err = bytearray(), bytearray()
    view = memoryview(request)
    sent = 0
    try:  # a 1 MB pipe: a large image comes back in 50 reads instead of 800
        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (AttributeError, OSError):
        pass
    with selectors.DefaultSelector() as selector:
        os.set_blocking(proc.stdin.fileno(), False)
        selector.register(proc.stdin, selectors.EVENT_WRITE)
        selector.register(proc.stdout, selectors.EVENT_READ, out)
        selector.register(proc.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            for key, _ in selector.select(remaining):
                if key.fileobj is proc.stdin:
                    try:
                        sent += os.write(key.fd, view[sent : sent + 65536])
                    except BrokenPipeError:
                        sent = len(view)  # the child stopped reading; its answer says why
                    except BlockingIOError:
                        continue
                    if sent >= len(view):
                        selector.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fd, 1 << 20)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer = key.data
                buffer += chunk
                limit = max_answer if buffer is out else _MAX_STDERR
                if len(buffer) > limit:
                    if buffer is out:
                        raise OverflowError
                    del buffer[limit:]
    return out, err


def decode(
    data: bytes,
    *,
    max_pixels: int,
    timeout: float = DECODE_TIMEOUT_SECONDS,
    cpu_seconds: float = DECODE_CPU_SECONDS,
    memory_bytes: int = DECODE_MEMORY_BYTES,
) -> SandboxResult:
    """Decode ``data`` in a child process within the limits; raise SandboxError (reason first) otherwise."""
    try:
        with _slots.taken():
            return _decode_in_child(data, max_pixels=max_pixels, timeout=timeout, cpu_seconds=cpu_seconds,
                                    memory_bytes=memory_bytes)
    except sandbox.SandboxBusy:
        raise SandboxError("The server is busy decoding other uploads; please try again in a moment.") from None
    finally:
        prestart()  # the next upload finds a child ready


def _decode_in_child(data: bytes, *, max_pixels: int, timeout: float, cpu_seconds: float,
                     memory_bytes: int) -> SandboxResult:
    try:
        proc = _take_child()
    except OSError as exc:
        raise SandboxError(f"The image decoder could not be started ({_plain(exc, 120)}).") from None
    request = encode_request(data, max_pixels=max_pixels, cpu_seconds=cpu_seconds, memory_bytes=memory_bytes)
    max_answer = 4 + _MAX_HEADER + 3 * max_pixels + _NPY_SLACK
    try:
        out, _err = _exchange(proc, request, deadline=time.monotonic() + timeout, max_answer=max_answer)
        proc.wait(timeout=max(0.1, min(2.0, timeout)))
    except (TimeoutError, subprocess.TimeoutExpired):
        _kill(proc)
        raise SandboxError(
            f"Decoding took longer than {timeout:g} seconds, so it was stopped "
            "(the file may be built to keep the server busy)."
        ) from None
    except OverflowError:
        _kill(proc)
        raise SandboxError("The decoder's answer was larger than any image within the limits.") from None
    except OSError as exc:
        _kill(proc)
        raise SandboxError(f"The image decoder failed ({_plain(exc, 120)}).") from None
    finally:
        if proc.poll() is None:
            _kill(proc)
        else:
            _close_pipes(proc)
    code = proc.returncode
    if code == -signal.SIGXCPU or (code == -signal.SIGKILL and not out):  # soft, then hard RLIMIT_CPU
        raise SandboxError(
            f"Decoding used more than {cpu_seconds:g} seconds of processor time, so it was stopped "
            "(the file may be built to keep the server busy)."
        )
    if out:
        return decode_answer(out, max_pixels=max_pixels)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        raise SandboxError(f"The decoder crashed on this file (signal {name}); it is damaged or malicious.")
    raise SandboxError(f"The decoder stopped without an answer (exit status {code}); the file may be damaged.")
