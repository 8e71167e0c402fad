"""Tests for decoding hostile uploads: the structure check, the sandboxed child and its limits.

Every hostile file is built here, in memory. Each call must stay within bounds
(under 5 s, under 300 MB growth of this process) and refuse with its own reason.
"""

import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from cnnviz.core import image_sandbox, image_structure, image_upload, images, sandbox
from tests.core import hostile_images as h

MODES = [pytest.param(True, id="sandbox"), pytest.param(False, id="in-process")]
needs_sandbox = pytest.mark.skipif(  # never skipped in CI (CI=true): there it must run
    not image_sandbox.available() and os.environ.get("CI") != "true", reason="the sandbox needs POSIX resource limits")


# -- the hostile corpus, through decode_image --------------------------------------------------


HOSTILE = {
    "empty file": (lambda: b"", "The file is empty"),
    "oversize file": (lambda: b"\x89PNG" + b"\x00" * (image_upload.MAX_UPLOAD_BYTES + 1), "the limit is 8 MB"),
    "progressive JPEG scan bomb": (lambda: h.scan_bomb(100_000), "too many scans"),
    "JPEG with thousands of segments": (
        lambda: (lambda d: d[:2] + b"\xff\xfe\x00\x02" * 5000 + d[2:])(h.encode(h.photo(8), "JPEG")),
        "too many segments",
    ),
    "PNG with thousands of chunks": (lambda: h.png_with_chunks(20_000), "too many chunks"),
    "decompression bomb PNG (huge declared size)": (lambda: h.png_declaring(100_000, 100_000), "100000x100000 pixels"),
    "decompression bomb JPEG (huge declared size)": (
        lambda: (lambda d: d.replace(b"\xff\xc0\x00\x11\x08\x00\x08\x00\x08", b"\xff\xc0\x00\x11\x08\xff\xff\xff\xff"))(
            h.encode(h.photo(8), "JPEG")
        ),
        "65535x65535 pixels",
    ),
    "truncated PNG": (lambda: (lambda d: d[: len(d) // 2])(h.encode(h.photo(64), "PNG")), "truncated or damaged"),
    "truncated JPEG": (lambda: (lambda d: d[: len(d) // 2])(h.encode(h.photo(64), "JPEG")), "truncated or damaged"),
    "JPEG without its end marker": (lambda: h.encode(h.photo(64), "JPEG")[:-2], "truncated or damaged"),
    "PNG header followed by HTML": (lambda: h.PNG_SIGNATURE + h.HTML, "PNG structure is broken"),
    "PNG with a zip archive appended (polyglot)": (
        lambda: h.encode(h.photo(8), "PNG") + h.zip_file(),
        "other data after the end of the PNG",
    ),
    "HTML named .png": (lambda: h.HTML, "not a PNG or JPEG"),
    "zip named .png": (lambda: h.zip_file(), "not a PNG or JPEG"),
    "JPEG start followed by HTML": (lambda: b"\xff\xd8\xff" + h.HTML, "JPEG structure is broken"),
    "garbage EXIF in a JPEG": (lambda: h.jpeg_with_exif(h.GARBAGE_EXIF), "EXIF metadata"),
    "garbage EXIF in a PNG": (lambda: h.png_with_exif(h.GARBAGE_EXIF), "EXIF metadata"),
    "negative EXIF value in a JPEG": (lambda: h.jpeg_with_exif(h.NEGATIVE_UNIT_EXIF), "EXIF metadata"),
    "corrupt PNG pixel data": (
        lambda: (lambda d: d[:41] + bytes(b ^ 0x5A for b in d[41:-12]) + d[-12:])(h.encode(h.photo(8), "PNG")),
        "could not be decoded",
    ),
}


@pytest.mark.parametrize("sandbox", MODES)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_upload_is_refused_with_its_reason(name, sandbox):
    """Each hostile file is refused quickly, with little memory, and the message names its reason first."""
    build, reason = HOSTILE[name]
    data = build()
    outcome = h.bounded(lambda: image_upload.decode_image(data, sandbox=sandbox))
    assert isinstance(outcome, image_upload.ImageDecodeError), f"{name}: not refused ({outcome!r})"
    message = str(outcome)
    assert reason in message, message
    assert "Traceback" not in message and message[0].isupper()


ACCEPTED = {
    "animated PNG (300 frames)": (lambda: h.animated_png(300), (8, 8), "Animated image with 300 frames"),
    "CMYK JPEG": (lambda: h.encode(h.photo(16, mode="CMYK"), "JPEG"), (16, 16, 3), "CMYK image"),
    "JPEG with a zip appended (phones store extra data after the end)": (
        lambda: h.encode(h.photo(16), "JPEG") + h.zip_file(),
        (16, 16, 3),
        "Ignored",
    ),
    "nonsense EXIF orientation": (lambda: h.jpeg_with_exif(h.NONSENSE_ORIENTATION_EXIF), (16, 16, 3), None),
    "EXIF that is pure noise": (lambda: h.jpeg_with_exif(b"\x13\x37" * 30), (16, 16, 3), None),
    "16-bit PNG": (lambda: h.encode(Image.fromarray(np.full((5, 7), 65535, np.uint16)), "PNG"), (5, 7), "scaled"),
    "progressive JPEG with its normal scans": (lambda: h.scan_bomb(0, size=32), (32, 32), None),
    "progressive JPEG with a few extra scans": (lambda: h.scan_bomb(40, size=32), (32, 32), None),
}


@pytest.mark.parametrize("sandbox", MODES)
@pytest.mark.parametrize("name", list(ACCEPTED))
def test_odd_but_harmless_uploads_are_decoded(name, sandbox):
    build, shape, note = ACCEPTED[name]
    decoded = h.bounded(lambda: image_upload.decode_image(build(), sandbox=sandbox))
    assert isinstance(decoded, image_upload.DecodedImage), decoded
    assert decoded.array.shape == shape and decoded.array.dtype == np.uint8
    if note:
        assert any(note in n for n in decoded.notes), decoded.notes


@pytest.mark.parametrize("sandbox", MODES)
def test_exif_orientation_is_applied(sandbox):
    """A picture stored sideways with orientation 6 comes back upright (width and height swapped)."""
    data = h.jpeg_with_exif(h._ifd([h.ORIENTATION_6]), image=h.photo(16).crop((0, 0, 16, 10)))
    decoded = image_upload.decode_image(data, sandbox=sandbox)
    assert decoded.array.shape == (16, 10, 3)


def test_sandbox_and_in_process_decode_give_the_same_pixels():
    for data in (h.encode(h.photo(40), "PNG"), h.encode(h.photo(40), "JPEG"), h.encode(h.photo(9, mode="RGBA"), "PNG")):
        inside = image_upload.decode_image(data, sandbox=True)
        here = image_upload.decode_image(data, sandbox=False)
        np.testing.assert_array_equal(inside.array, here.array)
        assert inside.notes == here.notes


# -- every Pillow step is checked, also without the structure check -----------------------------


def test_pillow_path_checks_the_size_before_loading():
    """decode_with_pillow refuses a huge declared size from img.size (the structure check is not its only guard)."""
    outcome = h.bounded(lambda: image_upload.decode_with_pillow(h.png_declaring(5000, 5000), max_pixels=1000))
    assert isinstance(outcome, image_upload.ImageDecodeError) and "5000x5000 pixels" in str(outcome)


def test_pillow_decompression_bomb_warning_is_an_error():
    """Above Pillow's MAX_IMAGE_PIXELS its warning is an error too, even when our own limit is raised."""
    side = int((Image.MAX_IMAGE_PIXELS * 1.2) ** 0.5)
    outcome = h.bounded(lambda: image_upload.decode_with_pillow(h.png_declaring(side, side), max_pixels=10**12))
    assert isinstance(outcome, image_upload.ImageDecodeError) and "decompression bomb" in str(outcome)


def test_pillow_path_turns_exif_failures_into_words():
    with pytest.raises(image_upload.ImageDecodeError, match="^The image's EXIF metadata"):
        image_upload.decode_with_pillow(h.jpeg_with_exif(h.GARBAGE_EXIF))


# -- the structure check -------------------------------------------------------------------------


def test_structure_counts_scans_and_chunks():
    base = h.scan_bomb(0, size=32)
    plain = image_structure.check_structure(base, max_pixels=10**6)
    assert plain.format == "JPEG" and plain.scans >= 2 and (plain.width, plain.height) == (32, 32)
    assert image_structure.check_structure(h.scan_bomb(5, size=32), max_pixels=10**6).scans == plain.scans + 5
    png = image_structure.check_structure(h.animated_png(3), max_pixels=10**6)
    assert png.format == "PNG" and png.frames == 3 and png.parts >= 8


def test_structure_limit_on_scans_is_exact():
    base_scans = image_structure.check_structure(h.scan_bomb(0, size=16), max_pixels=10**6).scans
    extra = image_structure.MAX_JPEG_SCANS - base_scans
    image_structure.check_structure(h.scan_bomb(extra, size=16), max_pixels=10**6)
    with pytest.raises(image_structure.StructureProblem, match="too many scans"):
        image_structure.check_structure(h.scan_bomb(extra + 1, size=16), max_pixels=10**6)


def test_structure_walk_is_cheap_on_the_largest_uploads():
    """Walking an 8 MB file of JPEG entropy data full of stuffed bytes stays well inside the bounds."""
    base = h.encode(h.photo(16), "JPEG")
    header = h.last_scan_header(base)
    start = base.rindex(header) + len(header)
    stuffed = base[:start] + b"\xff\x00" * (4 * 2**20 - 100) + b"\xff\xd9"
    outcome = h.bounded(lambda: image_structure.check_structure(stuffed, max_pixels=10**6), seconds=2)
    assert isinstance(outcome, image_structure.Structure)
    fill = base[:2] + b"\xff" * (8 * 2**20 - 100)
    outcome = h.bounded(lambda: image_structure.check_structure(fill, max_pixels=10**6), seconds=2)
    assert isinstance(outcome, image_structure.StructureProblem) and "truncated" in str(outcome)


# -- the sandbox's limits (the structure check bypassed: these reach Pillow) ----------------------


@pytest.fixture
def started(monkeypatch):
    """Every child process the sandbox starts during the test."""
    procs = []
    original = image_sandbox._start_child

    def start():
        proc = original()
        procs.append(proc)
        return proc

    monkeypatch.setattr(image_sandbox, "_start_child", start)
    image_sandbox._stop_spare()  # the next decode starts (and records) its own child
    return procs


def _gone(proc) -> bool:
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return True
    return False


@needs_sandbox
def test_scan_bomb_is_killed_at_the_wall_clock_timeout(started):
    """A scan bomb that Pillow would chew on for minutes is killed, with its process group."""
    bomb = h.scan_bomb(3000, size=4096)  # the structure check would refuse it: image_sandbox.decode has none
    assert len(bomb) < image_upload.MAX_UPLOAD_BYTES
    outcome = h.bounded(lambda: image_sandbox.decode(bomb, max_pixels=image_upload.MAX_UPLOAD_PIXELS, timeout=1.5))
    assert isinstance(outcome, image_sandbox.SandboxError)
    assert str(outcome).startswith("Decoding took longer than 1.5 seconds")
    child = started[0]  # the one that decoded (a fresh spare was started after it)
    assert child.poll() is not None and _gone(child)


@needs_sandbox
def test_cpu_limit_stops_a_busy_decoder(started):
    bomb = h.scan_bomb(3000, size=4096)
    outcome = h.bounded(
        lambda: image_sandbox.decode(bomb, max_pixels=image_upload.MAX_UPLOAD_PIXELS, timeout=30, cpu_seconds=0.5)
    )
    assert isinstance(outcome, image_sandbox.SandboxError)
    assert "seconds of processor time" in str(outcome)
    assert started[0].returncode in (-signal.SIGXCPU, -signal.SIGKILL)


@needs_sandbox
def test_memory_limit_stops_a_greedy_decode():
    """An image whose conversion needs more than the memory budget is refused in words."""
    big = h.encode(Image.new("RGBA", (4096, 4096), (1, 2, 3, 4)), "PNG")
    outcome = h.bounded(
        lambda: image_sandbox.decode(big, max_pixels=image_upload.MAX_UPLOAD_PIXELS, memory_bytes=48 * 2**20)
    )
    assert isinstance(outcome, image_sandbox.SandboxError)
    assert str(outcome) == image_upload.MEMORY_MESSAGE


@needs_sandbox
def test_largest_accepted_upload_fits_the_default_limits():
    """A 4096x4096 RGBA PNG (the worst case for memory) decodes in the child with the default limits."""
    big = h.encode(Image.new("RGBA", (4096, 4096), (1, 2, 3, 128)), "PNG")
    decoded = h.bounded(lambda: image_upload.decode_image(big), seconds=30, memory=400 * 2**20)
    assert isinstance(decoded, image_upload.DecodedImage), decoded
    assert decoded.array.shape == (4096, 4096, 3)


@needs_sandbox
def test_child_limits_and_environment(monkeypatch):
    """The child sets its limits before it reads the upload, and gets none of the server's environment."""
    monkeypatch.setenv("CNNVIZ_TEST_SECRET", "do-not-pass")
    proc = image_sandbox._start_child()
    try:
        request = image_sandbox.encode_request(b"x" * 10, max_pixels=100, cpu_seconds=3, memory_bytes=64 * 2**20)
        proc.stdin.write(request[:-5])  # the header and half the upload: the child now waits, limited
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        rows = {}
        while time.monotonic() < deadline and rows.get("Max open files", [""])[0] != "3":
            time.sleep(0.05)
            with open(f"/proc/{proc.pid}/limits") as limits:
                rows = {line[:26].strip(): line[26:].split()[:2] for line in limits.read().splitlines()[1:]}
        assert rows["Max open files"] == ["3", "3"]
        assert rows["Max file size"] == ["0", "0"]
        assert rows["Max core file size"] == ["0", "0"]
        assert int(rows["Max cpu time"][0]) <= 6 and rows["Max cpu time"][1] != "unlimited"
        assert int(rows["Max address space"][0]) < 600 * 2**20
        with open(f"/proc/{proc.pid}/environ", "rb") as file:
            environ = file.read()
        assert b"CNNVIZ_TEST_SECRET" not in environ and b"OPENBLAS_NUM_THREADS=1" in environ
        if os.geteuid() == 0:
            assert os.stat(f"/proc/{proc.pid}").st_uid != 0  # root became nobody
    finally:
        image_sandbox._kill(proc)


def test_child_imports_no_streamlit_tensorflow_or_keras():
    code = (
        "import sys; import cnnviz.core.image_sandbox_child as child; child._warm_up(); "
        "print([m for m in ('streamlit', 'tensorflow', 'keras', 'plotly', 'torch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=str(image_sandbox._ROOT), env=sandbox.child_environment())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@needs_sandbox
def test_a_spare_child_is_ready_and_used_once(started):
    image_sandbox.prestart()
    spare = image_sandbox._spare
    assert spare is not None and spare.poll() is None
    image_upload.decode_image(h.encode(h.photo(8), "PNG"))
    assert spare.poll() is not None  # it decoded one upload and exited
    assert image_sandbox._spare is not None and image_sandbox._spare is not spare  # a fresh one waits


# -- the answer the server accepts from a child ----------------------------------------------------


def _answer(header, payload: bytes = b"") -> bytes:
    body = json.dumps(header).encode()
    return struct.pack(">I", len(body)) + body + payload


def _npy(array, **options) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **options)
    return buffer.getvalue()


def test_answer_round_trip():
    buffer = io.BytesIO()
    image_sandbox.write_answer(buffer, {"ok": True, "notes": ["a note"]}, images.RGB_GRID)
    result = image_sandbox.decode_answer(buffer.getvalue(), max_pixels=100)
    np.testing.assert_array_equal(result.array, images.RGB_GRID)
    assert result.notes == ["a note"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(b"\x00\x00\x00\x10{}", id="short header"),
        pytest.param(_answer(["not", "a", "dict"]), id="not a dict"),
        pytest.param(_answer({"ok": True, "notes": []}, pickle.dumps(np.zeros((2, 2), np.uint8))), id="a pickle"),
        pytest.param(_answer({"ok": True, "notes": []}, _npy(np.array([{"x": 1}], dtype=object), allow_pickle=True)),
                     id="object array"),
        pytest.param(_answer({"ok": True, "notes": []}, _npy(np.zeros((2, 2)))), id="float64"),
        pytest.param(_answer({"ok": True, "notes": []}, _npy(np.zeros((2, 2, 4), np.uint8))), id="four channels"),
        pytest.param(_answer({"ok": True, "notes": []}, _npy(np.zeros((20, 20), np.uint8))), id="over the pixel limit"),
        pytest.param(_answer({"ok": True, "notes": []}, _npy(np.zeros((2, 2), np.uint8))[:-1]), id="cut short"),
        pytest.param(_answer({"ok": True, "notes": []}, _npy(np.asfortranarray(np.zeros((3, 2), np.uint8)))),
                     id="fortran order"),
    ],
)
def test_malformed_answers_are_refused(raw):
    with pytest.raises(image_sandbox.SandboxError, match="gave no answer|malformed"):
        image_sandbox.decode_answer(raw, max_pixels=100)


def test_a_childs_reason_is_shown_as_plain_text():
    raw = _answer({"ok": False, "reason": "Bad **bold** [link](http://x) `code`\n<b>" + "x" * 1000})
    with pytest.raises(image_sandbox.SandboxError) as caught:
        image_sandbox.decode_answer(raw, max_pixels=100)
    message = str(caught.value)
    assert message.startswith("Bad bold link (http://x) code b")
    assert len(message) <= 400 and not any(ch in message for ch in "*[]`<>\n")


def test_a_fault_in_the_sandbox_plumbing_is_still_words(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(image_sandbox, "decode", broken)
    with pytest.raises(image_upload.ImageDecodeError, match="^The image could not be decoded"):
        image_upload.decode_image(h.encode(h.photo(8), "PNG"), sandbox=True)


@needs_sandbox
def test_a_decoder_dying_without_an_answer_is_reported(monkeypatch):
    """A child that exits without answering gives a message, and the next upload works again."""
    monkeypatch.setattr(image_sandbox, "CHILD_MODULE", "cnnviz.core.image_sandbox_child_that_does_not_exist")
    image_sandbox._stop_spare()
    with pytest.raises(image_sandbox.SandboxError, match="without an answer"):
        image_sandbox.decode(h.encode(h.photo(8), "PNG"), max_pixels=100)
    monkeypatch.undo()
    image_sandbox._stop_spare()
    assert image_upload.decode_image(h.encode(h.photo(8), "PNG")).array.shape == (8, 8, 3)
