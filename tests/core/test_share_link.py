"""Tests for cnnviz.core.share_link: what a link carries, and every bad parameter named, never raised."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import share_link
from cnnviz.core.convolution import ConvolutionSettings

RNG = np.random.default_rng(2024)


def test_matrix_param_round_trip():
    """A small matrix travels through a link and comes back; bad ones are refused in words."""
    matrix = RNG.integers(0, 256, (4, 5)).astype(np.uint8)
    np.testing.assert_array_equal(share_link.parse_matrix_param(share_link.matrix_param(matrix)), matrix)
    for bad in ("1,2;3", "1,x", "300", ";".join(["1"] * 17)):
        with pytest.raises(ValueError):
            share_link.parse_matrix_param(bad)


def test_settings_query_round_trip():
    """Settings go into a query string and come back; defaults are left out."""
    assert share_link.settings_to_query(ConvolutionSettings()) == {}
    settings = ConvolutionSettings(kernel=np.array([[1, 2], [3, 4.5]]), preset=None, padding="reflect", stride=3,
                                   weight=0.25, normalise=True, flip=True, channels="sum", mapping="signed")
    params = share_link.settings_to_query(settings)
    back, problems = share_link.settings_from_query(params)
    assert back == settings and problems == []
    back, _ = share_link.settings_from_query({"kernel": "sobel_x"})
    assert back.preset == "sobel_x"


def test_bad_query_values_are_reported_not_raised():
    """Each bad parameter is ignored with a sentence naming it; the rest still applies."""
    settings, problems = share_link.settings_from_query(
        {"kernel": "1 2; 3", "pad": "same", "stride": "9", "weight": "abc", "norm": "maybe", "map": "signed"})
    assert settings.mapping == "signed" and settings.preset == "course_horizontal"
    assert len(problems) == 5
    for name in ("kernel=", "pad=", "stride=", "weight=", "norm="):
        assert any(p.startswith(name) for p in problems)


# --------------------------------------------------------------------------
# Every page's parameters
# --------------------------------------------------------------------------

GARBAGE = ["", " ", "x", "-1", "1e400", "nan", "0x10", "1_000", "∞", "'; DROP TABLE", "\x00\n\t", "%00", "[1]",
           "9" * 5000, "x" * 200_000, "1,2;3", "16x16.", "3x3x3.!!!!"]


@pytest.mark.parametrize("page", sorted(share_link.PAGES))
def test_garbage_in_every_parameter_is_named_never_raised(page):
    """Whatever a value holds, reading never raises: the parameter is used or named with a reason."""
    names = [p.name for p in share_link.PAGES[page]]
    if page in share_link.WITH_SETTINGS:
        names += list(share_link.QUERY_KEYS)
    for text in GARBAGE:
        view = share_link.read_query(page, {name: text for name in names})
        for name in names:
            assert name in view.values or (view.settings is not None and name in share_link.QUERY_KEYS) \
                or any(p.startswith(name) for p in view.problems), (page, name, text[:20])
        assert all(len(p) < 400 for p in view.problems), "a message quotes a long value whole"


@pytest.mark.parametrize("page", sorted(share_link.PAGES))
def test_wrong_types_are_read_as_text(page):
    """Values that are not strings (a list of ints, None, a number) never raise either."""
    names = [p.name for p in share_link.PAGES[page]]
    share_link.read_query(page, {name: value for name, value in zip(names, [[1, 2], 3.5, [], None, 7] * 5)})


def test_repeated_keys_use_the_last_value_and_say_so():
    view = share_link.read_query("pooling", {"pool": ["max", "min"], "pool_size": ["9", "2"]})
    assert view.values == {"pool": "min", "pool_size": 2}
    assert sum("given 2 times" in p for p in view.problems) == 2


def test_unknown_keys_are_named_up_to_a_limit():
    view = share_link.read_query("train", {f"u{i}": "1" for i in range(50)})
    assert len(view.problems) == share_link.MAX_NAMED + 1
    assert view.problems[-1].startswith(f"…and {50 - share_link.MAX_NAMED} more")


def test_too_long_values_are_refused_before_reading():
    view = share_link.read_query("pixels", {"gray": "1," * 50_000})
    assert "gray" not in view.values and "characters long" in view.problems[0]


@pytest.mark.parametrize("page, values", [
    ("pixels", {"gray": RNG.integers(0, 256, (16, 16)).astype(np.uint8),
                "rgb": RNG.integers(0, 256, (16, 16, 3)).astype(np.uint8), "img": "moon", "zoom": 32,
                "top": 3, "left": 4}),
    ("convolution", {"img": "matrix", "gray": np.eye(3, dtype=np.uint8) * 255, "row": 1, "col": 2}),
    ("pooling", {"img": "chelsea-the-cat", "pool": "average", "pool_size": 2, "pool_width": 3, "pool_stride": 1,
                 "pool_edge": "same", "row": 5, "col": 6, "stages": 1, "stage_input": "image", "test_image": 9999}),
    ("train", {"arch": "custom", "filters": 128, "kernel_size": 7, "blocks": 3, "units": 200, "epochs": 30,
               "batch": 512, "lr": 0.0003, "images": 54_000, "shift": 10, "axis": "y"}),
    ("activations", {"model": "shipped", "class": "0", "count": 10, "how": "index", "seed": 5,
                     "indices": (0, 9999), "layers": ("conv_2",), "filter": 63, "cmap": "hot", "scale": "layer",
                     "axes": False, "view": "draw", "f_image": 9, "f_layer": ("pool_2",), "learned": 3}),
])
def test_every_page_round_trips(page, values):
    """What a page writes, it reads back exactly, with nothing ignored."""
    query = share_link.write_query(page, values)
    view = share_link.read_query(page, query)
    assert view.problems == []
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(view.values[name], value)
        elif name != "model":  # the default: left out of the link
            assert view.values[name] == value, name


def test_defaults_are_left_out():
    assert share_link.write_query("pixels", {"gray": share_link.images.SMILEY, "img": "astronaut-crop-64x64-course"}) == {}
    assert share_link.write_query("train", {"arch": "cnn", "epochs": 3, "batch": 32, "lr": 0.001}) == {}
    assert share_link.write_query("activations", {"class": "9", "axes": True, "view": "grid"}) == {}


def test_a_misspelt_name_is_a_bug():
    with pytest.raises(KeyError):
        share_link.write_query("pooling", {"pool_sise": 2})


def test_matrices_are_compact_and_checked():
    """A 16x16 colour matrix fits in about a thousand characters; cut or changed ones are refused."""
    rgb = RNG.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    text = share_link.matrix_param(rgb)
    assert len(text) < 1100
    np.testing.assert_array_equal(share_link.parse_matrix_param(text, channels=3), rgb)
    for bad, channels in ((text[:-4], 3), (text, None), ("17x2.AAAA", None), ("2x2.AAAAAA", 3), ("0x0.", None),
                          ("2x2.A", None)):
        with pytest.raises(ValueError):
            share_link.parse_matrix_param(bad, channels=channels)
    assert share_link.can_travel(np.zeros((16, 16))) and not share_link.can_travel(np.zeros((17, 3)))


def test_numbers_are_matched_whatever_their_spelling():
    assert share_link.read_query("train", {"lr": "1e-3"}).values == {"lr": 0.001}
    assert share_link.read_query("train", {"lr": ".01", "batch": "64.0"}).values == {"lr": 0.01, "batch": 64}
    assert share_link.read_query("activations", {"class": "ankle boot"}).values == {"class": "9"}


def test_convolution_link_carries_a_fashion_test_image():
    """``img=fashion`` with the class and the number within the class travel; defaults are left out."""
    query = share_link.write_query("convolution", {"img": "fashion", "class": "2", "index": 7})
    assert query == {"img": "fashion", "class": "2", "index": "7"}
    view = share_link.read_query("convolution", query)
    assert view.values == {"img": "fashion", "class": "2", "index": 7} and not view.problems
    assert share_link.read_query("convolution", {"class": "Pullover"}).values == {"class": "2"}
    assert share_link.write_query("convolution", {"img": "fashion", "class": "9", "index": 0}) == {"img": "fashion"}
    bad = share_link.read_query("convolution", {"img": "fashion", "index": "10000"})
    assert bad.values == {"img": "fashion"} and bad.problems[0].startswith("index='10000' was ignored")
    with pytest.raises(ValueError):
        next(p for p in share_link.PAGES["pooling"] if p.name == "img").read("fashion")
