"""The light pages (Home, Pixels, Convolution, Pooling) never import TensorFlow, even indirectly."""

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import sys
from tests.conftest import open_in_apptest
for page in ("pages/home.py", "pages/pixels.py", "pages/convolution.py", "pages/pooling.py"):
    app = open_in_apptest(page, timeout=60)
    assert not app.exception, (page, app.exception)
    assert app.title, page
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""


def test_light_pages_run_without_tensorflow():
    """Running every light page in a fresh process leaves tensorflow and keras unimported."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


FASHION_SCRIPT = """
import sys
from streamlit.testing.v1 import AppTest
from tests.conftest import APP_PATH
app = AppTest.from_file(APP_PATH, default_timeout=60)
app.query_params.update({"img": "fashion", "class": "2", "index": "7"})
app.run()
app.switch_page("pages/convolution.py")
app.run()
assert not app.exception, app.exception
assert app.selectbox(key="conv_image").value.startswith("A Fashion-MNIST test image"), app.selectbox(key="conv_image").value
assert not app.warning, [w.value for w in app.warning]
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""


def test_convolution_lab_test_images_come_without_tensorflow(data_dir):
    """The Convolution lab on a Fashion-MNIST test image (read from CNNVIZ_DATA_DIR) leaves tensorflow and keras
    unimported."""
    done = subprocess.run([sys.executable, "-c", FASHION_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_home_lists_every_page_with_its_whole_summary():
    """Home names every page of the course with its summary as text that wraps (a page link's label
    does not: long summaries were cut off at the right edge)."""
    from cnnviz.ui.frame import PAGES
    from tests.conftest import open_in_apptest

    app = open_in_apptest("pages/home.py", timeout=60)
    assert not app.exception
    shown = [m.value for m in app.markdown]
    for step in PAGES:
        assert step.summary in shown, step.title
