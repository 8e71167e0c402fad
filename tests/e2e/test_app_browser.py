"""Browser tests of the app frame and the Pixels page, in real Chromium."""

import re

import pytest

from tests.e2e.conftest import (
    assert_no_exception,
    free_port,
    open_page,
    start_app,
    stop_app,
    wait_healthy,
    wait_idle,
)

pytestmark = pytest.mark.browser


def nav_links(page):
    links = page.get_by_test_id("stSidebarNavLink")
    return [links.nth(i) for i in range(links.count())]


def test_every_page_opens_without_an_exception(page, app_url):
    """Open Home, then every page of the menu; none shows a traceback."""
    open_page(page, app_url)
    titles = [link.inner_text().strip().split("\n")[-1] for link in nav_links(page)]
    assert titles[0] == "Home" and "1 · Pixels are numbers" in titles
    for i in range(len(titles)):
        nav_links(page)[i].click()
        wait_idle(page, timeout=180)
        assert_no_exception(page)
        assert page.locator("h1").count() >= 1, f"page {titles[i]!r} has no title"


def test_first_visit_by_page_url_runs_inside_the_app(page, tmp_path):
    """A server's very first visit through a page link still gets app.py's menu and layout."""
    port = free_port()
    proc = start_app(port, tmp_path / "server.log")
    try:
        wait_healthy(port, proc)
        open_page(page, f"http://127.0.0.1:{port}", "pixels")
        titles = [link.inner_text().strip().split("\n")[-1] for link in nav_links(page)]
        assert "1 · Pixels are numbers" in titles and "app" not in titles
    finally:
        stop_app(proc)


def _edit_cell(page, editor_prefix: str, row: int, col: int, text: str) -> None:
    """Type ``text`` into a cell of the data editor whose key starts with ``editor_prefix``.

    The grid is drawn on a canvas: click its first cell, move with the arrow keys,
    press Enter to open the cell editor, type, press Enter.
    """
    editor = page.locator(f"[class*='st-key-{editor_prefix}__v']").first
    cell_input = page.get_by_test_id("portal").locator(".gdg-input")
    for attempt in range(3):
        grid = editor.get_by_test_id("stDataFrame").bounding_box()
        page.mouse.click(grid["x"] + 70, grid["y"] + 35 + 17)  # header row is 35 px; index column < 60 px
        for _ in range(col):
            page.keyboard.press("ArrowRight")
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        try:
            cell_input.wait_for(state="visible", timeout=5000)
            break
        except Exception:  # the grid was not ready for input yet: try again
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
    cell_input.fill(text)
    cell_input.press("Enter")
    wait_idle(page)


def _heatmap_texts(page, key: str) -> list[str]:
    """The numbers printed in the cells of the Plotly heatmap with widget key ``key``, row by row."""
    return page.locator(f".st-key-{key} .heatmap-label").evaluate_all("els => els.map(e => e.textContent)")


def test_editing_a_cell_changes_the_image(page, app_url):
    """Type 200 into row 0, column 0: the image beside the grid shows 200 there, and the
    round trip further down saves the edited matrix, not the old one."""
    open_page(page, app_url, "pixels")
    before = _heatmap_texts(page, "gray_image")
    assert before[:3] == ["0", "0", "0"] and "200" not in before
    saved = page.locator(".st-key-round_trip_gray img").get_attribute("src")
    _edit_cell(page, "gray_editor", 0, 0, "200")
    page.wait_for_function(  # Plotly may still be swapping the old drawing for the new one
        "([key, n]) => { const t = document.querySelectorAll(`.st-key-${key} .heatmap-label`);"
        " return t.length === n && t[0].textContent === '200'; }", arg=["gray_image", len(before)], timeout=15000)
    after = _heatmap_texts(page, "gray_image")
    assert after[0] == "200" and after[1:] == before[1:]
    assert page.locator(".st-key-round_trip_gray img").get_attribute("src") != saved
    assert "identical to the matrix: yes" in page.locator(".st-key-round_trip_gray").inner_text()
    assert_no_exception(page)


def test_garbage_in_a_cell_is_refused_with_a_message(page, app_url):
    """Typing text into a cell keeps its last value and says why, in words."""
    open_page(page, app_url, "pixels")
    before = _heatmap_texts(page, "gray_image")
    _edit_cell(page, "gray_editor", 1, 1, "lots")
    warning = page.get_by_test_id("stAlertContentWarning").first
    assert re.search(r"Row 1, column 1: 'lots' is not a number", warning.inner_text())
    assert _heatmap_texts(page, "gray_image") == before
    _edit_cell(page, "gray_editor", 0, 1, "999")
    assert "clipped to 255" in page.get_by_test_id("stAlertContentWarning").first.inner_text()
    assert _heatmap_texts(page, "gray_image")[1] == "255"
    assert_no_exception(page)
