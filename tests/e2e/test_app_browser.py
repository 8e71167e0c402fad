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
from tests.e2e.pixel_grid import grid, stroke, type_value, values

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


def _heatmap_texts(page, key: str) -> list[str]:
    """The numbers printed in the cells of the Plotly heatmap with widget key ``key``, row by row."""
    return page.locator(f".st-key-{key} .heatmap-label").evaluate_all("els => els.map(e => e.textContent)")


def _wait_for_heatmap(page, key: str, index: int, text: str) -> None:
    """Plotly may still be swapping the old drawing for the new one: wait for cell ``index`` to read ``text``."""
    page.wait_for_function(
        "([key, i, text]) => { const t = document.querySelectorAll(`.st-key-${key} .heatmap-label`);"
        " return t.length > i && t[i].textContent === text; }", arg=[key, index, text], timeout=15000)


def test_the_matrix_grid_is_a_labelled_grid(page, app_url):
    """The grayscale matrix is an ARIA grid: its name, and each cell's row, column and value."""
    open_page(page, app_url, "pixels")
    gray = grid(page, "gray_editor")
    assert gray.get_attribute("aria-label") == "Grayscale matrix, 10 by 10, values 0 to 255"
    assert gray.locator("#pg-1-1").get_attribute("aria-label") == "Row 1, column 1: 255"
    assert gray.locator("#pg-1-1").inner_text() == "255"  # the number is drawn in the cell
    assert gray.locator("[role='gridcell']").count() == 100
    assert grid(page, "rgb_editor_0").get_attribute("aria-label") == "Red channel, 0 to 255"


def test_typing_a_value_with_the_keyboard_changes_the_image(page, app_url):
    """Keyboard only: move to row 0, column 0, type 200, Enter. The image beside the grid shows 200
    there, and the round trip further down saves the edited matrix, not the old one."""
    open_page(page, app_url, "pixels")
    before = _heatmap_texts(page, "gray_image")
    assert before[:3] == ["0", "0", "0"] and "200" not in before
    saved = page.locator(".st-key-round_trip_gray img").get_attribute("src")
    type_value(page, "gray_editor", 0, 0, "200")
    _wait_for_heatmap(page, "gray_image", 0, "200")
    after = _heatmap_texts(page, "gray_image")
    assert after[0] == "200" and after[1:] == before[1:]
    assert values(page, "gray_editor")[0][0] == "200"
    # The round trip follows once the new image is painted (a second run).
    page.wait_for_function("old => { const i = document.querySelector('.st-key-round_trip_gray img');"
                           " return i && i.getAttribute('src') !== old; }", arg=saved, timeout=20000)
    assert "identical to the matrix: yes" in page.locator(".st-key-round_trip_gray").inner_text()
    assert "gray=" in page.url  # the link carries the edited matrix
    # Escape cancels a value being typed.
    grid(page, "gray_editor").focus()
    page.keyboard.press("Control+Home")
    page.keyboard.type("17")
    page.keyboard.press("Escape")
    wait_idle(page)
    assert values(page, "gray_editor")[0][0] == "200" and _heatmap_texts(page, "gray_image")[0] == "200"
    assert_no_exception(page)


def test_a_paint_stroke_changes_the_image_and_undo_takes_it_back(page, app_url):
    """Drag across row 0 with the white brush: the cells and the image turn 255; Ctrl+Z restores them."""
    open_page(page, app_url, "pixels")
    before = _heatmap_texts(page, "gray_image")
    url = page.url
    stroke(page, "gray_editor", [(0.5, 0.5), (0.5, 2.5), (0.5, 4.5)])  # the brush starts at 255
    _wait_for_heatmap(page, "gray_image", 4, "255")
    after = _heatmap_texts(page, "gray_image")
    assert after[:5] == ["255"] * 5 and after[5:] == before[5:]
    assert values(page, "gray_editor")[0][:5] == ["255"] * 5
    assert page.url != url and "gray=" in page.url
    page.keyboard.press("Control+z")
    wait_idle(page)
    _wait_for_heatmap(page, "gray_image", 4, "0")
    assert _heatmap_texts(page, "gray_image") == before
    assert values(page, "gray_editor")[0][:5] == ["0"] * 5
    # A stroke with another brush: the 128 swatch, then paint a column.
    page.locator(".st-key-gray_editor .pg-swatch", has_text="128").click()
    stroke(page, "gray_editor", [(0.5, 9.5), (3.5, 9.5)])
    _wait_for_heatmap(page, "gray_image", 39, "128")
    assert [row[9] for row in values(page, "gray_editor")[:4]] == ["128"] * 4
    assert_no_exception(page)


def test_a_larger_grid_gets_brush_sizes(page, app_url):
    """Grown to 20x20 (black cells added), the grid offers brush sizes; a 3-cell brush paints a band 3 cells high."""
    open_page(page, app_url, "pixels")
    assert page.locator(".st-key-gray_editor select").count() == 0  # 10x10: one cell at a time
    for key in ("gray_rows", "gray_cols"):
        page.locator(f".st-key-{key} input").fill("20")
        page.keyboard.press("Enter")
        wait_idle(page)
    assert grid(page, "gray_editor").locator("[role='gridcell']").count() == 400
    size = page.locator(".st-key-gray_editor select")
    size.select_option("3")
    stroke(page, "gray_editor", [(15.5, 2.5), (15.5, 12.5)])
    painted = values(page, "gray_editor")
    assert [painted[r][7] for r in (13, 14, 15, 16, 17)] == ["0", "255", "255", "255", "0"]
    assert_no_exception(page)


def test_quick_strokes_in_a_row_are_all_kept(page, app_url):
    """Three strokes without waiting for the server: every one reaches the matrix (none replaces another)."""
    open_page(page, app_url, "pixels")
    for row in (0, 3, 9):
        stroke(page, "gray_editor", [(row + 0.5, 0.5), (row + 0.5, 9.5)], wait=False)
    wait_idle(page)
    _wait_for_heatmap(page, "gray_image", 99, "255")
    texts = _heatmap_texts(page, "gray_image")
    for row in (0, 3, 9):
        assert texts[10 * row:10 * row + 10] == ["255"] * 10, f"row {row}"
        assert values(page, "gray_editor")[row] == ["255"] * 10
    assert_no_exception(page)


def test_garbage_in_a_cell_is_refused_with_a_message(page, app_url):
    """Typing text into a cell keeps its last value and says why, in words; 999 is clipped."""
    open_page(page, app_url, "pixels")
    before = _heatmap_texts(page, "gray_image")
    type_value(page, "gray_editor", 1, 1, "lots")
    warning = page.get_by_test_id("stAlertContentWarning").first
    assert re.search(r"Row 1, column 1: 'lots' is not a number", warning.inner_text())
    assert _heatmap_texts(page, "gray_image") == before
    assert values(page, "gray_editor")[1][1] == "255"
    type_value(page, "gray_editor", 0, 1, "999")
    assert "clipped to 255" in page.get_by_test_id("stAlertContentWarning").first.inner_text()
    _wait_for_heatmap(page, "gray_image", 1, "255")
    assert values(page, "gray_editor")[0][1] == "255"
    assert_no_exception(page)


def test_an_rgb_channel_grid_edits_its_channel(page, app_url):
    """Type 0 into the red channel's top-right cell: yellow (255, 255, 0) becomes green (0, 255, 0)."""
    open_page(page, app_url, "pixels")
    type_value(page, "rgb_editor_0", 0, 2, "0")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stCode]')]"
                           ".some(e => e.innerText.includes('[  0, 255,   0]'))", timeout=15000)
    assert values(page, "rgb_editor_0")[0][2] == "0" and values(page, "rgb_editor_1")[0][2] == "255"
    assert_no_exception(page)
