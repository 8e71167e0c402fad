"""The classroom store in Redis: one class shared by several replicas of the app (``CNNVIZ_REDIS_URL``).

It implements :class:`cnnviz.core.classroom.ClassroomStore` with the same rules as
:class:`~cnnviz.core.classroom.MemoryClassroom` (the same behavioural tests run against both).
What must be atomic is: a publish compares the view and increments the version in one Lua
script; an answer is checked (question open, choice valid, not the same again, class not full)
and written in one Lua script, so no answer is counted twice or lost between replicas; the
presenter's pose, reveal and close hold a short Redis lock, and a question is first marked
"filing" atomically (answers are refused from then on) before its tally goes into the history.
Presenter passes are keys with an expiry (refreshed while the presenter's screen is there);
followers are a sorted set scored by the time of their last "still here".

**Redis unreachable.** Every call has short socket timeouts (:data:`SOCKET_TIMEOUT`) and a
failure is remembered for :data:`RETRY_SECONDS`, so a page run never waits on a dead Redis
more than once and never long: for the first :data:`BLIP_SECONDS` reads answer what the replica
last saw (a restart bridged without every follower redrawing), then "nothing live" (each student's page works alone),
:meth:`RedisClassroom.available` is False (the panels say classroom features are paused) and
changes raise :class:`~cnnviz.core.classroom.ClassroomPaused` in words. After that the next
call reconnects.

**Source of truth after a Redis restart without persistence.** The replicas. Each replica
remembers what went through it: the passes it handed out, the presenter's last view, the
question it posed (with its number and state) and this class's history it filed, and the
answers its own students gave to the current question. Redis holds a random ``epoch`` made
when the data were first written; a replica that finds the epoch changed or gone (checked at
most every :data:`EPOCH_CHECK_SECONDS`, and after every reconnect) writes all of that back:
the passes, the view (with a version above the one followers last saw, so they take it once
more), the question under the same number, the history when Redis has none, and its
students' answers with "set only if not set" (an answer given after the restart wins). Lost
are only the followers' count until their next heartbeat (a second) and anything held by a
replica that itself stopped.

Core layer: plain Python and the ``redis`` client (no numpy, no Streamlit); imported only when
``CNNVIZ_REDIS_URL`` is set (see ``.importlinter``: no other module may import ``redis``).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from cnnviz.core import classroom as cls
from cnnviz.core import questions as qs

DEFAULT_PREFIX = "cnnviz:"
"""Every key this store writes starts with this (several classes can share one Redis with other prefixes)."""

SOCKET_TIMEOUT = 0.2
"""Seconds a call waits for Redis (to connect, and for an answer) before classroom features pause."""

RETRY_SECONDS = 3.0
"""After a failed call, Redis is not asked again for this long (every read answers at once meanwhile)."""

BLIP_SECONDS = 6.0
"""For this long after Redis stopped answering, reads answer what this replica last saw (a Redis restarted by
its supervisor is back within a second or two: followers keep their page instead of all redrawing it twice);
after that they answer "nothing live" and the panels say classroom features are paused."""

EPOCH_CHECK_SECONDS = 1.0
"""How often a replica checks that Redis still holds the data it wrote (an emptied Redis is written back)."""

RESTORE_GRACE_SECONDS = 5.0
"""After an emptied Redis is noticed, reads that find nothing answer what this replica last saw, this long:
the replica holding the presenter writes the class back meanwhile, and followers do not drop out (or redraw
their pages all at once) in between."""

PASS_TTL_SECONDS = 12 * 3600
"""A presenter pass expires after this long without a sign of its screen (every sign renews it)."""

KEY_TTL_SECONDS = 24 * 3600
"""Answers and questions are dropped after a day untouched (a forgotten class does not stay in Redis)."""

LOCK_SECONDS = 2.0
"""The presenter's pose/reveal/close lock: held at most this long."""

FOLLOWER_TRIM_EVERY = 64
"""Every this many heartbeats, followers gone for long are removed from the sorted set."""

ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
"""What an unreachable or restarting Redis raises."""

T = TypeVar("T")

_PUBLISH = """
redis.call('SET', KEYS[4], ARGV[2])
if redis.call('HGET', KEYS[3], 'view') == ARGV[1] then
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
local v = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], 'view', ARGV[1], 'version', v, 'published_at', ARGV[3])
return v
"""
"""KEYS: view's hash 'live' is KEYS[3]; version KEYS[2]; presenter_seen KEYS[4]. The same view: the version stays."""

_ANSWER = """
local current = tonumber(redis.call('HGET', KEYS[1], 'number') or '0')
local number = tonumber(ARGV[1])
if current ~= number then
  local last = tonumber(redis.call('GET', KEYS[3]) or '0')
  if number >= 1 and number <= last then return {'closed'} end
  return {'none'}
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'revealed' then return {'revealed'} end
if state ~= 'open' then return {'closed'} end
local count = tonumber(redis.call('HGET', KEYS[1], 'choices'))
local choice = tonumber(ARGV[3])
if choice < 0 or choice >= count then return {'choice'} end
local before = redis.call('HGET', KEYS[2], ARGV[2])
if before == ARGV[3] then return {'same'} end
if not before and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then return {'full'} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
local counts = {}
for i = 1, count do counts[i] = 0 end
local values = redis.call('HVALS', KEYS[2])
for _, v in ipairs(values) do local c = tonumber(v) + 1; counts[c] = counts[c] + 1 end
return {'ok', #values, unpack(counts)}
"""
"""One answer, checked and counted atomically: KEYS qstate, answers:<n>, last_number; ARGV number, student,
choice (-1: not a choice), the class's limit, the answers' expiry. A refusal comes back as its reason."""

_TALLY = """
local number = tonumber(redis.call('HGET', KEYS[1], 'number') or '0')
if number == 0 then return {0, 0} end
local count = tonumber(redis.call('HGET', KEYS[1], 'choices'))
local counts = {}
for i = 1, count do counts[i] = 0 end
local values = redis.call('HVALS', ARGV[1] .. number)
for _, v in ipairs(values) do local c = tonumber(v) + 1; counts[c] = counts[c] + 1 end
return {number, #values, unpack(counts)}
"""
"""The current question's tally in one call: KEYS qstate; ARGV the answers keys' prefix."""

_RESTORE_VIEW = """
if redis.call('HEXISTS', KEYS[2], 'view') == 1 then return 0 end
local v = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[2]))
redis.call('SET', KEYS[1], v)
redis.call('HSET', KEYS[2], 'view', ARGV[1], 'version', v, 'published_at', ARGV[3])
return v
"""
"""The presenter's view written back under the version followers last saw (so they do not take it again),
unless a view was published since: KEYS version, live; ARGV view, version, now."""

_RAISE_TO = """
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]); return tonumber(ARGV[1]) end
return now
"""
"""A counter set to at least ARGV[1] (restoring a version or a question number after a restart)."""


# --------------------------------------------------------------------------
# What is stored, as JSON (pictures as base64; never pickle)
# --------------------------------------------------------------------------


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def question_to_json(question: qs.Question) -> str:
    """``question`` as JSON text (PNG bytes as base64)."""
    fields = asdict(question)
    fields["choices"] = [{"label": c.label, "picture": _b64(c.picture)} for c in question.choices]
    fields["pictures"] = [[_b64(p), caption] for p, caption in question.pictures]
    return json.dumps(fields)


def question_from_json(text: str | bytes) -> qs.Question:
    """The question :func:`question_to_json` wrote."""
    fields = json.loads(text)
    fields["choices"] = tuple(qs.Choice(c["label"], _unb64(c["picture"])) for c in fields["choices"])
    fields["pictures"] = tuple((_unb64(p), caption) for p, caption in fields["pictures"])
    return qs.Question(**fields)


def _without_pictures(question: qs.Question) -> qs.Question:
    return replace(question, pictures=(), choices=tuple(qs.Choice(c.label) for c in question.choices))


def record_to_json(record: qs.QuestionRecord) -> str:
    """One question of the history as JSON text (its pictures were dropped when it was filed)."""
    return json.dumps({"question": json.loads(question_to_json(record.question)),
                       "tally": [record.tally.number, record.tally.answered, list(record.tally.counts)]})


def record_from_json(text: str | bytes) -> qs.QuestionRecord:
    """The record :func:`record_to_json` wrote."""
    fields = json.loads(text)
    number, answered, counts = fields["tally"]
    return qs.QuestionRecord(question_from_json(json.dumps(fields["question"])), qs.Tally(number, answered, tuple(counts)))


def _view_json(page: str, params: Mapping[str, str], notes: tuple[str, ...]) -> str:
    return json.dumps([page, dict(params), list(notes)], sort_keys=True, separators=(",", ":"))


def _as_tally(reply: list) -> qs.Tally:
    number, answered, *counts = (int(v) for v in reply)
    return qs.Tally(number, answered, tuple(counts))


class RedisClassroom:
    """The classroom store shared through Redis by every replica (thread-safe; one per server process).

    ``client`` is a ``redis.Redis``; :meth:`from_url` makes one with the short timeouts this store
    relies on. ``prefix`` starts every key (tests give each test its own).
    """

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self._r = client
        self._p = prefix
        self._publish = client.register_script(_PUBLISH)
        self._answer = client.register_script(_ANSWER)
        self._tally = client.register_script(_TALLY)
        self._raise_to = client.register_script(_RAISE_TO)
        self._restore_view = client.register_script(_RESTORE_VIEW)
        self._grace_until = 0.0
        self._down_since: float | None = None
        self._last_question: qs.Question | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._epoch: str | None = None
        self._epoch_checked = 0.0
        self._heartbeats = 0
        # What went through this replica: written back when Redis lost its data (see the module's docstring).
        self._issued: set[str] = set()
        self._stops: set[str] = set()
        self._view: tuple[str, str, dict[str, str], tuple[str, ...]] | None = None  # token, page, params, notes
        self._version = 0
        self._question: qs.Question | None = None
        self._question_version = 0
        self._last_number = 0
        self._answers: tuple[int, dict[str, int]] = (0, {})
        self._records: list[qs.QuestionRecord] = []
        self._live_cache: tuple[bytes, cls.Presentation] | None = None
        self._question_cache: tuple[tuple, qs.Question] | None = None

    @classmethod
    def from_url(cls_, url: str, prefix: str = DEFAULT_PREFIX) -> RedisClassroom:
        """A store on the Redis at ``url`` (``redis://host:port/db`` or ``unix:///path.sock``), with
        :data:`SOCKET_TIMEOUT` and no retries: a dead Redis is noticed in a fraction of a second."""
        client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
                                      retry=Retry(NoBackoff(), 0), health_check_interval=0)
        return cls_(client, prefix)

    # -- reaching Redis -----------------------------------------------------------------

    def _k(self, name: str) -> str:
        return self._p + name

    def available(self) -> bool:
        return self._call(lambda r: bool(r.ping()), lambda: False)

    def _call(self, work: Callable[[redis.Redis], T], paused: Callable[[], T]) -> T:
        """``work(client)``, or ``paused()`` while Redis is unreachable (a failure is remembered a while)."""
        if time.monotonic() < self._down_until:
            return paused()
        try:
            self._check_epoch()
            done = work(self._r)
            self._down_since = None
            return done
        except ERRORS:
            with self._lock:
                now = time.monotonic()
                self._down_until = now + RETRY_SECONDS
                self._down_since = now if self._down_since is None else self._down_since
                self._epoch_checked = 0.0  # check (and write back) first thing once it answers again
            return paused()

    def _blip(self) -> bool:
        """Whether Redis stopped answering only moments ago (:data:`BLIP_SECONDS`)."""
        since = self._down_since
        return since is not None and time.monotonic() - since < BLIP_SECONDS

    def _in_grace(self) -> bool:
        return time.monotonic() < self._grace_until

    def _change(self, work: Callable[[redis.Redis], T]) -> T:
        """``work(client)`` for a change; :class:`ClassroomPaused` in words while Redis is unreachable."""
        def paused() -> T:
            raise cls.ClassroomPaused(cls.PAUSED)
        return self._call(work, paused)

    def _check_epoch(self) -> None:
        """Every :data:`EPOCH_CHECK_SECONDS`: is Redis still holding our data? If not, write it back."""
        now = time.monotonic()
        if now - self._epoch_checked < EPOCH_CHECK_SECONDS:
            return
        epoch_key = self._k("epoch")
        self._r.set(epoch_key, secrets.token_hex(8), nx=True)
        epoch = self._r.get(epoch_key)
        with self._lock:
            first = self._epoch is None
            changed = self._epoch != epoch
            self._epoch, self._epoch_checked = epoch, now
            stops, self._stops = self._stops, set()
        for token in stops:
            self._stop(self._r, token)
        if changed and not first:
            self._grace_until = time.monotonic() + RESTORE_GRACE_SECONDS
            self.restore()

    def restore(self) -> None:
        """Write back what went through this replica (Redis lost its data): passes, the presenter's view, the
        question and the history, this replica's students' answers. Safe to call any time (nothing is doubled)."""
        r = self._r
        with self._lock:
            issued, view, version = set(self._issued), self._view, self._version
            question, question_version, last_number = self._question, self._question_version, self._last_number
            (answered_number, answers), records = (self._answers[0], dict(self._answers[1])), list(self._records)
        for token in issued:
            r.set(self._k("pass:" + token), "1", ex=PASS_TTL_SECONDS)
            r.sadd(self._k("passes"), token)
        if issued:
            r.set(self._k("presenter_seen"), repr(time.time()))
        if view is not None and view[0] in issued:
            now = repr(time.time())
            self._restore_view(keys=[self._k("version"), self._k("live")],
                               args=[_view_json(*view[1:]), version, now])
        if last_number:
            self._raise_to(keys=[self._k("last_number")], args=[last_number])
        if question is not None and not r.exists(self._k("qstate")):
            self._write_question(r, question)
            self._raise_to(keys=[self._k("question_version")], args=[question_version])  # nobody redraws
        if records and not r.exists(self._k("history")):
            r.rpush(self._k("history"), *[record_to_json(rec) for rec in records])
        if answered_number and answers:
            key = self._k(f"answers:{answered_number}")
            pipe = r.pipeline(transaction=False)
            for student, choice in answers.items():
                pipe.hsetnx(key, student, str(choice))
            pipe.expire(key, KEY_TTL_SECONDS)
            pipe.execute()

    # -- presenting ------------------------------------------------------------------------

    def new_pass(self) -> str:
        token = secrets.token_urlsafe(24)

        def work(r: redis.Redis) -> str:
            pipe = r.pipeline()
            pipe.set(self._k("pass:" + token), "1", ex=PASS_TTL_SECONDS)
            pipe.sadd(self._k("passes"), token)
            pipe.set(self._k("presenter_seen"), repr(time.time()))
            pipe.execute()
            with self._lock:
                self._issued.add(token)
            return token
        return self._change(work)

    def is_presenter(self, token: object) -> bool:
        if not isinstance(token, str) or not token or len(token) > 100:
            return False
        # While Redis is unreachable, a pass this replica handed out still counts (its presenter stays one).
        return self._call(lambda r: bool(r.exists(self._k("pass:" + token))), lambda: token in self._issued)

    def _run_publish(self, r: redis.Redis, page: str, params: Mapping[str, str], notes: tuple[str, ...]) -> int:
        now = repr(time.time())
        keys = [self._k("view"), self._k("version"), self._k("live"), self._k("presenter_seen")]
        return int(self._publish(keys=keys, args=[_view_json(page, params, notes), now, now], client=r))

    def publish(self, token: object, page: str, params: Mapping[str, str], notes: tuple[str, ...] = ()) -> int:
        if not self.is_presenter(token):
            raise cls.NotPresenter("only the instructor's session can publish a view")
        page, clean, notes = cls.check_view(page, params, notes)
        with self._lock:
            self._view = (token, page, clean, notes)  # written back if Redis loses it, and once it answers again

        def work(r: redis.Redis) -> int:
            version = self._run_publish(r, page, clean, notes)
            with self._lock:
                self._version = version
            return version
        return self._call(work, lambda: self._version)

    def stop(self, token: object) -> None:
        if not self.is_presenter(token):
            raise cls.NotPresenter("only the instructor's session can end the presentation")
        with self._lock:
            self._issued.discard(token)
            if self._view is not None and self._view[0] == token:
                self._view = None

        def paused() -> None:
            with self._lock:
                self._stops.add(token)  # ended here at once; in Redis as soon as it answers again
        self._call(lambda r: self._stop(r, token), paused)

    def _stop(self, r: redis.Redis, token: str) -> None:
        r.delete(self._k("pass:" + token))
        r.srem(self._k("passes"), token)
        alive = [t.decode() for t in r.smembers(self._k("passes"))]
        gone = [t for t in alive if not r.exists(self._k("pass:" + t))]
        if gone:
            r.srem(self._k("passes"), *gone)
        if len(gone) < len(alive):
            return  # another presenter tab still presents
        with r.lock(self._k("lock"), timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS, raise_on_release_error=False):
            pipe = r.pipeline()
            pipe.incr(self._k("version"))
            pipe.delete(self._k("live"), self._k("view"), self._k("followers"))
            version = pipe.execute()[0]
            with self._lock:
                self._version, self._live_cache, self._last_question = version, None, None
            if self._file_current(r, close=True):  # the class is over: its question too
                self._bump_question_version(r)

    def still_presenting(self, token: object, now: float | None = None) -> None:
        if not isinstance(token, str):
            return

        def work(r: redis.Redis) -> None:
            if r.expire(self._k("pass:" + token), PASS_TTL_SECONDS):  # renewed only if it exists
                r.set(self._k("presenter_seen"), repr(time.time() if now is None else now))
        self._call(work, lambda: None)

    def version(self) -> int:
        def work(r: redis.Redis) -> int:
            version = int(r.get(self._k("version")) or 0)
            if version < self._version and self._in_grace():
                return self._version
            self._version = max(self._version, version)
            return version
        return self._call(work, lambda: self._version)

    def presentation(self, now: float | None = None) -> cls.Presentation | None:
        def work(r: redis.Redis) -> cls.Presentation | None:
            pipe = r.pipeline(transaction=False)
            pipe.hgetall(self._k("live"))
            pipe.get(self._k("presenter_seen"))
            live, seen = pipe.execute()
            moment = time.time() if now is None else now
            if not live and self._live_cache is not None and self._in_grace():
                return self._live_cache[1]  # Redis was emptied: the class is being written back
            if not live or seen is None or moment - float(seen) > cls.PRESENTER_TIMEOUT:
                return None
            cached = self._live_cache
            if cached is not None and cached[0] == (live[b"version"], live[b"view"]):
                return cached[1]
            page, params, notes = json.loads(live[b"view"])
            presentation = cls.Presentation(int(live[b"version"]), page, params, tuple(notes),
                                            float(live[b"published_at"]))
            self._live_cache = ((live[b"version"], live[b"view"]), presentation)
            return presentation

        def paused() -> cls.Presentation | None:
            cached = self._live_cache
            return cached[1] if cached is not None and self._blip() else None
        return self._call(work, paused)

    # -- followers -------------------------------------------------------------------------

    def still_following(self, follower: str, now: float | None = None) -> None:
        moment = time.time() if now is None else now

        def work(r: redis.Redis) -> None:
            r.zadd(self._k("followers"), {follower: moment})
            self._heartbeats += 1
            if self._heartbeats % FOLLOWER_TRIM_EVERY == 0:  # forget closed tabs now and then
                r.zremrangebyscore(self._k("followers"), "-inf", moment - 10 * cls.FOLLOWER_TIMEOUT)
        self._call(work, lambda: None)

    def stopped_following(self, follower: str) -> None:
        self._call(lambda r: r.zrem(self._k("followers"), follower), lambda: None)

    def following(self, now: float | None = None) -> int:
        moment = time.time() if now is None else now
        return self._call(lambda r: int(r.zcount(self._k("followers"), moment - cls.FOLLOWER_TIMEOUT, "+inf")),
                          lambda: 0)

    # -- questions -------------------------------------------------------------------------

    def _write_question(self, r: redis.Redis, question: qs.Question) -> None:
        pipe = r.pipeline()
        pipe.set(self._k("question"), question_to_json(question), ex=KEY_TTL_SECONDS)
        pipe.set(self._k("question_text"), question_to_json(_without_pictures(question)), ex=KEY_TTL_SECONDS)
        pipe.hset(self._k("qstate"), mapping={"number": question.number, "state": question.state,
                                               "choices": len(question.choices), "posed_at": repr(question.posed_at)})
        pipe.expire(self._k("qstate"), KEY_TTL_SECONDS)
        pipe.execute()

    def _bump_question_version(self, r: redis.Redis) -> None:
        version = r.incr(self._k("question_version"))
        with self._lock:
            self._question_version = version

    def _file_current(self, r: redis.Redis, *, close: bool) -> bool:
        """File the current question in the history (under the lock); whether there was one. It is marked
        "filing" first, atomically, so no answer is taken after its tally was read."""
        state = r.hget(self._k("qstate"), "state")
        if state is None:
            return False
        r.hset(self._k("qstate"), "state", "filing")
        number = int(r.hget(self._k("qstate"), "number"))
        text = r.get(self._k("question_text"))
        if text is not None:
            question = question_from_json(text)
            question = replace(question, state=qs.CLOSED if close else state.decode())
            tally = _as_tally(self._tally(keys=[self._k("qstate")], args=[self._k("answers:")], client=r))
            record = qs.QuestionRecord(question, qs.Tally(number, tally.answered, tally.counts))
            pipe = r.pipeline()
            pipe.rpush(self._k("history"), record_to_json(record))
            pipe.ltrim(self._k("history"), -qs.MAX_HISTORY, -1)
            pipe.expire(self._k("history"), KEY_TTL_SECONDS)
            pipe.execute()
            with self._lock:
                self._records = [*self._records, record][-qs.MAX_HISTORY:]
        r.delete(self._k("qstate"), self._k("question"), self._k("question_text"), self._k(f"answers:{number}"))
        with self._lock:
            self._question = None
        return True

    def _presenter_change(self, token: object, what: str, work: Callable[[redis.Redis], T]) -> T:
        if not self.is_presenter(token):
            raise cls.NotPresenter(f"only the instructor's session can {what}")

        def locked(r: redis.Redis) -> T:
            try:
                with r.lock(self._k("lock"), timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS,
                            raise_on_release_error=False):
                    return work(r)
            except redis.exceptions.LockError:
                raise ValueError("another of your tabs is changing the question right now: try again") from None
        return self._change(locked)

    def pose(self, token: object, question: qs.Question) -> qs.Question:
        question = qs.check_question(question) if self.is_presenter(token) else question

        def work(r: redis.Redis) -> qs.Question:
            self._file_current(r, close=False)
            number = int(r.incr(self._k("last_number")))
            posed = replace(question, number=number, state=qs.OPEN, posed_at=time.time())
            r.delete(self._k(f"answers:{number}"))
            self._write_question(r, posed)
            with self._lock:
                self._question, self._last_number = posed, number
            self._bump_question_version(r)
            return posed
        return self._presenter_change(token, "ask the class", work)

    def _set_state(self, r: redis.Redis, number: object, state: str) -> None:
        current = r.hget(self._k("qstate"), "number")
        if current is None or number != int(current) or r.hget(self._k("qstate"), "state") == b"filing":
            raise ValueError("that question is not the current one")
        r.hset(self._k("qstate"), "state", state)
        with self._lock:
            if self._question is not None and self._question.number == number:
                self._question = replace(self._question, state=state)

    def reveal(self, token: object, number: int) -> None:
        def work(r: redis.Redis) -> None:
            self._set_state(r, number, qs.REVEALED)
            self._bump_question_version(r)
        self._presenter_change(token, "reveal the answers", work)

    def close(self, token: object, number: int) -> None:
        def work(r: redis.Redis) -> None:
            self._set_state(r, number, qs.CLOSED)
            self._file_current(r, close=True)
            self._bump_question_version(r)
        self._presenter_change(token, "close a question", work)

    def answer(self, number: object, student: object, choice: object) -> qs.Tally:
        if not isinstance(student, str) or not 0 < len(student) <= qs.MAX_STUDENT_CHARS:
            raise qs.AnswerRefused(qs.REFUSALS["anonymous"])
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 2**53:
            raise qs.AnswerRefused(qs.REFUSALS["none"])
        index = choice if isinstance(choice, int) and not isinstance(choice, bool) and 0 <= choice < 64 else -1

        def work(r: redis.Redis) -> qs.Tally:
            keys = [self._k("qstate"), self._k(f"answers:{number}"), self._k("last_number")]
            reply = self._answer(keys=keys, args=[number, student, index, qs.MAX_ANSWERS, KEY_TTL_SECONDS], client=r)
            reason = reply[0].decode()
            if reason == "none" and self._in_grace():
                raise cls.ClassroomPaused(cls.PAUSED)  # the question is being written back: answer again
            if reason != "ok":
                raise qs.AnswerRefused(qs.REFUSALS[reason])
            with self._lock:
                if self._answers[0] != number:
                    self._answers = (number, {})
                self._answers[1][student] = index
            return _as_tally([number, *reply[1:]])
        return self._change(work)

    def question(self) -> qs.Question | None:
        def work(r: redis.Redis) -> qs.Question | None:
            pipe = r.pipeline(transaction=False)
            pipe.hmget(self._k("qstate"), "number", "state", "posed_at")
            pipe.hgetall(self._k("live"))
            pipe.get(self._k("presenter_seen"))
            (number, state, posed_at), live, seen = pipe.execute()
            if number is None and self._last_question is not None and self._in_grace():
                return self._last_question  # Redis was emptied: the class is being written back
            if (number is None or state not in (b"open", b"revealed") or not live or seen is None
                    or time.time() - float(seen) > cls.PRESENTER_TIMEOUT):
                self._last_question = None
                return None  # none once the class ended
            cached = self._question_cache  # a question's pictures are decoded once per replica, not per run
            if cached is None or cached[0] != (number, posed_at):
                text = r.get(self._k("question"))
                if text is None:
                    return None
                cached = self._question_cache = ((number, posed_at), question_from_json(text))
            self._last_question = replace(cached[1], state=state.decode())
            return self._last_question
        return self._call(work, lambda: self._last_question if self._blip() else None)

    def question_version(self) -> int:
        def work(r: redis.Redis) -> int:
            version = int(r.get(self._k("question_version")) or 0)
            if version < self._question_version and self._in_grace():
                return self._question_version
            self._question_version = max(self._question_version, version)
            return version
        return self._call(work, lambda: self._question_version)

    def tally(self) -> qs.Tally:
        return self._call(lambda r: _as_tally(self._tally(keys=[self._k("qstate")], args=[self._k("answers:")],
                                                       client=r)), lambda: qs.Tally(0, 0, ()))

    def answer_of(self, number: object, student: object) -> int | None:
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(student, str):
            return None

        def work(r: redis.Redis) -> int | None:
            pipe = r.pipeline(transaction=False)
            pipe.hget(self._k("qstate"), "number")
            pipe.hget(self._k(f"answers:{number}"), student)
            current, mine = pipe.execute()
            return int(mine) if current is not None and int(current) == number and mine is not None else None

        def paused() -> int | None:
            with self._lock:
                return self._answers[1].get(student) if self._answers[0] == number else None
        return self._call(work, paused)

    def history(self) -> tuple[qs.QuestionRecord, ...]:
        def work(r: redis.Redis) -> tuple[qs.QuestionRecord, ...]:
            records = tuple(record_from_json(text) for text in r.lrange(self._k("history"), 0, -1))
            if r.hget(self._k("qstate"), "state") == b"revealed":
                text = r.get(self._k("question_text"))
                if text is not None:
                    question = replace(question_from_json(text), state=qs.REVEALED)
                    records += (qs.QuestionRecord(question, self.tally()),)
            return records
        return self._call(work, lambda: tuple(self._records))
