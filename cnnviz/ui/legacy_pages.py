"""The one place cnnviz touches a Streamlit internal, fenced with a test that fails when it changes.

Streamlit 1.67 enters its legacy multipage mode whenever a ``pages/`` folder sits
beside the main script: ``PagesManager.uses_pages_directory`` is set from the
folder's existence and only ``st.navigation`` clears it. A deep link opened first on
a fresh server then runs the page file alone, without ``app.py``. The project keeps
its ``pages/`` folder (the design card's layout), so this module switches that flag
off. ``tests/ui/test_legacy_pages.py`` checks the flag still exists and still has this
effect, and the first-visit-by-URL browser test checks the result.
"""

from __future__ import annotations

from streamlit.runtime.pages_manager import PagesManager


def in_legacy_mode() -> bool:
    """Whether Streamlit currently runs pages from the ``pages/`` folder on their own."""
    return bool(PagesManager.uses_pages_directory)


def leave_legacy_mode() -> bool:
    """Switch the legacy mode off; True when it was on (the caller then reruns)."""
    if not in_legacy_mode():
        return False
    PagesManager.uses_pages_directory = False
    return True
