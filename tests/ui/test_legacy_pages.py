"""Tests for cnnviz.ui.legacy_pages: the one Streamlit internal the app touches still behaves as fenced.

If one of these fails after a Streamlit upgrade, Streamlit changed its legacy multipage
mode: check whether the deep-link workaround is still needed before mending it.
"""

from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager

from cnnviz.ui import legacy_pages


@pytest.fixture
def fresh_flag():
    """The process-wide flag as a fresh server has it (unset), restored afterwards."""
    saved = PagesManager.uses_pages_directory
    PagesManager.uses_pages_directory = None
    yield
    PagesManager.uses_pages_directory = saved


def test_streamlit_enters_legacy_mode_when_a_pages_folder_is_beside_the_main_script(tmp_path, fresh_flag):
    """The behaviour worked around: a pages/ folder beside app.py switches the legacy mode on."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("")
    PagesManager(str(tmp_path / "app.py"))
    assert PagesManager.uses_pages_directory is True
    assert legacy_pages.in_legacy_mode()


def test_no_pages_folder_no_legacy_mode(tmp_path, fresh_flag):
    (tmp_path / "app.py").write_text("")
    PagesManager(str(tmp_path / "app.py"))
    assert not legacy_pages.in_legacy_mode()


def test_leaving_legacy_mode_switches_the_flag_off_once(tmp_path, fresh_flag):
    """Leaving reports True once (the page then reruns inside app.py), then False."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("")
    PagesManager(str(tmp_path / "app.py"))
    assert legacy_pages.leave_legacy_mode() is True
    assert PagesManager.uses_pages_directory is False
    assert legacy_pages.leave_legacy_mode() is False
    PagesManager(str(tmp_path / "app.py"))  # a new session does not switch it back on
    assert not legacy_pages.in_legacy_mode()
