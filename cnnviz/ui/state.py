"""Every session_state key that outlives one page, with its getter and setter.

Opening a page by URL starts a new session, and Streamlit drops a widget's value
when a page without that widget runs: state one page leaves for another lives
here, under plain keys, never only in a widget. Pages and widgets read and write
it through these functions, so each key is spelt once.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import images
from cnnviz.core.convolution import ConvolutionSettings
from cnnviz.core.kernels import format_kernel

GRAY_MATRIX_KEY = "gray_matrix"
"""The grayscale matrix edited on the Pixels page (offered as an input by Convolution and Pooling)."""

RGB_MATRIX_KEY = "rgb_matrix"
"""The RGB matrix edited on the Pixels page."""

CONV_SETTINGS_KEY = "conv_settings"
"""The ConvolutionSettings in use: the same kernel and options on every page."""

KERNEL_TEXT_KEY = f"{CONV_SETTINGS_KEY}__text"
"""What the kernel text boxes show (a typed kernel stays as typed, also when it is bad)."""

KERNEL_ERROR_KEY = f"{CONV_SETTINGS_KEY}__error"
"""The message about the last kernel that could not be used (None when it worked)."""

KERNEL_VERSION_KEY = f"{CONV_SETTINGS_KEY}__version"
"""Bumped when the kernel changes from elsewhere, so every kernel grid is rebuilt from it."""

TRAINED_MODEL_KEY = "cnnviz_trained_model"
"""The Keras model trained on the Train page in this session (the Activations page offers it)."""

TRAINED_MODEL_NAME_KEY = "cnnviz_trained_model_name"
"""A short description of that model."""

TRAINING_RUNS_KEY = "train_runs"
"""This session's training runs (cnnviz.ml.training.TrainingRun), oldest first."""

DRAWING_KEY = "activations_drawing"
"""The 28x28 image drawn on the Activations page."""


# --- The Pixels page's matrices ---------------------------------------------


def gray_matrix() -> np.ndarray:
    """The grayscale matrix edited on the Pixels page (the course's smiley until edited)."""
    matrix = st.session_state.get(GRAY_MATRIX_KEY)
    return images.SMILEY.copy() if matrix is None else matrix


def rgb_matrix() -> np.ndarray:
    """The RGB matrix edited on the Pixels page (the course's 3x3 grid until edited)."""
    matrix = st.session_state.get(RGB_MATRIX_KEY)
    return images.RGB_GRID.copy() if matrix is None else matrix


# --- The kernel and options -------------------------------------------------


def convolution_settings() -> ConvolutionSettings:
    """The kernel and options in use (the course's until changed), kept across pages."""
    settings = st.session_state.get(CONV_SETTINGS_KEY)
    if settings is None:
        settings = ConvolutionSettings()
        st.session_state[CONV_SETTINGS_KEY] = settings
        st.session_state[KERNEL_TEXT_KEY] = format_kernel(settings.kernel)
    return settings


def set_convolution_settings(settings: ConvolutionSettings, *, text: str | None = None) -> None:
    """Store new settings; the kernel grid and text box on every page show them at once."""
    old = st.session_state.get(CONV_SETTINGS_KEY)
    st.session_state[CONV_SETTINGS_KEY] = settings
    if old is None or not np.array_equal(old.kernel, settings.kernel) or text is not None:
        st.session_state[KERNEL_TEXT_KEY] = format_kernel(settings.kernel) if text is None else text
        st.session_state[KERNEL_VERSION_KEY] = kernel_version() + 1
        st.session_state.pop(KERNEL_ERROR_KEY, None)


def kernel_text() -> str:
    """What the kernel text boxes show."""
    return st.session_state.get(KERNEL_TEXT_KEY) or format_kernel(convolution_settings().kernel)


def kernel_version() -> int:
    """How many times the kernel was changed from outside a grid (grids are keyed by it)."""
    return st.session_state.get(KERNEL_VERSION_KEY, 0)


def kernel_error() -> str | None:
    """Why the last typed or edited kernel was refused, or None."""
    return st.session_state.get(KERNEL_ERROR_KEY)


def refuse_kernel(message: str, *, text: str | None = None, rebuild_grid: bool = False) -> None:
    """Remember why a kernel was refused (the last good one stays in use).

    ``text`` keeps what was typed, to correct it; ``rebuild_grid`` puts the grids back to the kernel in use.
    """
    st.session_state[KERNEL_ERROR_KEY] = message
    if text is not None:
        st.session_state[KERNEL_TEXT_KEY] = text
    if rebuild_grid:
        st.session_state[KERNEL_VERSION_KEY] = kernel_version() + 1


# --- The model trained on the Train page -------------------------------------


def trained_model():
    """(the Keras model trained in this session, its description), or (None, None)."""
    return st.session_state.get(TRAINED_MODEL_KEY), st.session_state.get(TRAINED_MODEL_NAME_KEY)


def set_trained_model(model, name: str) -> None:
    """Offer ``model`` to the other pages of this session."""
    st.session_state[TRAINED_MODEL_KEY] = model
    st.session_state[TRAINED_MODEL_NAME_KEY] = name


def training_runs() -> list:
    """This session's training runs (the list itself: append to it)."""
    return st.session_state.setdefault(TRAINING_RUNS_KEY, [])


# --- The Activations page's drawing -------------------------------------------


def drawing(start: np.ndarray | None = None) -> np.ndarray:
    """The 28x28 uint8 image drawn on the Activations page (``start``, or black, at first)."""
    if st.session_state.get(DRAWING_KEY) is None:
        first = np.zeros((28, 28), np.uint8) if start is None else np.array(start, np.uint8)
        st.session_state[DRAWING_KEY] = first
    return st.session_state[DRAWING_KEY]


# --- Opening the Activations page on a class and a filter -------------------------

ACTIVATIONS_CLASS_KEY = "act_class"
ACTIVATIONS_FILTER_KEY = "act_filter"
ACTIVATIONS_HOW_KEY = "act_how"
ACTIVATIONS_VIEW_KEY = "act_view"
ACTIVATIONS_LAYERS_KEY = "act_layers"
"""The Activations page's class box, filter box, "Which images" choice, tabs and layers box
(its widget keys)."""

ACTIVATIONS_GRID_TAB = "Activation grid"


def open_activation_grid(label: int, filter_index: int, layers: list[str] | None = None) -> None:
    """Make the Activations page open on the grid of the first images of class ``label`` and
    filter ``filter_index`` (call before ``st.switch_page`` to it); ``layers``: the layers to
    show (those that have that filter), or None to leave the choice as it is."""
    st.session_state[ACTIVATIONS_CLASS_KEY] = int(label)
    st.session_state[ACTIVATIONS_FILTER_KEY] = int(filter_index)
    st.session_state[ACTIVATIONS_HOW_KEY] = "first"
    st.session_state[ACTIVATIONS_VIEW_KEY] = ACTIVATIONS_GRID_TAB
    if layers is not None:
        st.session_state[ACTIVATIONS_LAYERS_KEY] = list(layers)
