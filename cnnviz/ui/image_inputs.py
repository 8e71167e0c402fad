"""Choosing the image a page works on: the stairwell, a sample, the Pixels matrix or an upload."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import images
from cnnviz.ui import resources, state

STAIRWELL = "Stairwell (course, 512x512)"
MY_MATRIX = "My matrix from the Pixels page"
UPLOAD = "Upload an image…"


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
        image, problem = resources.stairwell()
        if image is None:
            st.info(f"{problem} Using the camera image instead.", icon=":material/info:")
            choice, image = "Camera", resources.builtin_image("Camera")
    elif choice == MY_MATRIX:
        image = state.gray_matrix()
    elif choice == UPLOAD:
        decoded = image_upload(f"{key}__upload")
        if decoded is None:
            st.caption("No image uploaded yet: showing the camera image.")
            choice, image = "Camera", resources.builtin_image("Camera")
        else:
            image = decoded.array
    else:
        image = resources.builtin_image(choice)
    if gray:
        image = images.to_grayscale(image)
    return choice, image
