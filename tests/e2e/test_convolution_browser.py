"""Browser tests for the Convolution page: a kernel edit changes the result; a shared link reproduces the view."""

import pytest

from tests.e2e.conftest import assert_no_exception, choose, open_page, wait_idle
from tests.e2e.pixel_grid import stroke, type_value, values

pytestmark = pytest.mark.browser
RESULT_IMG = ".st-key-conv_result img"


def result_src(page) -> str:
    return page.locator(RESULT_IMG).first.get_attribute("src")


def new_result(page, old: str) -> str:
    """Wait until the result picture is another one than ``old`` (a loaded machine may start the run late)."""
    page.wait_for_function("([sel, old]) => { const i = document.querySelector(sel); return i && i.src !== old; }",
                           arg=[RESULT_IMG, old], timeout=20000)
    return result_src(page)


def explanation(page) -> str:
    """The explorer's sentence with the products and the sum behind the chosen output pixel."""
    return page.locator("[data-testid='stMarkdownContainer']", has_text="Sum =").last.inner_text()


@pytest.mark.flaky(reruns=2)  # known defect: now and then a grid edit's result never shows (issue 14); reported as a rerun
def test_kernel_edit_changes_the_result(page, app_url, data_dir):
    """Typing a new kernel (Ctrl+Enter), typing into a grid cell and a paint stroke all change the
    result image; undo takes the stroke back; garbage in a cell is refused in words."""
    open_page(page, app_url, "convolution")
    before, explained = result_src(page), explanation(page)
    box = page.locator(".st-key-conv_kernel_text textarea")
    box.fill("-1 0 1\n-2 0 2\n-1 0 1")
    box.press("Control+Enter")
    wait_idle(page)
    assert_no_exception(page)
    after_text = new_result(page, before)
    # The explorer follows once the browser has painted the new result (a second, short run).
    page.wait_for_function(
        "old => [...document.querySelectorAll(\"[data-testid='stMarkdownContainer']\")]"
        ".some(e => e.innerText.includes('Sum =') && e.innerText !== old)", arg=explained, timeout=20000)
    assert explanation(page) != explained and "× -1 =" in explanation(page)
    # A grid cell, keyboard only: row 1, column 1 of the kernel grid, type 5, Enter.
    type_value(page, "conv_kernel_grid_cells", 0, 0, "5")
    assert_no_exception(page)
    new_result(page, after_text)
    assert values(page, "conv_kernel_grid_cells")[0] == ["5", "0", "1"]
    # A stroke with the -1 brush across the bottom row; then Ctrl+Z takes it back.
    stroked_from = result_src(page)
    page.locator(".st-key-conv_kernel_grid_cells .pg-swatch", has_text="-1").click()
    stroke(page, "conv_kernel_grid_cells", [(2.5, 0.5), (2.5, 2.5)])
    assert values(page, "conv_kernel_grid_cells")[2] == ["-1", "-1", "-1"]
    page.wait_for_function("() => document.querySelector('.st-key-conv_kernel_text textarea').value.endsWith('-1 -1 -1')",
                           timeout=20000)
    new_result(page, stroked_from)
    page.keyboard.press("Control+z")
    wait_idle(page)
    assert values(page, "conv_kernel_grid_cells")[2] == ["-1", "0", "1"]
    # Garbage in a kernel cell: refused in words, the kernel stays.
    type_value(page, "conv_kernel_grid_cells", 1, 1, "abc")
    assert "Row 2, column 2: 'abc' is not a number" in page.get_by_test_id("stAlertContentWarning").first.inner_text()
    assert values(page, "conv_kernel_grid_cells")[1][1] == "0"
    # The kernel text box follows the grid (the same run as the result).
    assert page.locator(".st-key-conv_kernel_text textarea").input_value().startswith("5 0 1")
    assert "kernel=5" in page.url  # the link follows the grid


def test_shared_link_opens_the_same_view(page, app_url, data_dir):
    """A URL with kernel, image and options opens with them; a bad parameter is named."""
    open_page(page, app_url, "convolution?kernel=laplacian_8&img=Coins&stride=2&pad=bogus")
    assert "Input: Coins" in page.locator(".st-key-conv_original").inner_text()
    assert page.locator(".st-key-conv_kernel_text textarea").input_value() == "1 1 1\n1 -8 1\n1 1 1"
    assert "pad=" in page.get_by_test_id("stAlert").all_inner_texts().__str__()
    assert "Result (152x192)" in page.locator(".st-key-conv_result").inner_text()



def test_a_fashion_mnist_test_image_by_class_and_number(page, app_url, data_dir):
    """Choose a test image by class and number: the image, the 28x28 result, the note on 0..255 against 0..1
    and the link follow; a link with ``?img=fashion&class=..&index=..`` opens the same image."""
    open_page(page, app_url, "convolution")
    choose(page, "conv_image", "A Fashion-MNIST test image (28x28)")
    choose(page, "conv_image_class", "Sandal")
    number = page.locator(".st-key-conv_image_index input")
    number.fill("3")
    number.press("Enter")
    wait_idle(page)
    assert_no_exception(page)
    original = page.locator(".st-key-conv_original").inner_text()
    assert "Fashion-MNIST test image #" in original and "· Sandal, number 3 of its class (28x28)" in original
    assert "Result (28x28)" in page.locator(".st-key-conv_result").inner_text()
    assert page.get_by_text("the lab's input is the network's input × 255").count() == 1
    page.wait_for_function("() => location.search.includes('img=fashion') && location.search.includes('class=5')"
                           " && location.search.includes('index=3')", timeout=20000)
    explained = explanation(page)
    assert "Sum =" in explained
    # The same view from a link, in a fresh session; a learned-looking kernel typed in the link.
    page.goto(f"{app_url}/convolution?img=fashion&class=2&index=7&kernel=sobel_x&row=9&col=14")
    wait_idle(page)
    assert_no_exception(page)
    assert "· Pullover, number 7 of its class (28x28)" in page.locator(".st-key-conv_original").inner_text()
    assert page.locator(".st-key-conv_row input").input_value() == "9"
    assert page.get_by_test_id("stAlert").filter(has_text="was ignored").count() == 0
    page.goto(f"{app_url}/convolution?img=fashion&class=2&index=4000")
    wait_idle(page)
    assert_no_exception(page)
    assert "index=4000 was ignored" in " ".join(page.get_by_test_id("stAlert").all_inner_texts())
    assert "· Pullover, number 0 of its class" in page.locator(".st-key-conv_original").inner_text()
