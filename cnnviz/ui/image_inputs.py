"""Choosing the image a page works on: the stairwell, a sample, the Pixels matrix or an upload."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import image_upload as uploads
from cnnviz.core import images, share_link
from cnnviz.ui import links, resources, state

STAIRWELL = "Stairwell (course, 512x512)"
MY_MATRIX = "My matrix from the Pixels page"
UPLOAD = "Upload an image…"

_LINK_VALUES = {STAIRWELL: share_link.STAIRWELL, MY_MATRIX: share_link.MY_MATRIX,
                **{name: slug for slug, name in share_link.BUILTIN_SLUGS.items()}}


def image_link_value(choice: str) -> str | None:
    """A picker's choice as an ``img=`` link value; None for an upload (it cannot travel)."""
    return _LINK_VALUES.get(choice)


def image_from_link(value: str) -> str:
    """An ``img=`` link value (already checked by :mod:`cnnviz.core.share_link`) as the picker's choice."""
    return next(choice for choice, link in _LINK_VALUES.items() if link == value)


UPLOAD_NOTE = "An uploaded image cannot travel in a link: whoever opens it sees {instead} instead."
"""What the link caption says when the view shows an upload."""


def link_notes(choice: str, page: str | None = None) -> list[str]:
    """What cannot travel in the link of a view working on ``choice`` (of :func:`input_image_picker`);
    with ``page``, also told to that page's followers (:func:`cnnviz.ui.links.cannot_travel`)."""
    notes = []
    if choice == UPLOAD:
        notes = [UPLOAD_NOTE.format(instead="the stairwell")]
    matrix = state.gray_matrix()
    if choice == MY_MATRIX and not share_link.can_travel(matrix):
        side = share_link.MAX_LINK_SIDE
        notes = [(f"Your {matrix.shape[0]}x{matrix.shape[1]} matrix is larger than a link carries ({side}x{side}): "
                  "whoever opens it sees the course's smiley instead.")]
    for note in notes if page else ():
        links.cannot_travel(page, note)
    return notes


def image_upload(key: str, *, label: str = "Upload a PNG or JPEG") -> uploads.DecodedImage | None:
    """A checked image upload. Bad files get a message; the last good upload stays in use.

    Each uploaded file is decoded once (in a sandboxed child process, see
    :func:`cnnviz.core.images.decode_image`): the result, or the reason it was
    refused, is kept under the upload's ``file_id``, so reruns while the file
    sits in the uploader cost nothing and a hostile file is not decoded again.
    """
    last_key, seen_key = f"{key}__last_good", f"{key}__decoded"
    uploads.prepare_decoding()  # a decoder process waits ready, so the first upload is quick too
    upload = st.file_uploader(
        label,
        type=["png", "jpg", "jpeg"],
        key=key,
        help=(
            f"PNG or JPEG, at most {uploads.MAX_UPLOAD_BYTES // 2**20} MB and "
            f"{uploads.MAX_UPLOAD_PIXELS:,} pixels. Colour, 16-bit, palette and transparent images are converted."
        ),
    )
    if upload is not None:
        seen = st.session_state.get(seen_key)
        if seen is None or seen[0] != upload.file_id:
            try:
                seen = (upload.file_id, uploads.decode_image(upload.getvalue()), None)
            except uploads.ImageDecodeError as exc:
                seen = (upload.file_id, None, str(exc))
            st.session_state[seen_key] = seen
            if seen[1] is not None:
                st.session_state[last_key] = seen[1]
        _, decoded, problem = seen
        if problem is not None:
            name = " ".join(str(upload.name).replace("`", "'").split())[:80]  # the student's own text
            st.error(f"`{name}`: {problem}", icon=":material/block:")
            if st.session_state.get(last_key) is not None:
                st.caption("Still showing the last image that worked.")
        else:
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
