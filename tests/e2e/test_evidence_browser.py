"""Browser test of the Class evidence page: every view drawn without an exception, and a click on
the classes x filters grid opening that class and filter in the Activations page's grid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_page, wait_idle

LONG = 90_000  # ms: generous, for a loaded machine; every wait ends as soon as its condition holds
VIEWS = {"Occlusion": "ev_occlusion", "Saliency": "ev_saliency", "Grad-CAM": "ev_gradcam",
         "Which filter answers to which class": "ev_grid"}


@pytest.mark.browser
def test_every_view_then_a_click_on_the_grid(page, app_url, data_dir):
    open_page(page, app_url, "evidence", timeout=180)
    for tab, key in VIEWS.items():
        page.get_by_role("tab", name=tab).click()
        wait_idle(page, timeout=120)
        assert_no_exception(page)
        page.locator(f".st-key-{key} .main-svg").first.wait_for(timeout=LONG)
        if key != "ev_grid":  # one row per image, labelled with the image and the class explained
            expect(page.locator(f".st-key-{key} .ytick text").first).to_have_text(
                re.compile("#0 Ankle boot"), timeout=LONG)

    # class 8 (Bag), filter 20: the 8 * 64 + 20th marker of the grid's first trace
    marker = page.locator(".st-key-ev_grid g.trace.scatter").first.locator("path.point").nth(8 * 64 + 20)
    marker.scroll_into_view_if_needed()
    box = marker.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"/activations"), timeout=LONG)  # st.switch_page: no page load
    wait_idle(page, timeout=120)
    assert_no_exception(page)
    expect(page.locator(".st-key-act_filter input")).to_have_value("20", timeout=LONG)
    expect(page.locator(".st-key-act_grid .ytick text").first).to_have_text(re.compile("Bag$"), timeout=LONG)
