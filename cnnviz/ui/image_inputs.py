"""Choosing the image a page works on: the stairwell, a sample, the Pixels matrix, a Fashion-MNIST test
image (the Convolution lab) or an upload."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import image_upload as uploads
from cnnviz.core import images, share_link
from cnnviz.core.activation_inputs import COURSE_LABEL
from cnnviz.core.data import CLASS_NAMES, DATA_DIR_ENV, FASHION_FOLDER
from cnnviz.ui import links, resources, state

STAIRWELL = "Stairwell (course, 512x512)"
MY_MATRIX = "My matrix from the Pixels page"
UPLOAD = "Upload an image…"
FASHION_TEST = "A Fashion-MNIST test image (28x28)"
"""The choice of a test image by class and number within the class: the images the network sees
(the Convolution lab offers it, so a learned kernel can be tried on them)."""

_LINK_VALUES = {STAIRWELL: share_link.STAIRWELL, MY_MATRIX: share_link.MY_MATRIX, FASHION_TEST: share_link.FASHION_TEST,
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


def test_image_keys(key: str) -> tuple[str, str]:
    """The widget keys of the class and the number within the class of ``input_image_picker(key,
    fashion_test=True)`` (set them before the page draws its widgets to choose a test image)."""
    return f"{key}_class", f"{key}_index"


def class_members(labels: np.ndarray, label: int) -> np.ndarray:
    """The test-set numbers of the images of class ``label``, in the test set's order."""
    return np.flatnonzero(np.asarray(labels) == int(label))


FASHION_MISSING = (f"Fashion-MNIST is not available on this server, so its test images cannot be chosen here "
                   f"(set {DATA_DIR_ENV} to a folder holding {FASHION_FOLDER}/). The other images work as usual.")
"""What the picker says when the test images are asked for and the data is missing."""


def fashion_test_image(key: str) -> tuple[str, np.ndarray] | None:
    """A Fashion-MNIST test image chosen by class and number within the class: (name, uint8 28x28), or
    None after saying the data is missing. Read from ``CNNVIZ_DATA_DIR`` only, so it never imports
    TensorFlow (Keras' downloader would)."""
    fashion = resources.local_fashion_mnist()
    if fashion is None:
        st.info(FASHION_MISSING, icon=":material/info:")
        return None
    class_key, index_key = test_image_keys(key)
    label = st.selectbox("Class", range(len(CLASS_NAMES)), index=COURSE_LABEL, key=class_key,
                         format_func=CLASS_NAMES.__getitem__, help="Fashion-MNIST's ten kinds of clothing.")
    members = class_members(fashion["test_labels"], label)
    if st.session_state.get(index_key, 0) > len(members) - 1:  # a class with fewer images than the last one
        st.session_state[index_key] = len(members) - 1
    k = st.number_input(f"Image of the class (0 to {len(members) - 1})", 0, len(members) - 1, 0, key=index_key,
                        help="Which of the class's test images, in the test set's order (as on the Inside the "
                             "network page).")
    number = int(members[int(k)])
    return f"Fashion-MNIST test image #{number} · {CLASS_NAMES[label]}, number {int(k)} of its class", \
        fashion["test_raw"][number]


def input_image_picker(key: str, *, gray: bool = True, default: str = STAIRWELL,
                       fashion_test: bool = False) -> tuple[str, np.ndarray]:
    """Choose the image a page works on: the stairwell, a sample, the Pixels matrix, an upload and,
    with ``fashion_test``, a Fashion-MNIST test image (:func:`fashion_test_image`).

    Returns (name, image); grayscale uint8 when ``gray``. When the stairwell or the test
    images cannot be loaded, says so in one line and falls back to the camera.
    """
    options = [STAIRWELL, MY_MATRIX, *([FASHION_TEST] if fashion_test else []), *images.BUILTIN_IMAGES, UPLOAD]
    choice = st.selectbox("Input image", options, index=options.index(default), key=key)
    image: np.ndarray | None = None
    if choice == FASHION_TEST:
        picked = fashion_test_image(key)
        if picked is None:
            choice, image = "Camera", resources.builtin_image("Camera")
        else:
            return picked
    elif choice == STAIRWELL:
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
