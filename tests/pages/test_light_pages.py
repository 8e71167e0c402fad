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
