"""The classroom store, the presenter key and the rules of following (cnnviz.core.classroom)."""

from __future__ import annotations

import threading

import pytest

from cnnviz.core import classroom as cls


def test_only_a_pass_the_store_made_can_publish(make_store):
    store = make_store()
    for forged in (None, True, "", "presenter", 1, ["x"], {"pass": True}):
        with pytest.raises(cls.NotPresenter):
            store.publish(forged, "convolution", {"stride": "2"})
    assert store.presentation() is None and store.version() == 0
    token = store.new_pass()
    assert store.is_presenter(token) and not store.is_presenter(token + "x")
    assert store.publish(token, "convolution", {"stride": "2"}) == 1
    assert store.presentation().params == {"stride": "2"}


def test_the_version_changes_only_when_the_view_does(make_store):
    store = make_store()
    token = store.new_pass()
    v1 = store.publish(token, "pooling", {"pool": "min"})
    assert store.publish(token, "pooling", {"pool": "min"}) == v1
    v2 = store.publish(token, "pooling", {"pool": "average"})
    assert v2 == v1 + 1 and store.version() == v2
    assert store.publish(token, "pooling", {"pool": "average"}, ("An uploaded image cannot travel.",)) == v2 + 1


def test_stopping_ends_the_presentation_and_withdraws_the_pass(make_store):
    store = make_store()
    token = store.new_pass()
    store.publish(token, "home", {})
    before = store.version()
    store.stop(token)
    assert store.presentation() is None and store.version() == before + 1
    assert not store.is_presenter(token)
    with pytest.raises(cls.NotPresenter):
        store.publish(token, "home", {})
    with pytest.raises(cls.NotPresenter):
        store.stop("forged")


@pytest.mark.parametrize("page, params, notes", [
    ("../etc", {}, ()), ("pixels", {"a": 1}, ()), ("pixels", {"a": "x" * (cls.MAX_PARAM_CHARS + 1)}, ()),
    ("pixels", {str(i): "1" for i in range(cls.MAX_PARAMS + 1)}, ()), ("pixels", [], ()),
    ("pixels", {}, ("x" * (cls.MAX_NOTE_CHARS + 1),)), ("pixels", {}, "not a tuple"), (None, {}, ()),
])
def test_a_malformed_view_is_refused_in_words(page, params, notes, make_store):
    store = make_store()
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        store.publish(store.new_pass(), page, params, notes)
    assert store.presentation() is None


def test_followers_are_counted_while_they_keep_saying_so(make_store):
    store = make_store()
    for i in range(3):
        store.still_following(f"s{i}", now=100.0)
    store.still_following("s0", now=104.0)
    assert store.following(now=104.0) == 3
    assert store.following(now=100.0 + cls.FOLLOWER_TIMEOUT + 0.1) == 1
    store.stopped_following("s0")
    assert store.following(now=104.0) == 2


def test_the_store_is_safe_under_many_threads(make_store):
    store = make_store()
    token = store.new_pass()

    def publish(n):
        for i in range(200):
            store.publish(token, "convolution", {"stride": str(n), "i": str(i)})
            store.still_following(f"{n}-{i % 5}")

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.version() == 800 and store.presentation().version == 800
    assert store.following() == 20


def test_the_key_is_checked_and_guessing_is_slowed_down():
    key = cls.PresenterKey("s3cret-key")
    assert key.check("s3cret-key", "a", now=0).accepted
    assert key.check("  s3cret-key ", "a", now=0).accepted  # pasted with spaces
    wrong = [key.check(guess, "b", now=1.0) for guess in ("x", None, 42, "s3cret-kez", "y" * 10_000)]
    assert not any(w.accepted for w in wrong)
    assert "not the presenter key" in wrong[0].message and "Type the presenter key" in wrong[1].message
    refused = key.check("s3cret-key", "b", now=2.0)  # even the right key waits once the tries are used up
    assert not refused.accepted and "Too many wrong keys" in refused.message and refused.wait_seconds > 0
    assert key.check("s3cret-key", "c", now=2.0).accepted  # another client is not affected
    assert key.check("s3cret-key", "b", now=1.0 + cls.KEY_WINDOW_SECONDS + 0.1).accepted


def test_a_generated_key_is_typable_and_different_each_time():
    keys = {cls.generated_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 10 and set(k) <= set(cls.GENERATED_KEY_ALPHABET) for k in keys)


def live(version: int, page: str = "convolution", **params: str) -> cls.Presentation:
    return cls.Presentation(version, page, params)


def test_a_follower_takes_each_new_version_once():
    follow = cls.Follow()
    assert follow.to_take(None) is None
    first = live(1, stride="2")
    assert follow.to_take(first) is first
    follow.taking(first)
    assert follow.to_take(first) is None
    assert follow.to_take(live(2, stride="3")).version == 2


def test_a_view_taken_but_never_shown_is_taken_again():
    follow = cls.Follow()
    first = live(1, stride="2")
    follow.taking(first, now=10.0)
    assert follow.to_take(first, now=10.0 + cls.RETAKE_SECONDS / 2) is None
    assert follow.to_take(first, now=10.0 + cls.RETAKE_SECONDS + 0.1) is first  # the switch was lost
    follow.page_shown("convolution", {"stride": "2"})
    assert follow.to_take(first, now=100.0) is None  # shown: nothing to take


def test_the_first_run_after_taking_a_view_sets_what_the_student_should_see():
    follow = cls.Follow()
    follow.taking(live(1, stride="2"))
    assert not follow.page_shown("convolution", None)  # the frame, before the page: still taking
    assert not follow.page_shown("convolution", {"stride": "2", "row": "5"})  # the page kept a cell inside
    assert follow.shown == {"stride": "2", "row": "5"}
    assert not follow.page_shown("convolution", {"stride": "2", "row": "5"})  # a rerun showing the same
    assert follow.wanted


def test_a_change_of_the_students_own_leaves_follow_mode():
    follow = cls.Follow()
    follow.taking(live(1, stride="2"))
    follow.page_shown("convolution", {"stride": "2"})
    assert follow.page_shown("convolution", {"stride": "3"})
    assert not follow.wanted and "stride" in follow.left_because
    assert follow.to_take(live(2, stride="1")) is None  # no longer pulled along
    follow.rejoin()
    assert follow.wanted and follow.to_take(live(2, stride="1")).version == 2  # snaps back to the current view


def test_opening_another_page_leaves_follow_mode():
    follow = cls.Follow()
    follow.taking(live(1, "pooling"))
    follow.page_shown("pooling", {})
    assert follow.page_shown("pixels", None) and "another page" in follow.left_because


def test_a_follower_that_never_took_a_view_and_a_leaver_are_left_alone():
    assert not cls.Follow().page_shown("pixels", {"img": "coins"})
    left = cls.Follow(wanted=False)
    assert not left.page_shown("pixels", {"img": "coins"})


def test_the_qr_code_is_a_png():
    png = cls.qr_png("http://192.168.1.20:8501/")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 500


def test_a_presentation_whose_presenter_is_gone_ends_and_comes_back_with_them(make_store):
    store = make_store()
    token = store.new_pass()
    store.publish(token, "pooling", {"pool": "min"})
    store.still_presenting(token, now=1000.0)
    assert store.presentation(now=1000.0 + cls.PRESENTER_TIMEOUT - 1) is not None
    assert store.presentation(now=1000.0 + cls.PRESENTER_TIMEOUT + 1) is None
    store.still_presenting("forged", now=5000.0)  # a forged pass keeps nothing alive
    assert store.presentation(now=1000.0 + cls.PRESENTER_TIMEOUT + 1) is None
    store.still_presenting(token, now=5000.0)
    assert store.presentation(now=5000.0).params == {"pool": "min"}
