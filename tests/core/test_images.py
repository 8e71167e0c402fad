"""Tests for cnnviz.core.images: the course's matrices, editing, saving and safe upload decoding."""

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.core import image_upload, images


def _png(array, mode=None, **save):
    buffer = io.BytesIO()
    img = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    img.save(buffer, format=save.pop("format", "PNG"), **save)
    return buffer.getvalue()


# -- the course's matrices ------------------------------------------------------------------


def test_smiley_is_the_course_matrix():
    """The smiley is 10x10 uint8 with eyes, a grey nose and a mouth, exactly as in the course."""
    assert images.SMILEY.shape == (10, 10) and images.SMILEY.dtype == np.uint8
    assert images.SMILEY[1:3, 1:3].tolist() == [[255, 255], [255, 255]]
    assert images.SMILEY[4:6, 4:6].tolist() == [[128, 128], [128, 128]]
    assert images.SMILEY[8].tolist() == [0, 0, 0, 255, 255, 255, 255, 0, 0, 0]
    assert sorted(np.unique(images.SMILEY).tolist()) == [0, 128, 255]
    assert int(images.SMILEY.sum()) == 255 * 16 + 128 * 4


def test_rgb_grid_is_the_course_matrix():
    """Red top-left, green centre, blue bottom-right, yellow top-right, black elsewhere."""
    grid = images.RGB_GRID
    assert grid.shape == (3, 3, 3) and grid.dtype == np.uint8
    assert grid[0, 0].tolist() == [255, 0, 0]
    assert grid[1, 1].tolist() == [0, 255, 0]
    assert grid[2, 2].tolist() == [0, 0, 255]
    assert grid[0, 2].tolist() == [255, 255, 0]
    assert int(grid.sum()) == 255 * 5


def test_course_matrices_are_read_only():
    """Nobody can edit the course's matrices by accident."""
    with pytest.raises(ValueError):
        images.SMILEY[0, 0] = 1


def test_astronaut_crop_is_the_course_crop():
    """The default picture is astronaut()[100:164, 200:264], 64x64x3 uint8."""
    from skimage import data

    crop = images.builtin_image(images.DEFAULT_BUILTIN)
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    np.testing.assert_array_equal(crop, data.astronaut()[100:164, 200:264])


@pytest.mark.parametrize("name", list(images.BUILTIN_IMAGES))
def test_builtin_images_load(name):
    """Every built-in picture loads as uint8 grayscale or RGB without a download."""
    image = images.builtin_image(name)
    assert image.dtype == np.uint8 and image.ndim in (2, 3)


def test_unknown_builtin_names_the_choices():
    with pytest.raises(ValueError, match="Camera"):
        images.builtin_image("nope")


# -- conversions ----------------------------------------------------------------------------


def test_to_grayscale_uses_luma_weights():
    """Red, green and blue contribute 0.299, 0.587 and 0.114 (as Pillow's "L")."""
    gray = images.to_grayscale(images.RGB_GRID)
    assert gray.shape == (3, 3)
    assert gray[0, 0] == 76 and gray[1, 1] == 150 and gray[2, 2] == 29 and gray[0, 2] == 226
    expected = np.asarray(Image.fromarray(images.RGB_GRID).convert("L"))
    assert np.abs(gray.astype(int) - expected).max() <= 1


def test_to_grayscale_rejects_other_shapes():
    with pytest.raises(ValueError, match="shape"):
        images.to_grayscale(np.zeros((2, 2, 2)))


def test_describe_reports_what_the_course_prints():
    crop = images.builtin_image(images.DEFAULT_BUILTIN)
    info = images.describe(crop)
    assert info["shape"] == (64, 64, 3) and info["values"] == 12288 and info["dtype"] == "uint8"
    assert images.describe(images.SMILEY)["channels"] == 1


# -- editing --------------------------------------------------------------------------------


def test_parse_cells_accepts_numbers_and_text_numbers():
    previous = np.zeros((1, 3), np.uint8)
    matrix, messages = images.parse_cells([[1, "2", " 3 "]], previous)
    assert matrix.tolist() == [[1, 2, 3]] and messages == []


@pytest.mark.parametrize(
    "cell, expected, words",
    [
        ("abc", 7, "is not a number"),
        ("", 7, "not a number"),
        (None, 7, "not a number"),
        ("nan", 7, "not a number"),
        ("inf", 7, "not a number"),
        ("300", 255, "clipped to 255"),
        ("-5", 0, "clipped to 0"),
        ("12.6", 13, "rounded to 13"),
    ],
)
def test_parse_cells_fixes_bad_cells_and_says_so(cell, expected, words):
    """A bad cell keeps its last value or is clipped/rounded, with a message naming the cell."""
    previous = np.full((2, 2), 7, np.uint8)
    cells = previous.astype(object)
    cells[1, 0] = cell
    matrix, messages = images.parse_cells(cells, previous)
    assert matrix[1, 0] == expected
    assert len(messages) == 1 and "Row 1, column 0" in messages[0] and words in messages[0]


def test_parse_cells_rejects_a_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        images.parse_cells([[1, 2]], np.zeros((2, 2), np.uint8))


def test_resize_keeps_what_fits():
    grown = images.resize_matrix(images.SMILEY, 12, 11)
    assert grown.shape == (12, 11)
    np.testing.assert_array_equal(grown[:10, :10], images.SMILEY)
    assert grown[10:].sum() == 0 and grown[:, 10:].sum() == 0
    shrunk = images.resize_matrix(images.SMILEY, 3, 4)
    np.testing.assert_array_equal(shrunk, images.SMILEY[:3, :4])


@pytest.mark.parametrize("rows, cols", [(0, 5), (5, 65), (-1, 1)])
def test_resize_limits(rows, cols):
    with pytest.raises(ValueError, match="between 1 and 64"):
        images.resize_matrix(images.SMILEY, rows, cols)


def test_invert_random_and_noise_stay_in_range():
    np.testing.assert_array_equal(images.invert(images.SMILEY), 255 - images.SMILEY)
    rnd = images.random_matrix((5, 6), seed=1)
    assert rnd.shape == (5, 6) and rnd.dtype == np.uint8
    noisy = images.add_noise(images.SMILEY, amount=200, seed=0)
    assert noisy.dtype == np.uint8 and noisy.min() == 0 and noisy.max() == 255
    assert not np.array_equal(noisy, images.SMILEY)


def test_enlarge_repeats_pixels():
    big = images.enlarge(images.RGB_GRID, 4)
    assert big.shape == (12, 12, 3)
    assert big[0:4, 0:4].reshape(-1, 3).tolist() == [[255, 0, 0]] * 16


# -- saving and the round trip ----------------------------------------------------------------


@pytest.mark.parametrize("matrix", [images.SMILEY, images.RGB_GRID])
def test_pillow_round_trip_is_exact(matrix):
    back = images.pillow_roundtrip(matrix)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, matrix)


def test_matplotlib_round_trip_returns_the_figure_not_the_matrix():
    """The course's savefig/imread gives 400x400x4 float32 in 0..1 for a 4x4-inch figure."""
    back = images.matplotlib_roundtrip(images.RGB_GRID)
    assert back.shape == (400, 400, 4) and back.dtype == np.float32
    assert 0.0 <= back.min() and back.max() <= 1.0
    assert images.matplotlib_roundtrip(images.SMILEY).shape == (400, 400, 4)


def test_csv_and_npy():
    assert images.csv_text(np.array([[0, 255], [1, 2]])) == "0,255\n1,2\n"
    back = np.load(io.BytesIO(images.npy_bytes(images.SMILEY)))
    np.testing.assert_array_equal(back, images.SMILEY)
    with pytest.raises(ValueError):
        images.csv_text(images.RGB_GRID)


# -- uploads --------------------------------------------------------------------------------


def test_decode_png_and_jpeg():
    decoded = image_upload.decode_image(images.png_bytes(images.RGB_GRID))
    np.testing.assert_array_equal(decoded.array, images.RGB_GRID)
    assert decoded.notes == []
    jpeg = _png(np.full((8, 8, 3), 100, np.uint8), format="JPEG")
    assert image_upload.decode_image(jpeg).array.shape == (8, 8, 3)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"hello, this is text", "not a PNG or JPEG"),
        (b"GIF89a" + b"\x00" * 100, "not a PNG or JPEG"),
    ],
)
def test_decode_refuses_non_images(data, words):
    with pytest.raises(image_upload.ImageDecodeError, match=words):
        image_upload.decode_image(data)


def test_decode_refuses_gif_even_when_valid():
    """Only PNG and JPEG are accepted, whatever Pillow could read."""
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, format="GIF")
    with pytest.raises(image_upload.ImageDecodeError, match="not a PNG or JPEG"):
        image_upload.decode_image(buffer.getvalue())


def test_decode_refuses_truncated_files():
    data = images.png_bytes(images.random_matrix((64, 64), seed=0))
    with pytest.raises(image_upload.ImageDecodeError, match="truncated or damaged"):
        image_upload.decode_image(data[: len(data) // 2])


def test_decode_refuses_too_many_bytes():
    with pytest.raises(image_upload.ImageDecodeError, match="limit"):
        image_upload.decode_image(b"\x89PNG" + b"\x00" * 100, max_bytes=50)


def test_decode_refuses_decompression_bombs_before_decoding():
    """A small file announcing a huge image is refused from its header."""
    bomb = _png(np.zeros((3000, 3000), np.uint8))
    assert len(bomb) < 100_000
    with pytest.raises(image_upload.ImageDecodeError, match="pixels"):
        image_upload.decode_image(bomb, max_pixels=1000 * 1000)


def test_decode_converts_16_bit():
    deep = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4369)
    buffer = io.BytesIO()
    Image.fromarray(deep).save(buffer, format="PNG")
    decoded = image_upload.decode_image(buffer.getvalue())
    assert decoded.array.dtype == np.uint8 and decoded.array.max() == 255 and decoded.array[0, 0] == 0
    assert "scaled to 0..255" in decoded.notes[0]


@pytest.mark.parametrize(
    "mode, words, shape",
    [
        ("P", "Palette", (6, 6, 3)),
        ("RGBA", "Transparency", (6, 6, 3)),
        ("LA", "Transparency", (6, 6)),
        ("1", "Black-and-white", (6, 6)),
    ],
)
def test_decode_converts_modes_and_says_so(mode, words, shape):
    data = _png(images.enlarge(images.RGB_GRID, 2), mode=mode)
    decoded = image_upload.decode_image(data)
    assert decoded.array.shape == shape and decoded.array.dtype == np.uint8
    assert any(words in note for note in decoded.notes)


def test_decode_converts_cmyk_jpeg():
    data = _png(images.enlarge(images.RGB_GRID, 4), mode="CMYK", format="JPEG")
    decoded = image_upload.decode_image(data)
    assert decoded.array.shape == (12, 12, 3)
    assert any("CMYK" in note for note in decoded.notes)


def test_decode_uses_first_frame_of_animations():
    frames = [Image.new("L", (4, 4), v) for v in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    decoded = image_upload.decode_image(buffer.getvalue())
    assert decoded.array.shape == (4, 4) and int(decoded.array[0, 0]) == 10
    assert any("Animated" in note for note in decoded.notes)


def test_transparent_pixels_become_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]
    decoded = image_upload.decode_image(_png(rgba))
    assert decoded.array[0, 0].tolist() == [255, 0, 0]
    assert decoded.array[1, 1].tolist() == [255, 255, 255]
