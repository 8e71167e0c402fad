"""Every page opened from the sidebar menu and from its link on a server of its own, in Chromium,
without the browser's app failing.

A fresh server makes every first visit slow (nothing cached), which is when a browser's report
(a picture painted, a timer) asks for a fragment run while the page's full run still goes on:
the case that once made Streamlit's frontend drop the whole app with "Bad delta path index 8
(should be between [0, 7])" on opening Convolution from Home (see cnnviz.ui.fragments).

That failure needs an unlucky moment, so the tests also read what the server sends (Streamlit's
own messages on the websocket) and check the layout that rules it out on every run: no element
of a full run comes after a fragment's outermost container in the same parent (an anchored
fragment is its container's only child).
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from cnnviz.ui.frame import LINK_PAGES
from tests.e2e.conftest import (
    assert_no_exception,
    assert_no_frontend_error,
    serve,
    wait_idle,
    watch_frontend_errors,
)

pytestmark = pytest.mark.browser

SETTLE_MS = 2500
"""After a page is idle: time for its paint reports and the fragment runs they ask for."""


@pytest.fixture(scope="module")
def fresh_url(tmp_path_factory):
    """A server of this module's own: every page's first visit here is a cold one."""
    yield from serve(tmp_path_factory, "navigation")


class FullRunLayout:
    """Every full script run's element positions, read from the ForwardMsgs the page receives."""

    def __init__(self, page):
        self.runs: list[list[tuple[tuple[int, ...], str]]] = []
        self._current: list[tuple[tuple[int, ...], str]] = []
        page.on("websocket", lambda socket: socket.on("framereceived", self._received))

    def _received(self, payload) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        message.ParseFromString(payload)
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self._current = []
        elif kind == "delta":
            self._current.append((tuple(message.metadata.delta_path), message.delta.fragment_id))
        elif kind == "script_finished" and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            self.runs.append(self._current)
            self._current = []

    def elements_after_fragments(self) -> list[str]:
        """Positions of full-run elements that follow a fragment's outermost container in its parent
        (where a fragment run's cleared queue would leave a gap), as readable strings."""
        found = []
        for run in self.runs:
            paths_of = defaultdict(set)
            for path, fragment in run:
                if fragment:
                    paths_of[fragment].add(path)
            for fragment, paths in paths_of.items():
                for top in (p for p in paths if not any(p[:k] in paths for k in range(1, len(p)))):
                    parent, index = top[:-1], top[-1]
                    later = sorted({p[:len(top)] for p, _ in run
                                    if len(p) > len(parent) and p[:len(parent)] == parent
                                    and p[len(parent)] > index})
                    if later:
                        found.append(f"fragment {fragment[:8]} at {list(top)}, then {list(later[0])}")
        return sorted(set(found))


def menu_titles(page) -> list[str]:
    links = page.get_by_test_id("stSidebarNavLink")
    return [links.nth(i).inner_text().strip().split("\n")[-1] for i in range(links.count())]


def assert_page_shown(page, errors: list[str], title: str) -> None:
    wait_idle(page, timeout=180)
    page.wait_for_timeout(SETTLE_MS)
    wait_idle(page, timeout=60)
    assert_no_frontend_error(errors, f"on {title!r}")
    assert_no_exception(page)
    assert page.get_by_test_id("stMain").locator("h1").count() >= 1, f"{title!r} shows no page"
    assert page.get_by_test_id("stSidebarNavLink").count() > 1, f"{title!r} lost the menu"


def test_every_page_opens_from_the_menu_without_the_app_failing(fresh_url, page):
    """Home first, then every page of the menu in its order, each clicked in the sidebar."""
    errors, layout = watch_frontend_errors(page), FullRunLayout(page)
    page.goto(fresh_url)
    assert_page_shown(page, errors, "Home")
    titles = menu_titles(page)
    assert titles[0] == "Home" and "2 · Convolution" in titles and len(titles) >= 8
    for title in titles[1:]:
        page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first.click()
        assert_page_shown(page, errors, title)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Home").first.click()
    assert_page_shown(page, errors, "Home (back)")
    assert len(layout.runs) >= len(titles) + 1, "the server's messages were not read"
    assert layout.elements_after_fragments() == []


@pytest.mark.parametrize("name", sorted(LINK_PAGES))
def test_every_page_opens_from_its_link_without_the_app_failing(fresh_url, page, name):
    """A page's address typed or clicked elsewhere (a new session), then Home from the menu."""
    errors, layout = watch_frontend_errors(page), FullRunLayout(page)
    page.goto(f"{fresh_url}/{name}")
    assert_page_shown(page, errors, name)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Home").first.click()
    assert_page_shown(page, errors, f"Home after {name}")
    assert layout.runs and layout.elements_after_fragments() == []
