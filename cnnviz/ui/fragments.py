"""Fragments anchored in a container of the page's own, so a fragment run that follows a full run at
once cannot tear a hole in the page.

Why: when a fragment run starts, Streamlit 1.67 drops from the session's outgoing queue every
message of that fragment not yet sent to the browser (``ForwardMsgQueue.clear(...,
fragment_ids_this_run=...)``), the fragment's own container included, and keeps the page's
elements after it. A fragment run follows a full run at once whenever the browser asked for it
while the full run was still going: a picture reports it was painted (the Convolution lab's
result, the Pixels image), a grid edit, a timer (the classroom's polls). If the full run's last
messages were still queued, the browser then gets the elements after the fragment at positions
it does not have ("Bad delta path index 8 (should be between [0, 7])") and the whole app
disappears.

An anchored fragment is called inside an ``st.container()`` made outside it: that container
belongs to the page, so it stays in the queue; a dropped fragment leaves its slot empty rather
than a gap, and the fragment's own run fills the slot again. On screen nothing changes (a
container holding one container).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import streamlit as st


def anchored_fragment(
    func: Callable[..., Any] | None = None,
    *,
    key: str | None = None,
    run_every: float | timedelta | str | None = None,
) -> Callable[..., Any]:
    """``st.fragment`` (same ``key`` and ``run_every``), called inside a container of its own made
    outside it; use it for every fragment of the app. Works with and without arguments
    (``@anchored_fragment``, ``@anchored_fragment(key="lab")``). The fragment's return value is
    ``None`` as with ``st.fragment``."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        fragment = st.fragment(function, key=key, run_every=run_every)

        @functools.wraps(function)
        def anchored(*args: Any, **kwargs: Any) -> Any:
            with st.container():
                return fragment(*args, **kwargs)

        return anchored

    return decorate if func is None else decorate(func)
