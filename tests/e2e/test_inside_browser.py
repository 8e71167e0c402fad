"""Browser test of the Inside the network page: clicks on the layers' pictures reach Python and
open the explanation of that value (a conv_2 cell's channel contributions, a probability's softmax),
each with "Matches Keras"; a click between two maps gets a sentence."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from cnnviz.core import network_pictures as pictures
from tests.e2e.conftest import assert_no_exception, open_page, wait_idle

LONG = 90_000  # ms: generous, for a loaded machine; every wait ends as soon as its condition holds
CONV_2, POOL_2, OUTPUT = "in_click_3", "in_click_4", "in_click_7"
"""The click components of conv_2, pool_2 and the output layer (key: in_click_<layer + 1>)."""


def click_picture(page, key: str, fx: float, fy: float) -> None:
    """Click the layer picture ``key`` at a fraction (fx, fy) of its width and height."""
    picture = page.frame_locator(f".st-key-{key} iframe").locator("img")
    picture.wait_for(timeout=LONG)
    box = picture.bounding_box()
    picture.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    wait_idle(page, timeout=120)
    assert_no_exception(page)


def heading(page):
    return page.get_by_test_id("stHeading").filter(has_text=re.compile(r"^(conv|pool|flatten|dense|output|input)"))


@pytest.mark.browser
def test_click_a_conv_2_cell_then_a_probability(page, app_url, data_dir):
    open_page(page, app_url, "inside", timeout=180)
    expect(heading(page).first).to_have_text(re.compile(r"conv_1, filter \d+"), timeout=LONG)
    expect(page.get_by_text("Matches Keras").first).to_be_visible(timeout=LONG)

    # conv_2's 8x8 grid of 11x11 maps: the middle of the first map (filter 0)
    click_picture(page, CONV_2, 0.06, 0.06)
    expect(heading(page).first).to_have_text(re.compile(r"conv_2, filter 0, row \d+, column \d+"), timeout=LONG)
    expect(page.get_by_text(re.compile("the other 60 channels together"))).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Matches Keras").first).to_be_visible(timeout=LONG)

    # the probability bars: the last row is Ankle boot
    click_picture(page, OUTPUT, 0.5, 0.95)
    expect(heading(page).first).to_have_text("output: the probability of Ankle boot (class 9)", timeout=LONG)
    expect(page.get_by_text(re.compile(r"Softmax.*turns the logits into probabilities"))).to_be_visible(timeout=LONG)
    expect(page.get_by_text(re.compile(r"Sum.*of the exponentials"))).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Matches Keras").first).to_be_visible(timeout=LONG)
    assert re.search(r"layer=output", page.url) and re.search(r"at=9", page.url)


@pytest.mark.browser
def test_a_click_between_maps_and_the_zoomed_map(page, app_url, data_dir):
    open_page(page, app_url, "inside?layer=pool_2&at=0,2,2", timeout=180)
    expect(heading(page).first).to_have_text("pool_2, channel 0, row 2, column 2", timeout=LONG)
    # pool_2's 64 maps of 5x5, drawn as the page draws them: the gap after the first map
    _, mosaic = pictures.map_mosaic(np.ones((5, 5, 64)))
    gap_x = mosaic.top_left(1)[1] - pictures.GAP / 2
    assert mosaic.cell_at(gap_x, 3) is None
    picture = page.frame_locator(f".st-key-{POOL_2} iframe").locator("img")
    picture.wait_for(timeout=LONG)
    box = picture.bounding_box()
    picture.click(position={"x": box["width"] * gap_x / mosaic.size[1], "y": box["height"] * 3 / mosaic.size[0]})
    wait_idle(page, timeout=120)
    expect(page.get_by_text("That click fell between two maps")).to_be_visible(timeout=LONG)
    expect(heading(page).first).to_have_text("pool_2, channel 0, row 2, column 2", timeout=LONG)
    # the enlarged 5x5 map beside the explanation: its top-left cell
    click_picture(page, "in_zoom", 0.1, 0.1)
    expect(heading(page).first).to_have_text("pool_2, channel 0, row 0, column 0", timeout=LONG)
    expect(page.get_by_text("Matches Keras").first).to_be_visible(timeout=LONG)


@pytest.mark.browser
def test_open_a_conv_1_filter_with_its_test_image_in_the_lab(page, app_url, data_dir):
    """From a conv_1 cell of test image 7 of Pullover, "Open in the Convolution lab" opens the lab on that test
    image (in its link as class and number), the learned kernel and the same cell, with the network's value."""
    open_page(page, app_url, "inside?class=2&index=7&layer=conv_1&at=5,9,14", timeout=180)
    expect(heading(page).first).to_have_text("conv_1, filter 5, row 9, column 14", timeout=LONG)
    page.get_by_role("button", name="Open in the Convolution lab").click()
    page.wait_for_url(re.compile(r"/convolution\?.*img=fashion"), timeout=LONG)
    wait_idle(page, timeout=120)
    assert_no_exception(page)
    assert "· Pullover, number 7 of its class (28x28)" in page.locator(".st-key-conv_original").inner_text()
    assert "class=2" in page.url and "index=7" in page.url and "map=signed" in page.url
    assert page.locator(".st-key-conv_row input").input_value() == "9"
    assert page.locator(".st-key-conv_col input").input_value() == "14"
    network = page.locator("[data-testid='stMarkdownContainer']", has_text="In the network").last
    expect(network).to_contain_text("conv_1, filter 5", timeout=LONG)
    expect(network).to_contain_text("ReLU")
