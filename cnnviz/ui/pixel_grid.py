"""A pixel grid to paint, type and draw: one Streamlit Components v2 component for every matrix
the app lets students edit (the Pixels page's matrices, the Convolution lab's kernel, the
Activations page's 28x28 drawing).

The browser paints a stroke or takes a typed value at once and sends it as one edit message (no
debounce); :func:`cnnviz.core.grid_edits.apply_edit` checks it here against the grid's limits
and the caller stores the result. The last good matrix always stays: a value that is not a
number keeps the cell's value, and every fix is shown under the grid in words.

The component is registered once (module level) and mounted with a key per grid; its code is in
:mod:`cnnviz.ui.pixel_grid_code` (inline strings, nothing fetched). No user text goes into its
HTML or JavaScript: values, labels and help reach it as ``data`` and are drawn as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz.core import palette
from cnnviz.core.grid_edits import PIXEL_LIMITS, GridEdit, GridLimits, apply_edit
from cnnviz.ui import pixel_grid_code

_component = st.components.v2.component(
    "cnnviz_pixel_grid", html=pixel_grid_code.HTML, css=pixel_grid_code.CSS, js=pixel_grid_code.JS,
)

MAX_MESSAGES = 8
"""Fixes listed under a grid; more are summed up in one line."""

HELP = ("Drag to paint with the brush. Click a cell (or move with the arrow keys) and type a number, "
        "Enter to keep it, Esc to cancel; Space paints the selected cell. Ctrl+Z undoes the last stroke.")


@dataclass(frozen=True)
class GridLook:
    """How a grid is drawn: its colour scale, brushes and cell sizes.

    ``colours``: ``("sequential", low_rgb, high_rgb)`` from ``limits.low`` to ``limits.high``, or
    ``("diverging", negative_rgb, zero_rgb, positive_rgb)`` around 0 up to ``limit`` either way.
    ``brushes`` are (value, label) pairs offered as swatches; ``sizes`` the brush widths in cells
    (empty: one cell). ``max_cell``/``min_cell`` bound a cell's side in pixels; ``lines`` draws a
    1-pixel line between cells (off for a drawing, where it would hide the picture).
    """

    colours: tuple = ("sequential", (0, 0, 0), (255, 255, 255))
    brushes: tuple[tuple[float, str], ...] = ((0, "0 black"), (128, "128 gray"), (255, "255 white"))
    brush: float = 255
    sizes: tuple[int, ...] = ()
    size: int = 1
    max_cell: int = 44
    min_cell: int = 6
    tools: bool = True
    lines: bool = True


def gray_look(shape: tuple[int, ...]) -> GridLook:
    """A grayscale image grid: 0 black to 255 white; brush sizes once the grid is large."""
    large = max(shape) >= 16
    return GridLook(sizes=(1, 2, 3, 5) if large else (), size=1)


def channel_look(channel: int) -> GridLook:
    """One colour channel of an RGB image: 0 black to the channel's full colour."""
    full = tuple(255 if k == channel else 0 for k in range(3))
    name = ("red", "green", "blue")[channel]
    return GridLook(colours=("sequential", (0, 0, 0), full), max_cell=52,
                    brushes=((0, f"0 no {name}"), (128, f"128 half {name}"), (255, f"255 full {name}")))


def signed_look(limit: float) -> GridLook:
    """Signed values (a kernel): blue negative, white zero, red positive, as the app's signed pictures."""
    stops = dict(palette.SIGNED_COLORSCALE)
    return GridLook(colours=("diverging", palette.rgb(stops[0.1]), palette.rgb(stops[0.5]), palette.rgb(stops[0.9]),
                             float(limit) or 1.0),
                    brushes=((-1, "−1"), (0, "0"), (1, "1"), (2, "2")), brush=1, max_cell=48, min_cell=14)


DRAWING_HELP = ("Drag to draw a stroke; choose the brush above (white paints, black erases) and its size. "
                "Arrow keys and Space paint from the keyboard; Ctrl+Z undoes the last stroke.")


def drawing_look() -> GridLook:
    """The 28x28 drawing: a white brush on black, a few widths."""
    return GridLook(brushes=((255, "255 white (paint)"), (128, "128 gray"), (0, "0 black (erase)")),
                    sizes=(1, 2, 3, 4), size=2, max_cell=16, lines=False)


def _keys(key: str) -> tuple[str, str, str]:
    return f"{key}__ack", f"{key}__version", f"{key}__messages"


def reset_grid(key: str) -> None:
    """The matrix of grid ``key`` was replaced (a quick action, a link): forget its messages and
    its undo history in the browser."""
    _, version_key, messages_key = _keys(key)
    st.session_state[version_key] = st.session_state.get(version_key, 0) + 1
    st.session_state.pop(messages_key, None)


def _data(matrix: np.ndarray, key: str, limits: GridLimits, look: GridLook, label: str, help_text: str) -> dict:
    ack_key, version_key, _ = _keys(key)
    colours = look.colours
    if colours[0] == "diverging":
        scale = {"kind": "diverging", "neg": list(colours[1]), "zero": list(colours[2]), "pos": list(colours[3]),
                 "limit": float(colours[4])}
    else:
        scale = {"kind": "sequential", "low": list(colours[1]), "high": list(colours[2])}
    values = matrix.astype(int).tolist() if limits.whole else [[float(v) for v in row] for row in matrix]
    return {
        "values": values, "ack": st.session_state.get(ack_key, 0), "version": st.session_state.get(version_key, 0),
        "low": limits.low, "high": limits.high, "whole": limits.whole, "first_index": limits.first_index,
        "colours": scale, "label": label, "help": help_text,
        "brushes": [{"value": v, "label": text} for v, text in look.brushes], "brush": look.brush,
        "sizes": list(look.sizes), "size": look.size, "max_cell": look.max_cell, "min_cell": look.min_cell,
        "tools": look.tools, "lines": look.lines,
    }


def pixel_grid(
    matrix: np.ndarray,
    *,
    key: str,
    label: str,
    current: Callable[[], np.ndarray],
    store: Callable[[GridEdit], None],
    limits: GridLimits = PIXEL_LIMITS,
    look: GridLook | None = None,
    help_text: str = HELP,
) -> None:
    """Show ``matrix`` (2-D) as a grid to paint and type in; each edit from the browser is checked
    with ``limits`` against ``current()`` (the stored matrix now) and handed to ``store``.

    ``label`` names the grid for screen readers (``role="grid"``). ``store`` runs in the edit's
    callback: it saves ``edit.matrix`` (and may ``st.rerun`` fragments that show it). The fixes
    (``edit.messages``) are shown under the grid until the next edit.
    """
    ack_key, _, messages_key = _keys(key)

    def on_edit() -> None:
        component_state = st.session_state.get(key)
        message = component_state.get("edit") if component_state is not None else None
        if message is None:
            return
        edit = apply_edit(current(), message, limits)
        if edit.edit_id is not None:
            st.session_state[ack_key] = max(edit.edit_id, st.session_state.get(ack_key, 0))
        st.session_state[messages_key] = edit.messages
        store(edit)

    look = look or gray_look(matrix.shape)
    _component(key=key, data=_data(np.asarray(matrix), key, limits, look, label, help_text), on_edit_change=on_edit,
               width="stretch")
    show_messages(key)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def as_plain_text(message: str) -> str:
    """``message`` with every Markdown character escaped: it quotes what a student typed, which must
    show as typed (``**x**``, a link, an image address), never as formatting."""
    return _MARKDOWN.sub(r"\\\1", message)


def show_messages(key: str) -> None:
    """The fixes of grid ``key``'s last edit, as warnings (the first few, then a count)."""
    messages = st.session_state.get(_keys(key)[2], [])
    for message in messages[:MAX_MESSAGES]:
        st.warning(as_plain_text(message), icon=":material/warning:")
    if len(messages) > MAX_MESSAGES:
        st.warning(f"…and {len(messages) - MAX_MESSAGES} more cells were fixed the same way.",
                   icon=":material/warning:")


# --- uint8 matrices kept in session_state (the Pixels page's matrices, the drawing) -----------

def set_matrix(state_key: str, value: np.ndarray, *, grid_key: str | None = None) -> None:
    """Replace a stored matrix (a quick action, a resize, a link); with ``grid_key``, that grid's
    messages and undo history go too."""
    st.session_state[state_key] = np.asarray(value, dtype=np.uint8)
    if grid_key is not None:
        reset_grid(grid_key)


def matrix_grid(
    state_key: str,
    *,
    default: np.ndarray,
    key: str,
    label: str,
    channel: int | None = None,
    look: GridLook | None = None,
    help_text: str = HELP,
    rerun: tuple[str, ...] = (),
) -> np.ndarray:
    """A grid of the 0..255 matrix kept in ``st.session_state[state_key]`` (one ``channel`` of an
    (H, W, C) array when given); returns the matrix.

    ``rerun`` names keyed fragments to rerun after an edit (everything that shows this matrix),
    instead of only the fragment holding the grid.
    """
    if st.session_state.get(state_key) is None:
        st.session_state[state_key] = np.array(default, dtype=np.uint8)

    def plane() -> np.ndarray:
        array = st.session_state[state_key]
        return array if channel is None else array[..., channel]

    def store(edit: GridEdit) -> None:
        updated = st.session_state[state_key].copy()
        if channel is None:
            updated = edit.matrix.astype(np.uint8)
        else:
            updated[..., channel] = edit.matrix
        st.session_state[state_key] = updated
        if rerun:
            st.rerun(list(rerun))

    pixel_grid(plane(), key=key, label=label, current=plane, store=store, limits=PIXEL_LIMITS,
               look=look or gray_look(plane().shape), help_text=help_text)
    return st.session_state[state_key]
