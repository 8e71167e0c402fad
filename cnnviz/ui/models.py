"""Keras models for the pages that use them: the shipped ones (loaded once per process), the
student's own, uploads, and the picker between them.

Importing this module imports TensorFlow. Only the Train and Activations pages do, so the
light pages never pay for it; the first import caps TensorFlow's threads and freezes the
long-lived objects out of the garbage collector's way (see :func:`_freeze_long_lived_objects`).
"""

from __future__ import annotations

import gc

import streamlit as st

from cnnviz.ml import model_files
from cnnviz.ml.activations import ActivationModel
from cnnviz.ml.models import SHIPPED_MODELS, load_shipped
from cnnviz.ml.threads import cap_tf_threads
from cnnviz.ui import links, state

MODEL_SOURCES = {
    "shipped": "The trained CNN shipped with the app",
    "trained": "My model from the Train page",
    "upload": "Upload a .keras / .h5 file",
}
"""Where the Activations page's model comes from: choice -> label."""


def _freeze_long_lived_objects() -> None:
    """Keep the garbage collector away from everything alive now (TensorFlow and Keras: millions
    of objects that live as long as the server).

    Python's automatic full collections otherwise walk them all, about 250 ms here, in the
    middle of a student's rerun, on every page, several times a minute. Called once TensorFlow
    has been imported and once each shipped model has been loaded.
    """
    gc.collect()
    gc.freeze()


cap_tf_threads()
_freeze_long_lived_objects()


@st.cache_resource(show_spinner="Loading a trained model shipped with the app (once per server)…")
def shipped_model(name: str):
    """A model shipped in assets/models ("cnn" or "dense"), one copy per server process."""
    model = load_shipped(name)
    _freeze_long_lived_objects()
    return model


@st.cache_resource(show_spinner=False)
def _shipped_activation_model() -> ActivationModel:
    return ActivationModel(shipped_model("cnn"))


def shipped_activation_model():
    """The shipped CNN with its feature extractor, shared by every session (loaded once),
    or None and a sentence saying why not. A failure is not cached."""
    try:
        return _shipped_activation_model(), None
    except Exception as exc:  # noqa: BLE001 - missing file, Keras error: words, not a traceback
        return None, (f"The shipped CNN ({SHIPPED_MODELS['cnn'].name}) could not be loaded "
                      f"({type(exc).__name__}: {str(exc)[:200]}).")


def trained_activation_model():
    """The model trained on the Train page in this session, checked, with its extractor
    (built once per model), or None and a sentence saying why not."""
    model, _ = state.trained_model()
    if model is None:
        return None, "You have not trained a model on the Train page in this session yet."
    memo = st.session_state.get("activations__trained_memo")
    if memo is None or memo[0] is not model:
        try:
            memo = (model, model_files.check_model(model), None)
        except model_files.ModelFileError as exc:
            memo = (model, None, f"The model from the Train page cannot be used here: {exc}")
        st.session_state["activations__trained_memo"] = memo
    return memo[1], memo[2]


def model_upload(key: str):
    """A checked model upload kept in this session; bad files get a message and the last
    good model stays. Returns an ActivationModel or None. Each file is checked once."""
    good_key, seen_key, error_key = f"{key}__last_good", f"{key}__seen", f"{key}__error"

    def _as_text(message: str) -> str:
        """A refusal (it quotes the file's own names) shown as plain text, not Markdown."""
        return "".join("\\" + c if c in "\\`*_[]$~<>|#" else c for c in message)

    upload = st.file_uploader(
        "Upload a trained model (.keras or .h5)", type=["keras", "h5"], key=key,
        help=(f"At most {model_files.MAX_FILE_BYTES // 2**20} MB. A CNN for 28x28 grayscale "
              "images with 10 outputs, made of ordinary layers (no Lambda or custom code). "
              "The file is checked in a separate, limited process and the model is rebuilt "
              "from its checked layers: nothing in it is run."),
    )
    if upload is not None and st.session_state.get(seen_key) != upload.file_id:
        st.session_state[seen_key] = upload.file_id
        st.session_state.pop(error_key, None)
        try:
            explorer = model_files.open_model_bytes(upload.getvalue(), upload.name)
        except model_files.ModelFileError as exc:
            st.session_state[error_key] = _as_text(f"{exc} (file: {upload.name})")
        except Exception as exc:  # noqa: BLE001 - never a traceback on the page: a sentence
            st.session_state[error_key] = _as_text(
                f"This file could not be checked ({type(exc).__name__}); the last model stays. "
                f"(file: {upload.name})")
        else:
            st.session_state[good_key] = (upload.name, explorer)
    if upload is not None and st.session_state.get(error_key):
        st.error(st.session_state[error_key], icon=":material/block:")
        if st.session_state.get(good_key):
            st.caption(_as_text(f"Still using the last model that worked: {st.session_state[good_key][0]}."))
    last = st.session_state.get(good_key)
    return None if last is None else last[1]


def activation_model_picker(key: str, *, link_page: str | None = None):
    """Choose the model to explore: shipped (default), trained in this session, or uploaded.

    Returns (ActivationModel or None, a short description). When the chosen
    source has no usable model yet, says so and falls back to the shipped CNN.
    ``link_page``: the page whose link (and followers) are told when the model cannot travel.
    """
    source = st.radio("Model", list(MODEL_SOURCES), format_func=MODEL_SOURCES.get,
                      horizontal=True, key=key)
    explorer, problem = None, None
    if source == "trained":
        explorer, problem = trained_activation_model()
        name = state.trained_model()[1] or "your model from the Train page"
    elif source == "upload":
        explorer = model_upload(f"{key}__upload")
        name = "your uploaded model"
        if explorer is None:
            problem = "No model uploaded yet."
    if explorer is not None:
        if link_page is not None:
            links.cannot_travel(link_page, f"The model shown ({name}) cannot travel: a link or a student following "
                                           "this view sees the shipped CNN instead.")
        return explorer, name
    shipped, shipped_problem = shipped_activation_model()
    if problem:
        st.info(f"{problem} Showing the shipped CNN meanwhile.", icon=":material/info:")
    if shipped is None:
        st.error(f"{shipped_problem} Upload a model instead.", icon=":material/error:")
    return shipped, "the shipped CNN (trained on Fashion-MNIST, the course's architecture)"


def carry_model_choice(from_key: str, to_key: str) -> None:
    """Open the picker ``to_key`` (on another page) on the model chosen in the picker ``from_key``,
    an upload's last good model included. Call before ``st.switch_page``."""
    st.session_state[to_key] = st.session_state.get(from_key, "shipped")
    last = st.session_state.get(f"{from_key}__upload__last_good")
    if last is not None:
        st.session_state[f"{to_key}__upload__last_good"] = last
