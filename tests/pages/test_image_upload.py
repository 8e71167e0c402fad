"""AppTest: a hostile upload on the Pixels page shows its reason; the last good picture stays; one decode per file.

(A page test: it lives here only because tests/pages/ belongs to another change; move it there freely.)
"""

import pytest

from cnnviz.core import image_upload, images
from cnnviz.ui import image_inputs
from tests.conftest import button, open_in_apptest
from tests.core import hostile_images as h

PAGE = "pages/pixels.py"


@pytest.fixture
def at():
    app = open_in_apptest(PAGE)
    assert not app.exception, app.exception
    app.selectbox(key="pixels_picture").set_value(image_inputs.UPLOAD).run()
    return app


@pytest.fixture
def decodes(monkeypatch):
    """How many times the server decoded an upload."""
    calls = []
    original = image_upload.decode_image

    def counting(data, **options):
        calls.append(len(data))
        return original(data, **options)

    monkeypatch.setattr(image_upload, "decode_image", counting)
    return calls


def _size(app) -> str:
    return {m.label: m.value for m in app.metric}["Height × width"]


def _upload(app, name: str, data: bytes):
    app.get("file_uploader")[0].upload(name, data, "image/png").run()
    assert not app.exception, app.exception


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("bomb.jpg", h.scan_bomb(100_000), "too many scans"),
        ("exif.jpg", h.jpeg_with_exif(h.GARBAGE_EXIF), "EXIF metadata"),
        ("huge.png", h.png_declaring(100_000, 100_000), "100000x100000 pixels"),
        ("polyglot.png", h.encode(h.photo(8), "PNG") + h.zip_file(), "other data after the end"),
    ],
)
def test_hostile_upload_shows_its_reason_and_keeps_the_last_picture(at, decodes, name, data, reason):
    _upload(at, "grid.png", images.png_bytes(images.enlarge(images.RGB_GRID, 5)))
    assert not at.error and _size(at) == "15 × 15"
    _upload(at, name, data)
    assert any(reason in e.value and name in e.value for e in at.error), [e.value for e in at.error]
    assert any("last image that worked" in c.value for c in at.caption)
    assert _size(at) == "15 × 15"  # the grid is still the picture in use
    button(at, "Invert").click().run()  # a fragment rerun, then a full rerun of the page,
    at.run()  # while the bad file sits in the uploader
    assert any(reason in e.value for e in at.error) and _size(at) == "15 × 15"
    assert len(decodes) == 2  # the grid once, the hostile file once: never again on a rerun


def test_each_good_upload_is_decoded_once(at, decodes):
    _upload(at, "photo.jpg", h.encode(h.photo(20), "JPEG"))
    for _ in range(3):  # full reruns of the page while the file sits in the uploader
        button(at, "Invert").click().run()
        at.run()
    assert not at.exception and _size(at) == "20 × 20"
    assert len(decodes) == 1
    _upload(at, "other.png", h.encode(h.photo(12), "PNG"))
    assert _size(at) == "12 × 12" and len(decodes) == 2
