"""Browser tests of the Train page: a tiny training draws the curves and a comparison row; Stop."""

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser
TF_TIMEOUT = 240  # TensorFlow's first import on a busy 2-core machine, then the training


def set_slider_to_minimum(page, key: str) -> None:
    """Move the slider (or select slider) with ``key`` to its first value with the keyboard."""
    thumb = page.locator(f".st-key-{key} input[type='range']").first
    thumb.focus()
    thumb.press("Home")
    wait_idle(page, timeout=TF_TIMEOUT)


def comparison_rows(page) -> int:
    """Rows of the comparison table (the grid is a canvas; its accessible table counts them)."""
    grid = page.locator(".st-key-train_comparison [aria-rowcount]").first
    return int(grid.get_attribute("aria-rowcount")) - 1  # minus the header row


@pytest.fixture
def train_page(page, app_url, data_dir):
    open_page(page, app_url, "train", timeout=TF_TIMEOUT)
    assert page.locator("h1").first.inner_text() == "Train a network"
    return page


def test_tiny_training_shows_curves_and_a_comparison_row(train_page):
    page = train_page
    assert comparison_rows(page) == 3  # the course page's dense network and CNN, the shipped CNN
    set_slider_to_minimum(page, "train_size")  # 500 images
    set_slider_to_minimum(page, "train_epochs")  # 1 epoch
    assert page.locator(".st-key-train_size [data-testid='stSliderThumbValue']").inner_text() == "500"
    page.get_by_role("button", name="Start training").click()
    wait_idle(page, timeout=TF_TIMEOUT)
    assert_no_exception(page)
    assert page.get_by_test_id("stPlotlyChart").count() >= 1  # the loss and accuracy curves
    assert page.get_by_role("button", name="Download the trained model (.keras)").count() == 1
    assert comparison_rows(page) == 4


def test_stop_keeps_the_model_and_frees_the_server(train_page):
    page = train_page
    page.locator(".st-key-train_size input[type='range']").first.focus()
    page.locator(".st-key-train_size input[type='range']").first.press("End")  # all 54,000 images
    wait_idle(page, timeout=TF_TIMEOUT)
    page.get_by_role("button", name="Start training").click()
    page.get_by_test_id("stProgress").wait_for(timeout=TF_TIMEOUT * 1000)
    page.locator(".st-key-train_stop button").first.click()
    wait_idle(page, timeout=TF_TIMEOUT)
    assert_no_exception(page)
    assert page.get_by_text("Stopped after 0 complete epoch(s)").count() == 1
    assert page.get_by_role("button", name="Download the trained model (.keras)").count() == 1
    assert comparison_rows(page) == 4  # the stopped run is listed, marked "(stopped)"
