"""Streamlit widgets shared by the pages: matrix editor, image upload, input image picker.

State that must survive page switches lives under plain session_state keys
(never only in a widget), since Streamlit drops a widget's value when a page
without that widget runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import images
from cnnviz.data import DataUnavailable, load_ascent

GRAY_MATRIX_KEY = "gray_matrix"
"""Session key of the grayscale matrix edited on the Pixels page (offered to other pages)."""

STAIRWELL = "Stairwell (course, 512x512)"
MY_MATRIX = "My matrix from the Pixels page"
UPLOAD = "Upload an image…"


# --------------------------------------------------------------------------
# Cached, shared data (read-only arrays shared by all sessions)
# --------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the stairwell image…")
def _ascent_or_message() -> tuple[np.ndarray | None, str | None]:
    try:
        image = load_ascent()
    except DataUnavailable as exc:
        return None, str(exc)
    image.setflags(write=False)
    return image, None


def stairwell() -> tuple[np.ndarray | None, str | None]:
    """The course's stairwell (shared, read-only), or None and a sentence saying why not."""
    return _ascent_or_message()


@st.cache_resource(show_spinner=False)
def builtin_image(name: str) -> np.ndarray:
    """A scikit-image sample (shared, read-only)."""
    image = images.builtin_image(name)
    image.setflags(write=False)
    return image


def gray_matrix() -> np.ndarray:
    """The grayscale matrix edited on the Pixels page (the course's smiley until edited)."""
    matrix = st.session_state.get(GRAY_MATRIX_KEY)
    return images.SMILEY.copy() if matrix is None else matrix


# --------------------------------------------------------------------------
# Matrix editor
# --------------------------------------------------------------------------


def _version_key(key: str) -> str:
    return f"{key}__version"


def set_matrix(state_key: str, value: np.ndarray, *, editor_key: str | None = None) -> None:
    """Replace a stored matrix and reset its editor (for quick actions and resizing)."""
    st.session_state[state_key] = np.asarray(value, dtype=np.uint8)
    if editor_key is not None:
        st.session_state[_version_key(editor_key)] = st.session_state.get(_version_key(editor_key), 0) + 1
        st.session_state.pop(f"{editor_key}__messages", None)


def matrix_editor(
    state_key: str,
    *,
    default: np.ndarray,
    key: str,
    channel: int | None = None,
    height: int | str = "auto",
) -> np.ndarray:
    """An editable grid of 0..255 values kept in ``st.session_state[state_key]``.

    Typing a non-number keeps the cell's last good value; values outside
    0..255 are clipped; each fix is reported under the grid in words. With
    ``channel``, edits one channel of an (H, W, C) array. Returns the matrix.
    """
    if st.session_state.get(state_key) is None:
        st.session_state[state_key] = np.array(default, dtype=np.uint8)
    array = st.session_state[state_key]
    plane = array if channel is None else array[..., channel]
    version = st.session_state.get(_version_key(key), 0)
    editor_key = f"{key}__v{version}"
    messages_key = f"{key}__messages"

    def apply_edits() -> None:
        edits = st.session_state.get(editor_key, {}).get("edited_rows", {})
        current = st.session_state[state_key]
        base = current if channel is None else current[..., channel]
        cells = base.astype(object)
        for row, changes in edits.items():
            for col, value in changes.items():
                cells[int(row), int(col)] = value
        new_plane, messages = images.parse_cells(cells, base)
        updated = current.copy()
        if channel is None:
            updated = new_plane
        else:
            updated[..., channel] = new_plane
        st.session_state[state_key] = updated
        st.session_state[messages_key] = messages
        st.session_state[_version_key(key)] = version + 1

    frame = pd.DataFrame(plane.astype(str), columns=[str(c) for c in range(plane.shape[1])])
    st.data_editor(
        frame,
        key=editor_key,
        on_change=apply_edits,
        num_rows="fixed",
        height=height,
        column_config={
            str(c): st.column_config.TextColumn(str(c), width=40, help=f"Column {c}: a value from 0 to 255")
            for c in range(plane.shape[1])
        },
    )
    for message in st.session_state.get(messages_key, [])[:8]:
        st.warning(message, icon=":material/warning:")
    extra = len(st.session_state.get(messages_key, [])) - 8
    if extra > 0:
        st.warning(f"…and {extra} more cells were fixed the same way.", icon=":material/warning:")
    return st.session_state[state_key]


# --------------------------------------------------------------------------
# Uploads and the input image picker
# --------------------------------------------------------------------------


def image_upload(key: str, *, label: str = "Upload a PNG or JPEG") -> images.DecodedImage | None:
    """A checked image upload. Bad files get a message; the last good upload stays in use."""
    last_key = f"{key}__last_good"
    upload = st.file_uploader(
        label,
        type=["png", "jpg", "jpeg"],
        key=key,
        help=(
            f"PNG or JPEG, at most {images.MAX_UPLOAD_BYTES // 2**20} MB and "
            f"{images.MAX_UPLOAD_PIXELS:,} pixels. Colour, 16-bit, palette and transparent images are converted."
        ),
    )
    if upload is not None:
        try:
            decoded = images.decode_image(upload.getvalue())
        except images.ImageDecodeError as exc:
            st.error(f"{upload.name}: {exc}", icon=":material/block:")
            if st.session_state.get(last_key) is not None:
                st.caption("Still showing the last image that worked.")
        else:
            st.session_state[last_key] = decoded
            for note in decoded.notes:
                st.info(note, icon=":material/info:")
    return st.session_state.get(last_key)


def input_image_picker(key: str, *, gray: bool = True, default: str = STAIRWELL) -> tuple[str, np.ndarray]:
    """Choose the image a page works on: the stairwell, a sample, the Pixels matrix or an upload.

    Returns (name, image); grayscale uint8 when ``gray``. When the stairwell
    cannot be loaded, says so in one line and falls back to the camera.
    """
    options = [STAIRWELL, MY_MATRIX, *images.BUILTIN_IMAGES, UPLOAD]
    choice = st.selectbox("Input image", options, index=options.index(default), key=key)
    image: np.ndarray | None = None
    if choice == STAIRWELL:
        image, problem = stairwell()
        if image is None:
            st.info(f"{problem} Using the camera image instead.", icon=":material/info:")
            choice, image = "Camera", builtin_image("Camera")
    elif choice == MY_MATRIX:
        image = gray_matrix()
    elif choice == UPLOAD:
        decoded = image_upload(f"{key}__upload")
        if decoded is None:
            st.caption("No image uploaded yet: showing the camera image.")
            choice, image = "Camera", builtin_image("Camera")
        else:
            image = decoded.array
    else:
        image = builtin_image(choice)
    if gray:
        image = images.to_grayscale(image)
    return choice, image
