"""Driving the pixel-grid component (cnnviz.ui.pixel_grid) in Chromium: strokes with the mouse,
values typed with the keyboard alone, and reading what the grid shows (its ARIA labels)."""

from __future__ import annotations

from tests.e2e.conftest import wait_idle


def grid(page, key: str):
    """The ``role="grid"`` element of the pixel grid mounted with ``key``."""
    return page.locator(f".st-key-{key} [role='grid']")


def values(page, key: str) -> list[list[str]]:
    """The values the grid shows, row by row (read from each cell's ``data-value``)."""
    return grid(page, key).evaluate(
        "g => [...g.querySelectorAll(\"[role='row']\")].slice(1).map("
        "r => [...r.querySelectorAll(\"[role='gridcell']\")].map(c => c.dataset.value))")


def cell_centre(page, key: str, row: float, col: float) -> tuple[float, float]:
    """Where, on screen, the point ``row``, ``col`` (in cells, 0.5 = a cell's centre) of the grid is."""
    first = grid(page, key).locator("#pg-0-0").bounding_box()
    second = grid(page, key).locator("[role='gridcell']").nth(1).bounding_box()
    step = second["x"] - first["x"]
    return first["x"] + col * step, first["y"] + row * step


def stroke(page, key: str, points: list[tuple[float, float]], *, wait: bool = True) -> None:
    """Press on the first (row, col) point, drag through the others, release."""
    grid(page, key).scroll_into_view_if_needed()
    x, y = cell_centre(page, key, *points[0])
    page.mouse.move(x, y)
    page.mouse.down()
    for point in points[1:]:
        x, y = cell_centre(page, key, *point)
        page.mouse.move(x, y, steps=3)
    page.mouse.up()
    if wait:
        wait_idle(page)


def type_value(page, key: str, row: int, col: int, text: str, *, wait: bool = True) -> None:
    """Keyboard only: focus the grid, Ctrl+Home to the first cell, arrows to (row, col), type, Enter."""
    grid(page, key).focus()
    page.keyboard.press("Control+Home")
    for _ in range(row):
        page.keyboard.press("ArrowDown")
    for _ in range(col):
        page.keyboard.press("ArrowRight")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    if wait:
        wait_idle(page)
