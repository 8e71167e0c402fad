"""Browser test of every page's link: change a control, copy the address, open it in a new browser
(a fresh session) and find the same view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, choose, open_page, wait_idle

pytestmark = pytest.mark.browser
LONG = 90_000  # ms: the model pages start TensorFlow on first use


def press(page, key: str, *keys: str) -> None:
    """Move the slider ``key`` with the keyboard."""
    page.locator(f".st-key-{key} input[type='range']").first.focus()
    for k in keys:
        page.keyboard.press(k)
    wait_idle(page)



def slider_value(page, key: str) -> str:
    """What the slider ``key`` shows (its value, as read out to a screen reader)."""
    thumb = page.locator(f".st-key-{key} input[type='range']").first
    return thumb.get_attribute("aria-valuetext") or thumb.input_value()


def selected(page, key: str) -> str:
    """The option the selectbox ``key`` shows."""
    return page.locator(f".st-key-{key} input").first.input_value()


def change_pixels(page):
    choose(page, "pixels_picture", "Coins")
    press(page, "pixels_zoom_size", "ArrowLeft")  # 8 (kept from the colour crop) -> 4


def same_pixels(page):
    assert "Coins" in selected(page, "pixels_picture")
    assert slider_value(page, "pixels_zoom_size") == "4"
    expect(page.get_by_text("The whole picture (303x384)", exact=False)).to_be_visible()


def change_convolution(page):
    page.locator(".st-key-conv_stride").get_by_text("2", exact=True).click()
    wait_idle(page)


def same_convolution(page):
    expect(page.locator(".st-key-conv_result")).to_contain_text("Result (256x256)", timeout=LONG)
    assert page.locator(".st-key-conv_stride input[type='radio']").nth(1).is_checked()


def change_pooling(page):
    press(page, "pool_size", "ArrowLeft", "ArrowLeft")  # 4 -> 2
    page.locator(".st-key-pool_mode").get_by_text("Min", exact=True).click()
    wait_idle(page)


def same_pooling(page):
    assert slider_value(page, "pool_size") == "2"
    assert page.locator(".st-key-pool_mode input[type='radio']").nth(2).is_checked()
    expect(page.locator(".stMarkdown", has_text="Downsampled (pooled)").first).to_contain_text("256x256")


def change_train(page):
    press(page, "train_epochs", "ArrowRight", "ArrowRight")  # 3 -> 5
    page.locator(".st-key-train_arch").get_by_text("Dense network (course)").click()
    wait_idle(page, timeout=LONG / 1000)


def same_train(page):
    assert slider_value(page, "train_epochs") == "5"
    assert page.locator(".st-key-train_arch input[type='radio']").nth(0).is_checked()


def change_activations(page):
    choose(page, "act_class", "Bag")
    page.get_by_role("tab", name="Predictions").click()
    wait_idle(page, timeout=LONG / 1000)


def same_activations(page):
    assert "Bag" in selected(page, "act_class")
    expect(page.get_by_role("tab", name="Predictions")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("The model's top guess is right for", exact=False)).to_be_visible(timeout=LONG)


@pytest.mark.parametrize("path, change, expected, same", [
    ("pixels", change_pixels, r"img=coins.*zoom=4", same_pixels),
    ("convolution", change_convolution, r"stride=2", same_convolution),
    ("pooling", change_pooling, r"pool=min.*pool_size=2", same_pooling),
    ("train", change_train, r"arch=dense.*epochs=5", same_train),
    ("activations", change_activations, r"class=8.*view=predict", same_activations),
])
def test_a_link_made_by_changing_controls_reopens_the_view(browser, page, app_url, data_dir, path, change,
                                                           expected, same):
    open_page(page, app_url, path, timeout=LONG / 1000)
    change(page)
    page.wait_for_url(re.compile(expected), timeout=30_000)
    assert_no_exception(page)
    link = page.url
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # a new browser: nothing shared
    try:
        fresh = context.new_page()
        fresh.set_default_timeout(30_000)
        fresh.goto(link)
        wait_idle(fresh, timeout=LONG / 1000)
        assert_no_exception(fresh)
        assert "settings were ignored" not in " ".join(fresh.get_by_test_id("stAlert").all_inner_texts())
        same(fresh)
        assert fresh.url == link  # the reopened view writes the same address
    finally:
        context.close()
