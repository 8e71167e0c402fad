"""Browser test of the Pooling page: changing the pool size changes the pooled panel and its label."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_idle


def pooled_label(page) -> str:
    return page.locator(".stMarkdown", has_text="Downsampled (pooled)").first.inner_text()


def pooled_image_src(page) -> str:
    """The source of the third panel's image (the pooled one)."""
    return page.get_by_test_id("stImage").nth(2).locator("img").get_attribute("src")


@pytest.mark.browser
def test_changing_pool_size_updates_the_pooled_panel(page, app_url, data_dir):
    """4x4 (the course) gives 128x128; two steps down (2x2) gives 256x256 and a new image."""
    open_page(page, app_url, "pooling")
    assert "128x128" in pooled_label(page)
    assert "512x512" in page.locator(".stMarkdown", has_text="With the convolution applied").first.inner_text()
    before = pooled_image_src(page)

    slider = page.locator(".st-key-pool_size input[type='range']")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_idle(page)
    assert_no_exception(page)
    label = pooled_label(page)
    assert "256x256" in label and "75.0 % fewer" in label
    assert pooled_image_src(page) != before
    assert "Of the window's 4 values" in page.get_by_test_id("stMarkdown").filter(has_text="Of the window").first.inner_text()
