"""Follow the instructor: a presenter's page and view published live, students' screens following it.

The instructor types the presenter key once (never in a link); that session then
publishes what its link holds (:func:`view_shown`, called by :func:`cnnviz.ui.links.sync`)
to the classroom store. Every other session polls the store's version from a small timed
fragment in the sidebar and, while following, switches to the published page and view.
A student who changes anything leaves follow mode with a one-line notice; one click
rejoins. The rules are in :mod:`cnnviz.core.classroom`; this module is the Streamlit side.

Only a session holding a pass from the store can publish: the pass is made on the server
when the right key is typed and kept in that session's state, which a browser cannot
write (widgets only set their own keys, and a forged value is not a pass the store made).
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import urllib.parse

import streamlit as st

from cnnviz.core import classroom as cls
from cnnviz.ui import frame, links
from cnnviz.ui.fragments import anchored_fragment

PRESENTER_KEY_ENV = "CNNVIZ_PRESENTER_KEY"
"""The presenter key set by the server's operator (one is generated and logged when unset)."""

REDIS_URL_ENV = "CNNVIZ_REDIS_URL"
"""The Redis every replica shares (e.g. ``redis://127.0.0.1:6379/0``); unset: this server's memory is the store."""

PUBLIC_URL_ENV = "CNNVIZ_PUBLIC_URL"
"""The address students open (the join screen shows it and its QR code)."""

PASS_KEY = "classroom_pass"
"""This session's presenter pass (a token made by the store), or absent: a student."""

FOLLOW_KEY = "classroom_follow"
"""This session's follow mode (cnnviz.core.classroom.Follow)."""

FOLLOWER_KEY = "classroom_follower"
"""A random name for this session, so the store counts each follower once."""

KEY_TYPED_KEY = "classroom_key_typed"
"""The presenter-key box."""

KEY_MESSAGE_KEY = "classroom_key_message"
"""What the last key typed got (a refusal in words)."""

PAGE_KEY = "classroom_page"
"""The page this session shows (its name as published: "home" or a link page's name)."""

PANEL_KEY = "classroom_panel"
"""The sidebar placeholder of this run's follow panel (redrawn when the student leaves later in the run)."""

PRESENTER_VIEW_KEY = "classroom_presenter_view"
"""Whether the presenter's screen uses the projector layout (larger type)."""

HOME = "home"
"""The Home page's name in a published view (it has no link parameters)."""

FOLLOWED_PAGES = {HOME: frame.HOME.path, **frame.LINK_PAGES}
"""Published page name -> its file: every page a follower can be switched to."""

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})
"""Host names only the server's own computer can open."""

PRESENTER_CSS = """
<style>
.stApp { font-size: 1.2rem; }
.stApp h1 { font-size: 3rem; }
.stApp h2, .stApp h3 { font-size: 2.1rem; }
.stApp [data-testid="stCaptionContainer"], .stApp [data-testid="stCaptionContainer"] p { font-size: 1.15rem; color: #222; }
.stApp [data-testid="stWidgetLabel"] p { font-size: 1.05rem; font-weight: 600; }
.stApp [data-testid="stMarkdownContainer"] p, .stApp [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
.stApp [data-testid="stImageCaption"] { font-size: 1.1rem; color: #111; }
</style>
"""
"""The projector layout: larger, darker type (fixed CSS, nothing anybody typed)."""


_LOCK = threading.Lock()
_CLASSROOM: dict[str, object] = {}
"""The server's store and presenter key, made once. Not in ``st.cache_resource`` on purpose: any
browser can send Streamlit's "clear cache" message, which empties every cached resource; a
student must not be able to end the presentation or change the key that way."""


def store() -> cls.ClassroomStore:
    """The classroom store every session of this server shares: in Redis when ``CNNVIZ_REDIS_URL`` names one
    (every replica then shares the class), else in this server's memory."""
    with _LOCK:
        if "store" not in _CLASSROOM:
            url = os.environ.get(REDIS_URL_ENV, "").strip()
            if url:
                # The redis client is imported only when a Redis is named.
                from cnnviz.core.classroom_redis import RedisClassroom

                _CLASSROOM["store"] = RedisClassroom.from_url(url)
            else:
                _CLASSROOM["store"] = cls.MemoryClassroom()
        return _CLASSROOM["store"]


def presenter_key() -> cls.PresenterKey:
    """The presenter key: ``CNNVIZ_PRESENTER_KEY``, or one generated when the server's first page runs,
    printed to the server's log (only its operator sees it)."""
    with _LOCK:
        if "key" not in _CLASSROOM:
            key = os.environ.get(PRESENTER_KEY_ENV, "").strip()
            if not key:
                key = cls.generated_key()
                print(f"cnnviz: the presenter key of this server is {key} (type it under 'Present to the "
                      f"class'; set {PRESENTER_KEY_ENV} to choose your own)", file=sys.stderr, flush=True)
            _CLASSROOM["key"] = cls.PresenterKey(key)
        return _CLASSROOM["key"]


def new_classroom() -> None:
    """Forget the store and the key (every presentation ends; the key is read again). For tests."""
    with _LOCK:
        _CLASSROOM.clear()


# --------------------------------------------------------------------------
# This session
# --------------------------------------------------------------------------


def is_presenter() -> bool:
    """Whether this session holds a presenter pass the store made."""
    return store().is_presenter(st.session_state.get(PASS_KEY))


def follow_state() -> cls.Follow:
    """This session's follow mode (following by default)."""
    follow = st.session_state.get(FOLLOW_KEY)
    if not isinstance(follow, cls.Follow):
        follow = st.session_state[FOLLOW_KEY] = cls.Follow()
    return follow


def _follower() -> str:
    name = st.session_state.get(FOLLOWER_KEY)
    if not isinstance(name, str):
        name = st.session_state[FOLLOWER_KEY] = secrets.token_hex(8)
    return name


def student_id() -> str:
    """This session's name in the store (counts it once as a follower, and its answers as one student's)."""
    return _follower()


def _client() -> str:
    """Who typed a key, for counting wrong keys: the browser's address when known, else this session."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context (tests): count per session
        address = None
    return f"ip:{address}" if isinstance(address, str) and address else f"session:{_follower()}"


def view_shown(page: str, params: dict[str, str], notes: tuple[str, ...] = ()) -> None:
    """A page showed this view (its link): publish it when presenting; when following, notice the
    student's own change and leave follow mode."""
    token = st.session_state.get(PASS_KEY)
    if token is not None:
        if store().is_presenter(token):
            store().publish(token, page, params, notes[:cls.MAX_NOTES])
        return
    follow = st.session_state.get(FOLLOW_KEY)
    if isinstance(follow, cls.Follow) and follow.page_shown(page, params):
        _left(follow)


def _left(follow: cls.Follow) -> None:
    """The student left follow mode in this run: count them out, say so, redraw the panel."""
    store().stopped_following(_follower())
    st.toast("You stopped following the instructor; your view stays yours. \"Follow the instructor\" in the "
             "sidebar takes you back.", icon=":material/person_off:")
    if links.in_fragment_run():
        st.rerun()  # the panel is outside this fragment: the whole page redraws it (once)
    live = store().presentation()
    if live is not None and st.session_state.get(PANEL_KEY) is not None:
        _draw_follow_panel(live)


# --------------------------------------------------------------------------
# The frame: called by app.py around every page
# --------------------------------------------------------------------------


def frame_run(page_name: str) -> None:
    """Call in app.py before the page runs: the sidebar's classroom panel, the projector layout for a
    presenter, and leaving follow mode when a following student opened another page themselves."""
    name = page_name or HOME
    st.session_state[PAGE_KEY] = name
    st.session_state[PANEL_KEY] = None  # drawn below, in this run
    if is_presenter():
        if st.session_state.get(PRESENTER_VIEW_KEY):
            st.html(PRESENTER_CSS)
        if name == HOME:  # a page without a link view: followers open it too (the join screen is not followed)
            store().publish(st.session_state[PASS_KEY], HOME, {})
    else:
        follow = st.session_state.get(FOLLOW_KEY)
        if isinstance(follow, cls.Follow) and follow.pending and follow.page != name:
            # A switch the browser overtook (it asked for its old page meanwhile): switch again.
            st.switch_page(FOLLOWED_PAGES[follow.page])
        if isinstance(follow, cls.Follow) and follow.page_shown(name, {} if name == HOME else None):
            _left(follow)
    from cnnviz.ui import questions  # it draws through this module's store

    presenting = is_presenter()
    paused = not store().available()
    with st.sidebar:
        if paused and not presenting:  # the presenter's own panel says it (it is redrawn every few seconds)
            paused_panel()
        if presenting:
            presenter_panel()
            questions.ask_panel(name)
            st.toggle("Projector layout", key=PRESENTER_VIEW_KEY,
                      help="Larger, darker type for the projector (only on your screen).")
        else:
            live = store().presentation()
            if live is not None:
                follow_poll()  # first (it also takes a new view): a run cut short still leaves the browser asking
                st.session_state[PANEL_KEY] = st.empty()
                _draw_follow_panel(live)
            elif not paused:
                idle_panel()
            key_form()
    questions.card(presenting)  # the question to the class, above the page


@anchored_fragment(run_every=cls.PAUSED_POLL_SECONDS)
def paused_panel() -> None:
    """The shared store cannot be reached: say that classroom features are paused (the page works alone),
    and redraw the page once it is back."""
    if store().available():
        st.rerun()
    st.warning(cls.PAUSED, icon=":material/cloud_off:")


@anchored_fragment(run_every=cls.IDLE_POLL_SECONDS)
def idle_panel() -> None:
    """No presentation live: ask now and then whether one started (then the page shows the follow panel)."""
    if store().presentation() is not None:
        st.rerun()


def key_form() -> None:
    """Where an instructor types the presenter key (outside any timed fragment, so typing is never redrawn)."""
    with st.expander("Present to the class", icon=":material/co_present:"):
        st.caption("For instructors: your page and settings appear on the screen of every student who follows.")
        with st.form("classroom_login", border=False, enter_to_submit=True):
            st.text_input("Presenter key", type="password", key=KEY_TYPED_KEY, max_chars=cls.MAX_KEY_CHARS,
                          help="Set by whoever runs the server (CNNVIZ_PRESENTER_KEY), or printed in the server's "
                               "log when its first page opens. Never put it in a link.")
            st.form_submit_button("Start presenting", icon=":material/cast:", on_click=_start_presenting)
        if message := st.session_state.get(KEY_MESSAGE_KEY):
            st.error(message, icon=":material/lock:")


def _start_presenting() -> None:
    typed = st.session_state.get(KEY_TYPED_KEY)
    st.session_state[KEY_TYPED_KEY] = ""
    check = presenter_key().check(typed, _client())
    if not check.accepted:
        st.session_state[KEY_MESSAGE_KEY] = check.message
        return
    try:
        token = store().new_pass()
    except cls.ClassroomPaused as exc:
        st.session_state[KEY_MESSAGE_KEY] = str(exc)
        return
    st.session_state[KEY_MESSAGE_KEY] = None
    st.session_state[PASS_KEY] = token
    follow_state().leave("you are presenting")
    if store().presentation() is None:  # live at once; the page the presenter is on follows in this run
        store().publish(token, HOME, {})


def _take(live: cls.Presentation | None) -> None:
    """When following and ``live`` is new to this session, show it: on the page this run shows, the
    page takes the view in this very run (a full run) or in the next one (a fragment reruns the app);
    another page is switched to."""
    follow = follow_state()
    taking = follow.to_take(live)
    if taking is None:
        return
    follow.taking(taking)
    links.reopen(taking.page, dict(taking.params))
    if taking.page != st.session_state.get(PAGE_KEY):
        st.switch_page(FOLLOWED_PAGES[taking.page], query_params=dict(taking.params))
    if links.in_fragment_run():
        st.rerun()


@anchored_fragment(run_every=cls.FOLLOW_POLL_SECONDS)
def follow_poll() -> None:
    """Every second while a presentation is live: anything new? (it draws nothing, so it costs little)."""
    live = store().presentation()
    if live is None:
        st.rerun()  # the presentation ended: the page drops the panel
    _take(live)
    follow = follow_state()
    if follow.wanted:
        store().still_following(_follower())
        shown = follow.shown if not follow.pending and follow.page == st.session_state.get(PAGE_KEY) else None
        if shown is not None and st.query_params.to_dict() != shown:
            st.query_params.from_dict(shown)  # the browser missed the URL of the view it shows: send it again
    from cnnviz.ui import questions

    if links.in_fragment_run() and questions.changed_since_shown():
        st.rerun()  # a question was posed, revealed or closed: the page draws it (once per change)


def _draw_follow_panel(live: cls.Presentation) -> None:
    """Following (with what cannot be followed, and a way out), or the offer to rejoin."""
    follow = follow_state()
    with st.session_state[PANEL_KEY].container():
        if follow.wanted:
            st.success("**Following the instructor**: your screen shows their page and settings. Change anything "
                       "to explore on your own.", icon=":material/cast_connected:")
            for note in live.notes:
                st.caption(":material/info: The instructor's view: " + links.as_text(note))
            st.button("Stop following", icon=":material/person_off:", on_click=_stop_following,
                      key="classroom_leave")
        else:
            st.info("**The instructor is presenting.**" + (f" You stopped following: {follow.left_because}."
                                                           if follow.left_because else ""), icon=":material/cast:")
            st.button("Follow the instructor", icon=":material/cast_connected:", type="primary",
                      on_click=follow.rejoin, key="classroom_rejoin")


def _stop_following() -> None:
    follow_state().leave("you chose to")
    store().stopped_following(_follower())


@anchored_fragment(run_every=cls.PRESENTER_POLL_SECONDS)
def presenter_panel() -> None:
    """The presenter's own panel: how many follow, the join screen, the projector layout, stop."""
    store().still_presenting(st.session_state.get(PASS_KEY))
    if not store().available():
        st.warning(cls.PAUSED, icon=":material/cloud_off:")
    st.success(f"**Presenting** · {following()} following", icon=":material/cast:")
    st.page_link(frame.JOIN.path, label="Join screen", icon=frame.JOIN.icon)
    st.button("Stop presenting", icon=":material/stop_circle:", on_click=_stop_presenting, key="classroom_stop")


def _stop_presenting() -> None:
    token = st.session_state.pop(PASS_KEY, None)
    if store().is_presenter(token):
        store().stop(token)
    follow_state().rejoin()


def following() -> int:
    """How many students follow the live presentation."""
    return store().following()


# --------------------------------------------------------------------------
# The join screen
# --------------------------------------------------------------------------


def public_url() -> tuple[str, bool]:
    """The address students open, and whether they can (False: only this computer knows it)."""
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip()
    if configured:
        address = configured
    else:
        try:
            seen = urllib.parse.urlsplit(st.context.url or "")
            address = f"{seen.scheme}://{seen.netloc}/" if seen.scheme and seen.netloc else "http://localhost:8501/"
        except Exception:  # noqa: BLE001 - no request context (tests)
            address = "http://localhost:8501/"
    host = (urllib.parse.urlsplit(address).hostname or "").lower()
    return address, not (host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127."))


@anchored_fragment(run_every=2)
def join_count() -> None:
    """How many follow, large, for the join screen (updated every 2 s)."""
    live = store().presentation() is not None
    st.metric("Following the instructor", following() if live else 0,
              help="Students whose screen follows the presentation now (counted within the last "
                   f"{cls.FOLLOWER_TIMEOUT:.0f} s).")
    if not live:
        st.caption("No presentation is live: start one under \"Present to the class\" in the sidebar.")
