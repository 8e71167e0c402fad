"""An editable grid of 0..255 values kept in session_state, with every fix reported in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz.core import images


def _version_key(key: str) -> str:
    return f"{key}__version"


def set_matrix(state_key: str, value: np.ndarray, *, editor_key: str | None = None) -> None:
    """Replace a stored matrix and reset its editor (for quick actions and resizing)."""
    st.session_state[state_key] = np.asarray(value, dtype=np.uint8)
    if editor_key is not None:
        st.session_state[_version_key(editor_key)] = st.session_state.get(_version_key(editor_key), 0) + 1
        st.session_state.pop(f"{editor_key}__messages", None)
        st.session_state.pop(f"{editor_key}__base", None)


def matrix_editor(
    state_key: str,
    *,
    default: np.ndarray,
    key: str,
    channel: int | None = None,
    height: int | str = "auto",
    rerun: tuple[str, ...] = (),
) -> np.ndarray:
    """An editable grid of 0..255 values kept in ``st.session_state[state_key]``.

    Typing a non-number keeps the cell's value from before the grid's edits; values outside
    0..255 are clipped; each fix is reported under the grid in words. With
    ``channel``, edits one channel of an (H, W, C) array. ``rerun`` names keyed
    fragments to rerun after an edit (everything that shows this matrix), in
    that order, instead of Streamlit's default. Returns the matrix.
    """
    if st.session_state.get(state_key) is None:
        st.session_state[state_key] = np.array(default, dtype=np.uint8)
    version = st.session_state.get(_version_key(key), 0)
    editor_key = f"{key}__v{version}"
    messages_key = f"{key}__messages"
    base_key = f"{key}__base"
    if editor_key not in st.session_state or st.session_state.get(base_key) is None:
        # A new grid (first visit, back from another page, after a quick action): it shows the
        # matrix as it is now. The grid then keeps its own edits; re-sending it after every
        # edit would rebuild it in the browser, which is slow.
        array = st.session_state[state_key]
        st.session_state[base_key] = (array if channel is None else array[..., channel]).copy()
    base = st.session_state[base_key]

    def apply_edits() -> None:
        """Fold the grid's edits (all of them since the grid was built) into the stored matrix."""
        edits = st.session_state.get(editor_key, {}).get("edited_rows", {})
        cells = base.astype(object)
        for row, changes in edits.items():
            for col, value in changes.items():
                cells[int(row), int(col)] = value
        new_plane, messages = images.parse_cells(cells, base)
        updated = st.session_state[state_key].copy()
        if channel is None:
            updated = new_plane
        else:
            updated[..., channel] = new_plane
        st.session_state[state_key] = updated
        st.session_state[messages_key] = messages
        if rerun:
            st.rerun(list(rerun))

    frame = pd.DataFrame(base.astype(str), columns=[str(c) for c in range(base.shape[1])])
    st.data_editor(
        frame,
        key=editor_key,
        on_change=apply_edits,
        num_rows="fixed",
        height=height,
        column_config={
            str(c): st.column_config.TextColumn(str(c), width=40, help=f"Column {c}: a value from 0 to 255")
            for c in range(base.shape[1])
        },
    )
    for message in st.session_state.get(messages_key, [])[:8]:
        st.warning(message, icon=":material/warning:")
    extra = len(st.session_state.get(messages_key, [])) - 8
    if extra > 0:
        st.warning(f"…and {extra} more cells were fixed the same way.", icon=":material/warning:")
    return st.session_state[state_key]
