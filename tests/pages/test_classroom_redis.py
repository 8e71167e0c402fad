"""AppTest of the classroom panel with the Redis store (CNNVIZ_REDIS_URL): shared with another replica, paused
in words while Redis is down (the page keeps working), back when it returns."""

from __future__ import annotations

import time

import pytest

from cnnviz.core import classroom as cls
from cnnviz.core import classroom_redis as cr
from cnnviz.ui import classroom
from tests.conftest import require
from tests.pages.test_classroom import KEY, app, sidebar_texts, type_key


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    """A redis-server of this test's own, named by CNNVIZ_REDIS_URL; a fresh classroom store on it."""
    from tests.services import RedisServer, redis_server_path

    require(redis_server_path() is not None, "redis-server is not installed (scripts/test.sh installs it)")
    server = RedisServer(tmp_path / "redis").start()
    monkeypatch.setenv(classroom.REDIS_URL_ENV, server.url)
    monkeypatch.setenv(classroom.PRESENTER_KEY_ENV, KEY)
    classroom.new_classroom()
    yield server
    classroom.new_classroom()
    server.stop()


def warnings(at) -> str:
    return " ".join(w.value for w in at.sidebar.warning)


def test_a_presentation_goes_to_redis_where_another_replica_reads_it(own_redis):
    at = app("pooling")
    assert isinstance(classroom.store(), cr.RedisClassroom)
    type_key(at, KEY)
    other_replica = cr.RedisClassroom.from_url(own_redis.url)
    live = other_replica.presentation()
    assert live is not None and live.page == "pooling"
    assert "Presenting" in sidebar_texts(at)


def test_without_redis_the_page_works_and_says_classroom_features_are_paused(own_redis):
    at = app("convolution")
    type_key(at, KEY)
    own_redis.stop()
    started = time.monotonic()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Classroom features are paused" in warnings(at)
    assert at.get("imgs") or at.get("image"), "the page itself is still drawn"
    assert time.monotonic() - started < 20
    own_redis.start()
    time.sleep(cls.PAUSED_POLL_SECONDS + 0.2)  # the remembered failure runs out
    at.run()
    assert not at.exception and "paused" not in warnings(at)
    assert "Presenting" in sidebar_texts(at)  # the presenter's pass was written back by this replica
    assert cr.RedisClassroom.from_url(own_redis.url).presentation().page == "convolution"


def test_a_student_can_still_use_the_page_and_is_told_why_nothing_is_followed(own_redis):
    own_redis.stop()
    at = app("pixels")
    assert "Classroom features are paused" in warnings(at)
    type_key(at, KEY)  # a presenter cannot start while the store is unreachable: said in words
    assert "paused" in " ".join(e.value for e in at.sidebar.error)
