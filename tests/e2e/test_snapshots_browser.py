"""Browser test of the Activations page's "watch it learn" slider and its Play animation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_page, wait_idle

SLIDER = ".st-key-act_snapshot_shipped input[type='range']"
KERNELS = ".st-key-act_kernels"
LONG = 60_000


def press(page, key: str) -> None:
    page.locator(SLIDER).first.focus()
    page.keyboard.press(key)
    wait_idle(page, timeout=120)
    assert_no_exception(page)


@pytest.mark.browser
def test_moving_the_slider_changes_the_kernels_and_play_animates(page, app_url, data_dir):
    """The kernels tab at the trained weights, then at the random start: other kernels, another
    title and accuracy; the Play toggle draws one animated figure whose Play button runs in the browser."""
    open_page(page, app_url, "activations?view=kernels", timeout=180)
    kernels = page.locator(KERNELS)
    expect(kernels.get_by_text("kernels conv_1 learned")).to_be_visible(timeout=LONG)
    trained = kernels.screenshot()
    trained_accuracy = page.locator("[data-testid='stMetricValue']").first.inner_text()

    press(page, "Home")
    expect(kernels.get_by_text("at the random start")).to_be_visible(timeout=LONG)
    assert kernels.screenshot() != trained
    assert page.locator("[data-testid='stMetricValue']").first.inner_text() != trained_accuracy

    page.locator(".st-key-act_snapshot_play label").click()
    wait_idle(page, timeout=180)
    assert_no_exception(page)
    animation = page.locator(".st-key-act_snapshot_animation")
    expect(animation.locator(".updatemenu-button").first).to_be_visible(timeout=LONG)
    title = animation.locator(".gtitle")
    expect(title).to_contain_text("random start", timeout=LONG)
    runs_before = page.locator("[data-test-script-state='running']").count()
    animation.locator(".updatemenu-button").first.click()  # ▶ Play: frames in the browser, no rerun
    expect(title).not_to_contain_text("random start", timeout=LONG)
    assert runs_before == 0 and page.locator("[data-test-script-state='running']").count() == 0
