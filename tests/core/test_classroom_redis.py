"""The Redis classroom store across replicas, when Redis is unreachable, and after it restarts empty
(cnnviz.core.classroom_redis), against a real redis-server of the test's own."""

from __future__ import annotations

import time

import pytest

from cnnviz.core import classroom as cls
from cnnviz.core import classroom_redis as cr
from cnnviz.core import questions as qs
from tests.conftest import require


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server only this test uses (it is killed and restarted)."""
    from tests.services import RedisServer, redis_server_path

    require(redis_server_path() is not None, "redis-server is not installed (scripts/test.sh installs it)")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def replicas(server, n=2):
    return [cr.RedisClassroom.from_url(server.url, prefix="class:") for _ in range(n)]


def free(right=1):
    return qs.free_question("Which one?", "a\nb\nc", right)


def wait_available(store, timeout=10.0):
    """Until ``store`` reaches Redis again and has checked (and written back) what Redis holds."""
    time.sleep(cr.EPOCH_CHECK_SECONDS + 0.05)
    store.version()  # a lost connection is noticed here (or silently reconnected)
    deadline = time.monotonic() + timeout
    while not store.available():
        assert time.monotonic() < deadline, "the store did not come back"
        time.sleep(0.1)


def test_two_replicas_share_the_presentation_followers_and_answers(redis_server):
    a, b = (cr.RedisClassroom.from_url(redis_server.url, prefix="shared-1:") for _ in range(2))
    token = a.new_pass()
    assert b.is_presenter(token) and not b.is_presenter(token + "x")
    version = a.publish(token, "convolution", {"kernel": "sobel_x"})
    assert b.version() == version and b.presentation().params == {"kernel": "sobel_x"}
    a.still_following("on-a")
    b.still_following("on-b")
    assert a.following() == b.following() == 2
    q = a.pose(token, free())
    assert b.question_version() == a.question_version() and b.question().number == q.number
    a.answer(q.number, "ann", 0)
    b.answer(q.number, "bob", 1)
    assert a.tally() == b.tally() == qs.Tally(q.number, 2, (1, 1, 0))
    with pytest.raises(cls.NotPresenter):
        b.publish("forged", "pixels", {})
    b.stop(token)  # a pass works on every replica
    assert a.presentation() is None and a.question() is None and len(a.history()) == 1


def test_an_unreachable_redis_pauses_at_once_and_pages_keep_working(own_redis):
    store, = replicas(own_redis, 1)
    token = store.new_pass()
    store.publish(token, "pooling", {"pool": "min"})
    q = store.pose(token, free())
    own_redis.stop()
    started = time.monotonic()
    assert not store.available()
    assert store.presentation() is None and store.question() is None and store.following() == 0
    assert store.version() >= 1 and store.tally().answered == 0 and store.history() == ()
    assert store.is_presenter(token) and not store.is_presenter("forged")  # this replica's presenter stays one
    assert store.publish(token, "pooling", {"pool": "average"}) >= 1  # kept, written once Redis is back
    with pytest.raises(cls.ClassroomPaused, match="paused"):
        store.answer(q.number, "ann", 0)
    with pytest.raises(cls.ClassroomPaused):
        store.pose(token, free())
    assert time.monotonic() - started < 1.0, "a dead Redis must not hold up a page run"


def test_a_restarted_empty_redis_is_written_back_by_the_replicas(own_redis):
    presenter_replica, student_replica = replicas(own_redis)
    token = presenter_replica.new_pass()
    v = presenter_replica.publish(token, "convolution", {"stride": "2"})
    first = presenter_replica.pose(token, free())
    presenter_replica.close(token, first.number)
    q = presenter_replica.pose(token, free())
    presenter_replica.answer(q.number, "ann", 0)
    student_replica.answer(q.number, "bob", 2)
    student_replica.answer(q.number, "cem", 2)
    before = student_replica.tally()

    own_redis.restart()  # empty: no persistence
    for store in (presenter_replica, student_replica):
        wait_available(store)
    assert student_replica.is_presenter(token)
    live = student_replica.presentation()
    assert live is not None and live.params == {"stride": "2"} and live.version == v  # followers need not redraw
    assert student_replica.question().number == q.number
    assert student_replica.tally() == before  # nothing counted is lost
    assert [r.question.number for r in student_replica.history()] == [first.number]
    with pytest.raises(qs.AnswerRefused, match="already your answer"):
        student_replica.answer(q.number, "bob", 2)
    assert presenter_replica.pose(token, free()).number == q.number + 1  # numbers go on


def test_while_the_class_is_written_back_a_replica_answers_what_it_last_saw(own_redis):
    presenter_replica, student_replica = replicas(own_redis)
    token = presenter_replica.new_pass()
    presenter_replica.publish(token, "pooling", {"pool": "min"})
    q = presenter_replica.pose(token, free())
    seen = (student_replica.version(), student_replica.question_version(), student_replica.presentation(),
            student_replica.question())
    own_redis.restart()
    time.sleep(cr.EPOCH_CHECK_SECONDS + 0.05)
    student_replica.version()  # notices the emptied Redis first; the presenter's replica has not written back yet
    wait_available(student_replica)
    assert (student_replica.version(), student_replica.question_version(), student_replica.presentation(),
            student_replica.question()) == seen  # followers see no change: nobody drops out or redraws
    with pytest.raises(cls.ClassroomPaused):
        student_replica.answer(q.number, "ann", 0)  # said in words: answer again in a moment
    wait_available(presenter_replica)
    assert student_replica.answer(q.number, "ann", 0).answered == 1
    assert (student_replica.version(), student_replica.question_version()) == seen[:2]


def test_an_answer_given_after_the_restart_wins_over_the_written_back_one(own_redis):
    a, b = replicas(own_redis)
    token = a.new_pass()
    a.publish(token, "pixels", {})
    q = a.pose(token, free())
    b.answer(q.number, "bob", 0)
    own_redis.restart()
    wait_available(a)  # the presenter's replica writes back first; bob answers again on replica a
    a.answer(q.number, "bob", 1)
    wait_available(b)  # b writes back bob's old answer only where none is set
    assert a.answer_of(q.number, "bob") == 1 and a.tally().counts == (0, 1, 0)


def test_a_stop_while_redis_is_unreachable_ends_the_presentation_once_it_is_back(own_redis):
    store, = replicas(own_redis, 1)
    token = store.new_pass()
    store.publish(token, "pixels", {})
    own_redis.stop()
    store.version()
    store.stop(token)
    assert not store.is_presenter(token)
    own_redis.start()
    wait_available(store)
    assert store.presentation() is None and not store.is_presenter(token)


def test_stored_questions_round_trip_as_json_not_pickle():
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    q = qs.Question("kernel", "Which?", (qs.Choice("a", png), qs.Choice("b")), 0, pictures=((png, "x"),),
                    number=3, state=qs.REVEALED, posed_at=12.5)
    text = cr.question_to_json(q)
    assert text.startswith("{") and cr.question_from_json(text) == q
    record = qs.QuestionRecord(q, qs.Tally(3, 2, (1, 1)))
    assert cr.record_from_json(cr.record_to_json(record)) == record


def test_a_hung_redis_holds_a_call_up_at_most_its_timeout_once(own_redis):
    import signal

    store, = replicas(own_redis, 1)
    assert store.available()
    time.sleep(cr.EPOCH_CHECK_SECONDS)
    own_redis.proc.send_signal(signal.SIGSTOP)  # alive but not answering
    try:
        started = time.monotonic()
        assert store.presentation() is None
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(20):
            store.version(), store.question(), store.following()
        after = time.monotonic() - started
    finally:
        own_redis.proc.send_signal(signal.SIGCONT)
    assert first < 3 * cr.SOCKET_TIMEOUT and after < 0.1, (first, after)


def test_a_short_outage_keeps_what_followers_saw_a_long_one_pauses(own_redis, monkeypatch):
    monkeypatch.setattr(cr, "BLIP_SECONDS", 1.0)
    store, = replicas(own_redis, 1)
    token = store.new_pass()
    store.publish(token, "pooling", {"pool": "min"})
    q = store.pose(token, free())
    seen = store.presentation(), store.question()
    own_redis.stop()
    assert (store.presentation(), store.question()) == seen  # a blip: followers keep their page
    assert not store.available()
    time.sleep(1.1)
    assert store.presentation() is None and store.question() is None  # a real outage: paused, said in words
    own_redis.start()
    wait_available(store)
    assert store.presentation().params == {"pool": "min"} and store.question().number == q.number
