"""The kernel and its options, shared by the Convolution and Pooling pages.

Preset picker, kernel grid, typed kernel and options; every edit goes through a
callback that stores new settings (:mod:`cnnviz.ui.state`), then the fragment holding the
controls reruns (put the result in the same fragment: one run per edit).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import convolution as conv
from cnnviz.core import kernels
from cnnviz.core.grid_edits import GridEdit, GridLimits
from cnnviz.ui import state
from cnnviz.ui.pixel_grid import pixel_grid, reset_grid, signed_look

CUSTOM_KERNEL = "custom"
"""Preset picker entry meaning "the kernel I typed or edited"."""

KERNEL_LIMITS = GridLimits(low=-kernels.MAX_ABS_ENTRY, high=kernels.MAX_ABS_ENTRY, whole=False, first_index=1)
"""A kernel cell: any number up to a million in size, fractions allowed; rows and columns counted from 1."""
KERNEL_HELP = ("Drag to paint cells with the brush value. Click a cell (or move with the arrow keys) and type a "
               "number such as -2, 0.5 or 1/9, Enter to keep it, Esc to cancel. Ctrl+Z undoes the last edit.")


def _use_kernel(kernel, *, text: str | None = None, preset: str | None = None) -> None:
    settings = state.convolution_settings()
    name = preset if preset is not None else kernels.preset_for(kernel)
    state.set_convolution_settings(settings.replace(kernel=kernel, preset=name), text=text)


def _on_preset(widget_key: str) -> None:
    name = st.session_state[widget_key]
    if name == CUSTOM_KERNEL or name not in kernels.PRESETS:
        return
    preset = kernels.PRESETS[name]
    settings = state.convolution_settings()
    state.set_convolution_settings(settings.replace(kernel=preset.kernel.copy(), preset=name,
                                              normalise=preset.normalise, weight=1.0))


def _on_kernel_text(widget_key: str) -> None:
    text = st.session_state[widget_key]
    try:
        kernel = kernels.parse_kernel(text)
    except kernels.KernelError as exc:
        state.refuse_kernel(str(exc), text=text)  # keep what was typed, to correct it
        return
    _use_kernel(kernel, text=text)


def _on_kernel_grid(edit: GridEdit, key: str) -> None:
    """A stroke or typed value in the kernel grid (checked by :func:`cnnviz.core.grid_edits.apply_edit`)."""
    try:
        kernel = kernels.check_grid(edit.matrix.tolist())
    except kernels.KernelError as exc:
        state.refuse_kernel(str(exc))
        return
    _use_kernel(kernel)
    # The grid shows this kernel already: never deferred, and its undo history stays.
    st.session_state[f"{key}_kernel_grid__drawn"] = (state.kernel_version(), kernel.copy())
    st.session_state[f"{_grid_key(key)}__own"] = state.kernel_version()


def _grid_key(key: str) -> str:
    """The kernel grid component's key in ``kernel_controls(key)``."""
    return f"{key}_kernel_grid_cells"


def _on_kernel_size(rows_key: str, cols_key: str) -> None:
    kernel = state.convolution_settings().kernel
    rows, cols = int(st.session_state[rows_key]), int(st.session_state[cols_key])
    resized = np.zeros((rows, cols))
    r, c = min(rows, kernel.shape[0]), min(cols, kernel.shape[1])
    resized[:r, :c] = kernel[:r, :c]
    _use_kernel(resized)


def _on_option(widget_key: str, field_name: str) -> None:
    value = st.session_state[widget_key]
    if value is None:  # an emptied number box: keep the last value
        return
    state.set_convolution_settings(state.convolution_settings().replace(**{field_name: value}))


def _seed(widget_key: str, value) -> None:
    """Give a widget the stored value (widgets forget theirs when another page runs)."""
    st.session_state[widget_key] = value


def _grid_to_draw(key: str, version: int, kernel: np.ndarray, defer: bool) -> tuple[int, np.ndarray]:
    """(version, kernel) of the grid to draw: with ``defer``, the one on screen until :func:`show_new_grid`."""
    drawn_key, due_key = f"{key}_kernel_grid__drawn", f"{key}_kernel_grid__due"
    drawn = st.session_state.get(drawn_key)
    due = st.session_state.pop(due_key, False)
    if defer and drawn is not None and drawn[0] != version and not due:
        return drawn
    st.session_state[drawn_key] = (version, kernel.copy())
    return version, kernel


def grid_waiting(key: str) -> bool:
    """True when the kernel grid of ``kernel_controls(key, defer_grid=True)`` still shows an older kernel."""
    drawn = st.session_state.get(f"{key}_kernel_grid__drawn")
    return drawn is not None and drawn[0] != state.kernel_version()


def show_new_grid(key: str) -> None:
    """Draw the current kernel's grid in the next run of ``kernel_controls(key, defer_grid=True)``."""
    st.session_state[f"{key}_kernel_grid__due"] = True


def kernel_controls(key: str, *, show_channels: bool = True, show_mapping: bool = True, defer_grid: bool = False):
    """Preset picker, kernel grid, typed kernel and options; returns the ConvolutionSettings.

    The settings live in :mod:`cnnviz.ui.state` (``CONV_SETTINGS_KEY``): the same kernel and
    options appear on every page calling this (with its own ``key`` prefix) and survive
    page switches. A bad kernel gets a message naming the problem; the last good one stays.
    Widget keys: ``{key}_preset``, ``{key}_kernel_text``, ``{key}_padding``, ``{key}_stride``,
    ``{key}_weight``, ``{key}_normalise``, ``{key}_flip``, ``{key}_channels``, ``{key}_mapping``.
    An edit reruns the enclosing fragment (or the page): draw the result in the same one.

    ``defer_grid`` keeps the kernel grid on screen as it is when the kernel changes from outside
    the grid (a preset, typed text, a new size), until :func:`show_new_grid` (call it once the new
    result is painted, then rerun), so the result is drawn first. An edit in the grid is on
    screen already and is never deferred.
    """

    def rerunning(callback, *args) -> dict:
        return dict(on_change=callback, args=args)

    settings = state.convolution_settings()
    kernel = settings.kernel

    names = [*kernels.PRESETS, CUSTOM_KERNEL]
    preset_key = f"{key}_preset"
    _seed(preset_key, settings.preset if settings.preset in kernels.PRESETS else CUSTOM_KERNEL)
    st.selectbox(
        "Kernel", names, key=preset_key, **rerunning(_on_preset, preset_key),
        format_func=lambda n: kernels.PRESETS[n].label if n in kernels.PRESETS else "My own kernel (typed or edited)",
        help="A preset kernel, or your own: edit the grid or type the numbers below.",
    )
    if settings.preset in kernels.PRESETS:
        st.caption(kernels.PRESETS[settings.preset].explanation)

    version = state.kernel_version()
    grid_version, grid_kernel = _grid_to_draw(key, version, kernel, defer_grid)
    rows_key, cols_key = f"{key}_kernel_rows", f"{key}_kernel_cols"
    _seed(rows_key, kernel.shape[0])
    _seed(cols_key, kernel.shape[1])
    c1, c2 = st.columns(2)
    c1.number_input("Rows", 1, conv.MAX_KERNEL_SIDE, key=rows_key, **rerunning(_on_kernel_size, rows_key, cols_key),
                    help="1 to 15. New cells are 0; shrinking keeps the top-left part.")
    c2.number_input("Columns", 1, conv.MAX_KERNEL_SIDE, key=cols_key, **rerunning(_on_kernel_size, rows_key, cols_key),
                    help="1 to 15. New cells are 0; shrinking keeps the top-left part.")
    grid_key = _grid_key(key)
    shown_key = f"{grid_key}__shown_version"
    if st.session_state.get(shown_key) != grid_version:
        if st.session_state.get(shown_key) is not None and st.session_state.get(f"{grid_key}__own") != grid_version:
            reset_grid(grid_key)  # a preset, a typed kernel or a new size: the undo history is of another kernel
        st.session_state[shown_key] = grid_version
    with st.container(key=f"{key}_kernel_grid"):
        pixel_grid(grid_kernel, key=grid_key, label=f"Kernel, {grid_kernel.shape[0]} by {grid_kernel.shape[1]}",
                   current=lambda: state.convolution_settings().kernel,
                   store=lambda edit: _on_kernel_grid(edit, key), limits=KERNEL_LIMITS,
                   look=signed_look(float(np.abs(grid_kernel).max())), help_text=KERNEL_HELP)
    text_key = f"{key}_kernel_text"
    _seed(text_key, state.kernel_text())
    st.text_area(
        "…or type the kernel", key=text_key, **rerunning(_on_kernel_text, text_key),
        height=max(90, 28 * kernel.shape[0] + 30),
        help="One row per line (or rows separated by ;), numbers separated by spaces or commas, "
             "fractions like 1/9 allowed; or JSON such as [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]. "
             "Press Ctrl+Enter or click outside the box to apply.",
    )
    if state.kernel_error():
        st.error(f"{state.kernel_error()} Still using the last kernel that worked.",
                 icon=":material/block:")

    def option(widget, label, field_name, **kwargs):
        widget_key = f"{key}_{field_name}"
        _seed(widget_key, getattr(settings, field_name))
        return widget(label, key=widget_key, **rerunning(_on_option, widget_key, field_name), **kwargs)

    option(st.number_input, "Weight", "weight", min_value=-conv.MAX_ABS_WEIGHT, max_value=conv.MAX_ABS_WEIGHT,
           step=0.1, format="%g",
           help="Every sum is multiplied by this number (the course's weight = 1).")
    option(st.checkbox, "Normalise (÷ kernel sum)", "normalise",
           disabled=not conv.can_normalise(kernel),
           help="Keeps a blur's brightness. Not possible when the sum is 0, as for edge kernels."
           if conv.can_normalise(kernel) else "This kernel's numbers add up to 0: there is nothing to divide by.")
    option(st.selectbox, "Border (padding)", "padding", options=conv.PADDINGS,
           format_func=conv.PADDING_LABELS.get,
           help="What happens where the kernel hangs over the image's edge.")
    option(st.radio, "Stride", "stride", options=conv.STRIDES, horizontal=True,
           help="Step between kernel positions: 2 keeps every second row and column.")
    option(st.toggle, "Flip kernel (convolution)", "flip",
           help="Off: cross-correlation, what the course's loop and Keras' Conv2D compute. "
                "On: the kernel is rotated 180 degrees first, as in the mathematical definition.")
    if show_mapping:
        option(st.radio, "Show the result as", "mapping", options=conv.MAPPINGS,
               format_func=conv.MAPPING_LABELS.get)
    if show_channels:
        option(st.radio, "Colour images", "channels", options=conv.CHANNELS,
               format_func=conv.CHANNEL_LABELS.get)
    return state.convolution_settings()
