"""Every page's view in its URL: read once when a link opens the page, kept in step as the view changes.

:mod:`cnnviz.core.share_link` names, reads and writes every parameter; this module
connects it to Streamlit. A page calls :func:`start` at its top (before its widgets: it
returns what the link asks for, to seed them), :func:`show` with the values it shows
(from any fragment: a fragment's rerun updates the URL at once), :func:`sync` at its end,
:func:`warn` for the one warning naming each ignored parameter, and :func:`caption` to
say that the address bar holds the view and what cannot travel in it.

Why not ``bind="query-params"``: a bound widget puts its *label* into the URL ("Max (the
course)"), so rewording a label breaks links already handed out; several of the view's
values are not widgets (the matrices, the kernel, the pixel explained) and are shared by
pages through session_state; and a bound parameter cannot be written through
``st.query_params``, while ``from_dict`` silently drops it, so two writers of one URL
would fight. One writer, with short stable values, is simpler and testable.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz.core import share_link
from cnnviz.core.convolution import ConvolutionSettings

READ_KEY = "links_read"
"""The pages whose link has been read in this session (a link is read once, when it opens the page)."""

PROBLEMS_KEY = "links_problems"
"""page -> the sentences naming what its link asked for and did not get."""

SHOWN_KEY = "links_shown"
"""page -> (name -> value) the page shows now, as :func:`show` reported it."""

SETTINGS_SHOWN_KEY = "links_settings_shown"
"""page -> the kernel and options it shows (Convolution and Pooling)."""

OPENING_KEY = "links_opening"
"""The page whose link is being read in this full run (until its :func:`sync`)."""

WARNING_KEY = "links_warning"
"""(page, the placeholder of its warning, how many sentences it shows) in the current full run."""

REOPEN_KEY = "links_reopen"
"""(page, link parameters): a view to take whole at that page's next run (a student following the
instructor, see :mod:`cnnviz.ui.classroom`), resetting what it leaves out to the defaults."""

RESEND_KEY = "links_resend"
"""The page whose URL is sent to the browser at its next sync even when the server thinks the browser
has it: after a switch of page, the browser may have missed the new URL (see :func:`reopen`)."""

CANNOT_FOLLOW_KEY = "links_cannot_follow"
"""page -> sentences saying what of the view shown cannot travel (an upload, a model trained here)."""

_MARKDOWN = "\\`*_[]$~<>|#{}"


def as_text(message: str) -> str:
    """A message quoting a URL's own text, shown as plain text (not Markdown, no links or pictures)."""
    return "".join("\\" + c if c in _MARKDOWN else c for c in message)


def query() -> dict[str, list[str]]:
    """The URL's parameters, each with all its values (a repeated key has several)."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def start(page: str, *, base: ConvolutionSettings | None = None) -> share_link.LinkView | None:
    """Call at the top of ``page``, before its widgets: what the URL asks for, the first time the
    page runs in this session (None afterwards: then the page's own controls lead).

    Also forgets what the page showed in its last full run, so :func:`show` rebuilds it.
    """
    st.session_state.setdefault(SHOWN_KEY, {})[page] = {}
    st.session_state.setdefault(CANNOT_FOLLOW_KEY, {})[page] = []
    read = st.session_state.setdefault(READ_KEY, set())
    if page in read:
        return None
    read.add(page)
    st.session_state[OPENING_KEY] = page
    asked, reopen = query(), st.session_state.get(REOPEN_KEY)
    whole = isinstance(reopen, tuple) and reopen[0] == page
    if whole:  # the view handed over, whole (defaults included), whatever URL this run came with
        st.session_state[REOPEN_KEY] = None
        asked, base = share_link.with_defaults(page, reopen[1]), None
        st.session_state[RESEND_KEY] = page
    try:
        view = share_link.read_query(page, asked, base=base)
        view.whole = whole
    except Exception as exc:  # noqa: BLE001 - a link must never break a page
        view = share_link.LinkView(problems=[f"The link could not be read ({type(exc).__name__}): the page "
                                             f"opens as usual."])
    st.session_state.setdefault(PROBLEMS_KEY, {})[page] = list(view.problems)
    return view


def reopen(page: str, params: dict[str, str]) -> None:
    """At ``page``'s next run, take ``params`` (link parameters) as its whole view: what they leave
    out goes back to the defaults. The session is about to be switched to a view someone else
    published; the run may still carry the browser's old URL, so the view is kept here, not read there."""
    st.session_state.setdefault(READ_KEY, set()).discard(page)
    st.session_state[REOPEN_KEY] = (page, dict(params))


def reset_absent(view: share_link.LinkView, widgets: dict[str, str], values: dict) -> None:
    """For a view taken whole: the widgets (link name -> widget key) whose parameter ``values`` leaves
    out go back to their defaults (their keys are dropped before they are drawn)."""
    if view.whole:
        for name, key in widgets.items():
            if name not in values:
                st.session_state.pop(key, None)


def cannot_travel(page: str, sentence: str) -> None:
    """Say that part of what ``page`` shows now cannot travel in its link (e.g. an upload): whoever
    follows this view is told so."""
    notes = st.session_state.setdefault(CANNOT_FOLLOW_KEY, {}).setdefault(page, [])
    if sentence not in notes:
        notes.append(sentence)


def ignored(page: str, message: str) -> None:
    """Add a sentence the page found itself (e.g. a layer the model does not have)."""
    problems = st.session_state.setdefault(PROBLEMS_KEY, {}).setdefault(page, [])
    if message not in problems:
        problems.append(message)


def keep_within(page: str, key: str, name: str, last: int, what: str) -> None:
    """Before the widget ``key`` is drawn: a linked value above ``last`` becomes ``last`` (a widget would
    refuse it), and the warning says so. ``what`` ends the sentence, e.g. "this layer has 64 filters"."""
    value = st.session_state.get(key)
    if isinstance(value, int) and value > last:
        st.session_state[key] = last
        if st.session_state.get(OPENING_KEY) == page:  # asked for by the link, not by a change since
            ignored(page, f"{name}={value} was ignored: {what} ({last} is shown).")


def problems(page: str) -> list[str]:
    """The sentences naming what ``page``'s link asked for and did not get."""
    return list(st.session_state.get(PROBLEMS_KEY, {}).get(page, []))


def warn(page: str) -> None:
    """One warning naming each ignored parameter of the link that opened ``page`` and why.

    Drawn into a placeholder, so what the page finds further down (a cell outside the
    picture) joins the same warning at :func:`sync`.
    """
    st.session_state[WARNING_KEY] = (page, st.empty(), 0)
    _draw_warning(page)


def _draw_warning(page: str) -> None:
    owner, placeholder, drawn = st.session_state.get(WARNING_KEY, (None, None, 0))
    found = problems(page)
    if owner != page or len(found) == drawn:
        return
    placeholder.warning("**Some of this link's settings were ignored**; the rest of the view is as linked.\n\n"
                        + "\n".join(f"- {as_text(p)}" for p in found), icon=":material/link_off:")
    st.session_state[WARNING_KEY] = (page, placeholder, len(found))


def show(page: str, settings: ConvolutionSettings | None = None, **values: Any) -> None:
    """Record values ``page`` shows now (None: not applicable, left out of the link).

    In a fragment's rerun the URL follows at once; in a full run, at :func:`sync`.
    """
    st.session_state.setdefault(SHOWN_KEY, {}).setdefault(page, {}).update(values)
    if settings is not None:
        st.session_state.setdefault(SETTINGS_SHOWN_KEY, {})[page] = settings
    if in_fragment_run():
        sync(page)


def sync(page: str, *, done: bool = True) -> None:
    """Make the URL carry what ``page`` shows (nothing is sent when it already does).

    At the end of a full run (``done``), also adds what the page found meanwhile to its warning.
    """
    if done and not in_fragment_run():
        _draw_warning(page)
        if st.session_state.get(OPENING_KEY) == page:
            st.session_state[OPENING_KEY] = None
    values = st.session_state.get(SHOWN_KEY, {}).get(page, {})
    settings = st.session_state.get(SETTINGS_SHOWN_KEY, {}).get(page)
    params = share_link.write_query(page, values, settings)
    resend = st.session_state.get(RESEND_KEY) == page
    if resend or params != st.query_params.to_dict() or any(len(st.query_params.get_all(k)) > 1
                                                            for k in st.query_params):
        st.query_params.from_dict(params)
        st.session_state[RESEND_KEY] = None
    # The view a link holds is also what an instructor publishes (imported here: classroom uses links).
    from cnnviz.ui import classroom

    classroom.view_shown(page, params, tuple(st.session_state.get(CANNOT_FOLLOW_KEY, {}).get(page, ())))


def caption(cannot_travel: list[str] | tuple[str, ...] = ()) -> None:
    """Say that the address bar holds this view (copy it to share), and what cannot travel in it."""
    notes = " ".join(cannot_travel)
    st.caption(":material/link: **Link to this view:** the address bar holds everything shown here; copy it to "
               "hand out this exact view. " + (notes or "Whoever opens it sees the same settings."))


def in_fragment_run() -> bool:
    """Whether this run is a fragment's (it can only draw inside that fragment)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))
