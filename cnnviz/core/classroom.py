"""A live class: the instructor's view published to a classroom store, and the rules of following it.

The presenter's session publishes its page and view (exactly what a link holds, see
:mod:`cnnviz.core.share_link`) with a version number, so "anything new?" costs one
integer comparison. Students' sessions read it and follow. The store sits behind a
small interface (:class:`ClassroomStore`): :class:`MemoryClassroom` keeps it in the
server process (one server); another backend (several replicas) implements the same
methods.

Who may publish is decided here, not by the session: the store hands out presenter
passes (unguessable tokens) only to a session that typed the right key
(:class:`PresenterKey`), and refuses to publish for anything else. Whatever a
student's browser sends, it cannot hold a pass it was never given.

No Streamlit here: the rules are plain functions, unit-tested.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cnnviz.core import questions as qs

FOLLOWER_TIMEOUT = 5.0
"""Seconds after its last "still here" that a follower is no longer counted."""

PRESENTER_TIMEOUT = 90.0
"""Seconds without a sign of the presenter's screen (its panel says so every few seconds) after which the
presentation counts as ended: a closed laptop does not leave the class following a stale view."""

FOLLOW_POLL_SECONDS = 1.0
"""How often a student's session asks the store for a new version (the follow delay's floor)."""

RETAKE_SECONDS = 1.5
"""A view taken but still not shown after this long is taken again (the switch was lost: the
browser's own request overtook it)."""

IDLE_POLL_SECONDS = 10.0
"""How often a session with no presentation live asks whether one started (every timed rerun costs
the server a little for every open tab, so rarely)."""

PAUSED_POLL_SECONDS = 3.0
"""How often a screen whose classroom features are paused asks whether the shared store is back."""

PRESENTER_POLL_SECONDS = 3.0
"""How often the presenter's panel refreshes "N following" (and says the presenter is still there)."""

MAX_PARAMS = 64
"""Most parameters a published view may hold (every page has fewer)."""

MAX_PARAM_CHARS = 4000
"""Longest parameter value a published view may hold (as a link, see share_link.MAX_VALUE_CHARS)."""

MAX_NOTES = 8
"""Most sentences a published view may carry about what cannot be followed."""

MAX_NOTE_CHARS = 300
"""Longest such sentence."""

KEY_ATTEMPTS = 5
"""Wrong presenter keys allowed from one client per :data:`KEY_WINDOW_SECONDS` before it must wait."""

KEY_WINDOW_SECONDS = 60.0
"""The window over which wrong keys are counted."""

MAX_KEY_CHARS = 200
"""Longest presenter key looked at (a longer one is wrong without comparing)."""

MAX_KEY_CLIENTS = 1000
"""Clients whose wrong keys are remembered before old ones are forgotten (memory stays bounded)."""

GENERATED_KEY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""Letters and digits of a generated key: none that look alike (no i/l/1, o/0)."""


class NotPresenter(PermissionError):
    """A publish or stop from something that holds no presenter pass."""


PAUSED = ("Classroom features are paused: this server cannot reach the class's shared store (Redis). Your page "
          "works as usual; following and questions come back by themselves when the store is reachable again.")
"""What a screen says while the shared store is unreachable (one wording for every panel)."""


class ClassroomPaused(qs.AnswerRefused):
    """A change the shared store could not take now (it is unreachable): said in words, nothing counted changed.
    A kind of refused answer, so every screen that says why an answer or a question was refused says this too."""


@dataclass(frozen=True)
class Presentation:
    """What the instructor shows now: a page, its view as link parameters, sentences about what
    cannot be followed (an upload, a model trained in the instructor's session), a version."""

    version: int
    page: str
    params: Mapping[str, str]
    notes: tuple[str, ...] = ()
    published_at: float = 0.0


class ClassroomStore(Protocol):
    """Where a live presentation and its followers are kept (one server: :class:`MemoryClassroom`; several
    replicas: :class:`cnnviz.core.classroom_redis.RedisClassroom`)."""

    def available(self) -> bool:
        """Whether the store can be reached now (False: classroom features are paused, see :data:`PAUSED`).
        While it is False every read answers "nothing live" at once and changes raise :class:`ClassroomPaused`."""

    def new_pass(self) -> str:
        """A presenter pass for a session that typed the right key."""

    def is_presenter(self, token: object) -> bool:
        """Whether ``token`` is a pass this store handed out and has not withdrawn."""

    def publish(self, token: object, page: str, params: Mapping[str, str], notes: tuple[str, ...] = ()) -> int:
        """Make this the view followers see; the new version (unchanged when the view is the same).
        Raises :class:`NotPresenter` without a valid pass, ValueError for a malformed view."""

    def stop(self, token: object) -> None:
        """End the presentation (its pass is withdrawn)."""

    def still_presenting(self, token: object, now: float | None = None) -> None:
        """The presenter's screen is still there (ignored without a valid pass)."""

    def version(self) -> int:
        """A number that changes whenever the presentation does (0: never presented)."""

    def presentation(self, now: float | None = None) -> Presentation | None:
        """The live presentation, or None (also when the presenter's screen has been gone a while)."""

    def still_following(self, follower: str, now: float | None = None) -> None:
        """A following session says it is still there."""

    def stopped_following(self, follower: str) -> None:
        """A session left follow mode (or closed)."""

    def following(self, now: float | None = None) -> int:
        """How many sessions followed within the last :data:`FOLLOWER_TIMEOUT` seconds."""

    # Questions to the class (the rules: cnnviz.core.questions.QuestionBook)

    def pose(self, token: object, question: qs.Question) -> qs.Question:
        """Ask the class ``question`` (the one before ends); it, numbered. Raises :class:`NotPresenter`
        without a valid pass, ValueError for a malformed question."""

    def reveal(self, token: object, number: int) -> None:
        """Show the answers of question ``number``. :class:`NotPresenter` without a valid pass."""

    def close(self, token: object, number: int) -> None:
        """End question ``number`` (it goes into the history). :class:`NotPresenter` without a valid pass."""

    def answer(self, number: object, student: object, choice: object) -> qs.Tally:
        """A student's answer; the tally. Raises :class:`cnnviz.core.questions.AnswerRefused` in words."""

    def question(self) -> qs.Question | None:
        """The question on every screen now (open or revealed), or None."""

    def question_version(self) -> int:
        """A number that changes whenever a question is posed, revealed or closed (not on answers)."""

    def tally(self) -> qs.Tally:
        """How many answered the current question, and how many chose each choice."""

    def answer_of(self, number: object, student: object) -> int | None:
        """A student's answer to question ``number``, or None."""

    def history(self) -> tuple[qs.QuestionRecord, ...]:
        """This class's questions that ended, oldest first, then the current one once revealed."""


def check_view(page: object, params: object, notes: object) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """A view fit to publish: plain strings within the limits; ValueError saying what is wrong.

    The store only ever holds such values, whatever the caller had, so a follower reads
    nothing larger or stranger than a link.
    """
    if not isinstance(page, str) or not page.isidentifier() or len(page) > 40:
        raise ValueError(f"the page must be a page's name, not {str(page)[:40]!r}")
    if not isinstance(params, Mapping) or len(params) > MAX_PARAMS:
        raise ValueError(f"the view must be at most {MAX_PARAMS} named values")
    clean: dict[str, str] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not isinstance(value, str) or len(name) > 40 or len(value) > MAX_PARAM_CHARS:
            raise ValueError(f"every value of the view must be text of at most {MAX_PARAM_CHARS} characters")
        clean[name] = value
    if not isinstance(notes, (tuple, list)) or len(notes) > MAX_NOTES or not all(
            isinstance(n, str) and len(n) <= MAX_NOTE_CHARS for n in notes):
        raise ValueError(f"at most {MAX_NOTES} notes of at most {MAX_NOTE_CHARS} characters each")
    return page, clean, tuple(notes)


@dataclass
class MemoryClassroom:
    """The classroom store in the server process: every session of this server shares it (thread-safe)."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _passes: set[str] = field(default_factory=set, repr=False)
    _version: int = 0
    _live: Presentation | None = None
    _seen: dict[str, float] = field(default_factory=dict, repr=False)
    _presenter_seen: float = field(default_factory=time.monotonic, repr=False)
    _questions: qs.QuestionBook = field(default_factory=qs.QuestionBook, repr=False)
    _question_version: int = 0

    def available(self) -> bool:
        return True  # the server's own memory

    def new_pass(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._passes.add(token)
            self._presenter_seen = time.monotonic()
        return token

    def is_presenter(self, token: object) -> bool:
        return isinstance(token, str) and token in self._passes

    def publish(self, token: object, page: str, params: Mapping[str, str], notes: tuple[str, ...] = ()) -> int:
        if not self.is_presenter(token):
            raise NotPresenter("only the instructor's session can publish a view")
        page, clean, notes = check_view(page, params, notes)
        with self._lock:
            self._presenter_seen = time.monotonic()
            live = self._live
            if live is not None and live.page == page and dict(live.params) == clean and live.notes == notes:
                return self._version
            self._version += 1
            self._live = Presentation(self._version, page, clean, notes, time.time())
            return self._version

    def stop(self, token: object) -> None:
        if not self.is_presenter(token):
            raise NotPresenter("only the instructor's session can end the presentation")
        with self._lock:
            self._passes.discard(token)
            if not self._passes:
                self._version += 1
                self._live = None
                self._seen.clear()
                if self._questions.current is not None:  # the class is over: its question too
                    self._questions.close(self._questions.current.number)
                    self._question_version += 1

    def still_presenting(self, token: object, now: float | None = None) -> None:
        if self.is_presenter(token):
            self._presenter_seen = time.monotonic() if now is None else now

    def version(self) -> int:
        return self._version

    def presentation(self, now: float | None = None) -> Presentation | None:
        now = time.monotonic() if now is None else now
        return None if now - self._presenter_seen > PRESENTER_TIMEOUT else self._live

    def still_following(self, follower: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._seen[follower] = now
            if len(self._seen) > 64 and len(self._seen) % 64 == 0:  # forget closed tabs now and then
                for key in [k for k, t in self._seen.items() if now - t > FOLLOWER_TIMEOUT]:
                    del self._seen[key]

    def stopped_following(self, follower: str) -> None:
        with self._lock:
            self._seen.pop(follower, None)

    def following(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            return sum(1 for t in self._seen.values() if now - t <= FOLLOWER_TIMEOUT)


    def pose(self, token: object, question: qs.Question) -> qs.Question:
        if not self.is_presenter(token):
            raise NotPresenter("only the instructor's session can ask the class")
        with self._lock:
            posed = self._questions.pose(question)
            self._question_version += 1
            return posed

    def reveal(self, token: object, number: int) -> None:
        if not self.is_presenter(token):
            raise NotPresenter("only the instructor's session can reveal the answers")
        with self._lock:
            self._questions.reveal(number)
            self._question_version += 1

    def close(self, token: object, number: int) -> None:
        if not self.is_presenter(token):
            raise NotPresenter("only the instructor's session can close a question")
        with self._lock:
            self._questions.close(number)
            self._question_version += 1

    def answer(self, number: object, student: object, choice: object) -> qs.Tally:
        with self._lock:
            return self._questions.answer(number, student, choice)

    def question(self) -> qs.Question | None:
        return self._questions.current if self.presentation() is not None else None  # none once the class ended

    def question_version(self) -> int:
        return self._question_version

    def tally(self) -> qs.Tally:
        with self._lock:
            return self._questions.tally()

    def answer_of(self, number: object, student: object) -> int | None:
        with self._lock:
            return self._questions.answer_of(number, student)

    def history(self) -> tuple[qs.QuestionRecord, ...]:
        with self._lock:
            return self._questions.history()


# --------------------------------------------------------------------------
# The presenter key
# --------------------------------------------------------------------------


def generated_key(length: int = 10) -> str:
    """A key for a server whose operator set none: easy to type, hard to guess (about 50 bits)."""
    return "".join(secrets.choice(GENERATED_KEY_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of a typed key: accepted, or the sentence to show (and how long to wait)."""

    accepted: bool
    message: str = ""
    wait_seconds: float = 0.0


@dataclass
class PresenterKey:
    """The instructor's key, and the count of wrong attempts per client (guessing is slowed down)."""

    key: str
    attempts: int = KEY_ATTEMPTS
    window: float = KEY_WINDOW_SECONDS
    _wrong: dict[str, deque] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, typed: object, client: str, now: float | None = None) -> KeyCheck:
        """Compare ``typed`` with the key (in constant time); at most :data:`KEY_ATTEMPTS` wrong keys
        per client per window, then every try is refused until the oldest wrong one is old enough."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._wrong) > MAX_KEY_CLIENTS:  # forget clients whose wrong keys are old
                for name in [n for n, times in self._wrong.items() if not times or now - times[-1] > self.window]:
                    del self._wrong[name]
            wrong = self._wrong.setdefault(client, deque())
            while wrong and now - wrong[0] > self.window:
                wrong.popleft()
            if len(wrong) >= self.attempts:
                wait = self.window - (now - wrong[0])
                return KeyCheck(False, f"Too many wrong keys from this browser: try again in {max(1, round(wait))} s.",
                                wait)
            text = typed.strip() if isinstance(typed, str) else ""
            if text and len(text) <= MAX_KEY_CHARS and hmac.compare_digest(text.encode(), self.key.encode()):
                wrong.clear()
                return KeyCheck(True)
            wrong.append(now)
            left = self.attempts - len(wrong)
            if not text:
                return KeyCheck(False, "Type the presenter key first.")
            return KeyCheck(False, "That is not the presenter key. " + (
                f"{left} more {'try' if left == 1 else 'tries'} in the next minute." if left else
                "No more tries for a minute."))


# --------------------------------------------------------------------------
# Following
# --------------------------------------------------------------------------


@dataclass
class Follow:
    """One student's follow mode: whether they follow, and the instructor's view they last took.

    ``shown`` is what the student's page showed right after taking that view (a page may
    adjust a value, e.g. keep a cell inside a smaller picture): a later difference from it
    is the student's own change.
    """

    wanted: bool = True
    version: int = 0
    page: str | None = None
    shown: dict[str, str] | None = None
    pending: bool = False
    left_because: str = ""
    taken_at: float = 0.0

    def to_take(self, live: Presentation | None, now: float | None = None) -> Presentation | None:
        """The presentation to switch to now, or None (not following, nothing new, or nothing live).
        A view taken :data:`RETAKE_SECONDS` ago and still not shown is taken again."""
        if not self.wanted or live is None:
            return None
        now = time.monotonic() if now is None else now
        if live.version != self.version or (self.pending and now - self.taken_at > RETAKE_SECONDS):
            return live
        return None

    def taking(self, live: Presentation, now: float | None = None) -> None:
        """The session is about to show ``live``."""
        self.version, self.page, self.shown, self.pending, self.left_because = live.version, live.page, None, True, ""
        self.taken_at = time.monotonic() if now is None else now

    def page_shown(self, page: str | None, params: Mapping[str, str] | None) -> bool:
        """A full or partial run of ``page`` showed ``params`` (None: a page without a link view).
        True when that is the student's own change, so they leave follow mode."""
        if not self.wanted or self.page is None:
            return False
        if self.pending:
            if page == self.page and params is not None:
                self.shown, self.pending = dict(params), False
            return False
        if page != self.page:
            return self.leave("you opened another page")
        if params is not None and self.shown is not None and dict(params) != self.shown:
            changed = sorted(set(params) ^ set(self.shown) | {k for k in params if params.get(k) != self.shown.get(k)})
            return self.leave("you changed " + ", ".join(changed[:3]) + ("…" if len(changed) > 3 else ""))
        return False

    def leave(self, why: str) -> bool:
        """Stop following, keeping this session's own view; ``why`` is said in the notice."""
        self.wanted, self.left_because = False, why
        return True

    def rejoin(self) -> None:
        """Follow again: the next look at the store snaps back to the instructor's view."""
        self.wanted, self.version, self.page, self.shown, self.pending, self.left_because = True, 0, None, None, False, ""


# --------------------------------------------------------------------------
# The join screen's QR code
# --------------------------------------------------------------------------


def qr_png(text: str, *, box: int = 12) -> bytes:
    """A QR code of ``text`` as PNG bytes (black on white, a quiet border, readable from a projector)."""
    import io

    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()
