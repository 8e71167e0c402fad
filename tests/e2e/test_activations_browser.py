"""Browser tests of the Activations page: the course's grid, changing the class, a bad upload,
a learned kernel opened in the Convolution lab, and a freehand drawing."""

from __future__ import annotations

import math
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, choose, open_page, wait_idle
from tests.e2e.pixel_grid import stroke, values

GRID = ".st-key-act_grid"
ROW_LABELS = f"{GRID} .ytick text"  # the grid's row labels ("#0 Ankle boot", one per image)
LONG = 60_000  # ms: generous, for a loaded machine; every wait below ends as soon as its condition holds



def set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def row_titles(page) -> list[str]:
    """The grid's row labels ("#0 Ankle boot", one per image), read from the drawn chart."""
    labels = page.locator(ROW_LABELS)
    labels.first.wait_for(timeout=LONG)
    return [t for t in labels.all_text_contents() if t.startswith("#")]


def wait_for_rows_of(page, class_name: str) -> None:
    """Wait until the drawn grid's rows are images of ``class_name`` (the chart redraws after the run)."""
    expect(page.locator(ROW_LABELS).first).to_have_text(re.compile(f"{re.escape(class_name)}$"), timeout=LONG)


@pytest.mark.browser
def test_ankle_boot_filter_1_then_another_class(page, app_url, data_dir):
    """Ankle boot and filter 1 give three rows of maps; another class gives other rows and maps."""
    open_page(page, app_url, "activations")
    choose(page, "act_class", "Ankle boot")
    set_number(page, "act_filter", 1)
    assert_no_exception(page)
    wait_for_rows_of(page, "Ankle boot")
    titles = row_titles(page)
    assert len(titles) == 3 and all(t.endswith("Ankle boot") for t in titles)
    assert page.locator(GRID).get_by_text("26x26, filter 1").count() == 1
    before = page.locator(GRID).screenshot()

    choose(page, "act_class", "Sneaker")
    assert_no_exception(page)
    wait_for_rows_of(page, "Sneaker")
    titles = row_titles(page)
    assert len(titles) == 3 and all(t.endswith("Sneaker") for t in titles)
    assert page.locator(GRID).screenshot() != before


@pytest.mark.browser
def test_bad_upload_gets_a_message(page, app_url, data_dir, tmp_path):
    """A file that is not a Keras model: a message in words, no traceback, the maps stay."""
    open_page(page, app_url, "activations")
    page.get_by_text("Upload a .keras / .h5 file").click()
    wait_idle(page)
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"this is not a model, just text")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(bad))
    wait_idle(page)
    assert_no_exception(page)
    alert = page.get_by_test_id("stAlert").filter(has_text="not a Keras model file")
    assert alert.count() == 1
    assert page.get_by_test_id("stAlert").filter(has_text="Showing the shipped CNN").count() == 1
    assert len(row_titles(page)) == 3


@pytest.mark.browser
def test_learned_kernel_opens_in_the_convolution_lab(page, app_url, data_dir):
    """The kernels tab's button opens the Convolution lab with that kernel and the signed mapping.
    Every step waits for its condition (the tab's content, the new URL, the lab's radio), not a time."""
    open_page(page, app_url, "activations")
    page.get_by_role("tab", name="Learned kernels").click()
    button = page.locator(".st-key-act_open_kernel button")
    expect(button).to_contain_text("Open kernel 1 in the Convolution lab", timeout=LONG)
    wait_idle(page)
    button.click()
    page.wait_for_url(re.compile(r"/convolution/?(\?.*)?$"), timeout=LONG)
    signed = page.get_by_role("radio", name="Signed values (blue < 0 < red)")
    expect(signed).to_be_checked(timeout=LONG)
    wait_idle(page)
    assert_no_exception(page)
    assert urlparse(page.url).path.rstrip("/").endswith("/convolution")
    expect(signed).to_be_checked()
    # The lab's kernel is the shipped CNN's learned kernel 1, as the kernels tab offered it.
    expect(page.locator(".st-key-conv_kernel_text textarea")).to_have_value(learned_kernel_text(1))


def learned_kernel_text(k: int) -> str:
    """Kernel ``k`` of the shipped CNN's first convolution, written as the lab's text box writes it."""
    from cnnviz.ml.activations import ActivationModel
    from cnnviz.core.kernels import format_kernel
    from cnnviz.ml.models import load_shipped

    kernels, _ = ActivationModel(load_shipped("cnn")).first_conv_kernels()
    return format_kernel(kernels[k])


def said(page) -> str:
    """The drawing tab's sentence "The model says <class> (<p>%)"."""
    return page.get_by_text("The model says").first.inner_text()


@pytest.mark.browser
def test_a_freehand_curve_on_the_drawing_changes_the_prediction(page, app_url, data_dir):
    """Clear the 28x28 drawing, drag an oval: the cells under the stroke turn white (a curve, not a
    straight line), the prediction and the maps change; Ctrl+Z takes the stroke back."""
    open_page(page, app_url, "activations")
    page.get_by_role("tab", name="Draw your own").click()
    wait_idle(page, timeout=120)
    page.locator(".st-key-act_draw_clear button").first.click()
    wait_idle(page)
    assert all(v == "0" for row in values(page, "act_draw_editor") for v in row)
    cleared, maps = said(page), page.locator(".st-key-act_draw_grid").screenshot()
    oval = [(14 + 11 * math.sin(a / 40 * 2 * math.pi), 14 + 8 * math.cos(a / 40 * 2 * math.pi)) for a in range(41)]
    stroke(page, "act_draw_editor", oval)
    drawn = values(page, "act_draw_editor")
    assert drawn[3][14] == "255" and drawn[25][14] == "255" and drawn[14][22] == "255" and drawn[14][6] == "255"
    assert drawn[14][14] == "0"  # a curve round the middle, not a line through it
    expect(page.get_by_text("The model says").first).not_to_have_text(cleared, timeout=LONG)
    assert page.locator(".st-key-act_draw_grid").screenshot() != maps
    assert_no_exception(page)
    page.locator(".st-key-act_draw_editor [role='grid']").focus()
    page.keyboard.press("Control+z")
    wait_idle(page)
    assert all(v == "0" for row in values(page, "act_draw_editor") for v in row)
    expect(page.get_by_text("The model says").first).to_have_text(cleared, timeout=LONG)
