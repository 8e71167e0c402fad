"""AppTest of the classroom panel: the presenter key, publishing, following and leaving, the join screen."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.core import classroom as cls
from cnnviz.ui import classroom
from tests.conftest import ROOT

KEY = "apptest-presenter-key"


@pytest.fixture(autouse=True)
def fresh_classroom(monkeypatch):
    """Each test starts with no presentation and a known key (the store is shared by the process)."""
    monkeypatch.setenv(classroom.PRESENTER_KEY_ENV, KEY)
    classroom.new_classroom()
    yield
    classroom.new_classroom()


def app(page: str = "pixels") -> AppTest:
    """The app opened on ``page`` (not Home: AppTest loses Home's sidebar on its reruns)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def type_key(at: AppTest, key: str) -> None:
    at.sidebar.text_input(key=classroom.KEY_TYPED_KEY).input(key)
    next(b for b in at.sidebar.button if b.label == "Start presenting").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def sidebar_texts(at: AppTest) -> str:
    """The sidebar's messages as plain text (Markdown's ** removed)."""
    return " ".join(e.value for kind in (at.sidebar.success, at.sidebar.info, at.sidebar.error)
                    for e in kind).replace("**", "")


def test_a_wrong_key_is_refused_in_words_and_publishes_nothing():
    at = app()
    type_key(at, "guess")
    assert "That is not the presenter key" in sidebar_texts(at)
    assert classroom.store().presentation() is None
    assert at.session_state[classroom.KEY_TYPED_KEY] == ""  # the typed key is not kept on screen


def test_wrong_keys_are_rate_limited():
    at = app()
    for _ in range(cls.KEY_ATTEMPTS):
        type_key(at, "guess")
    type_key(at, KEY)
    assert "Too many wrong keys" in sidebar_texts(at)
    assert classroom.store().presentation() is None


def test_the_right_key_starts_presenting_and_the_view_is_published():
    at = app("convolution")
    type_key(at, KEY)
    assert "Presenting · 0 following" in sidebar_texts(at)
    live = classroom.store().presentation()
    assert live is not None and live.page == "convolution"
    at.radio(key="conv_stride").set_value(2).run()
    assert classroom.store().presentation().params.get("stride") == "2"
    next(b for b in at.sidebar.button if b.label == "Stop presenting").click()
    at.run()
    assert classroom.store().presentation() is None
    assert "Presenting" not in sidebar_texts(at)


def test_a_forged_pass_in_session_state_is_not_a_presenter():
    at = app()
    at.session_state[classroom.PASS_KEY] = "forged-token"
    at.run()
    at.switch_page("pages/pooling.py")
    at.run()
    assert not at.exception
    assert classroom.store().presentation() is None
    assert "Presenting" not in sidebar_texts(at)


def test_a_student_sees_the_follow_panel_and_can_leave_and_rejoin():
    store = classroom.store()
    store.publish(store.new_pass(), "pixels", {})
    student = app()
    assert "Following the instructor" in sidebar_texts(student)
    assert store.following() == 1
    next(b for b in student.sidebar.button if b.label == "Stop following").click()
    student.run()
    assert "You stopped following: you chose to" in sidebar_texts(student)
    assert store.following() == 0
    next(b for b in student.sidebar.button if b.label == "Follow the instructor").click()
    student.run()
    assert "Following the instructor" in sidebar_texts(student)


def test_what_cannot_be_followed_is_said_in_words():
    store = classroom.store()
    note = "An uploaded image cannot travel in a link: whoever opens it sees the stairwell instead."
    store.publish(store.new_pass(), "pixels", {}, (note,))
    student = app()
    assert any("The instructor's view: An uploaded image" in c.value for c in student.sidebar.caption)


def test_the_join_screen_says_a_local_address_cannot_be_used(monkeypatch):
    monkeypatch.delenv(classroom.PUBLIC_URL_ENV, raising=False)
    at = app("join")
    assert any("only works on the computer that runs the server" in w.value for w in at.warning)
    assert at.metric[0].value == "0"


def test_the_join_screen_shows_the_public_address(monkeypatch):
    monkeypatch.setenv(classroom.PUBLIC_URL_ENV, "http://192.168.1.20:8501/")
    at = app("join")
    assert at.code[0].value == "http://192.168.1.20:8501/"
    assert not [w.value for w in at.warning]
