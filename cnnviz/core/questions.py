"""Ask the class: predict-then-reveal questions, their answers and the rules of answering.

The presenter poses a :class:`Question` (made from the view on screen by
:func:`kernel_question`, :func:`pooling_question`, :func:`class_question`, or typed:
:func:`free_question`); every student answers from their own screen, once, and may change
their mind until the reveal; the projector shows how many answered, then on reveal the
distribution and the right answer. :class:`QuestionBook` holds those rules for one class
(a classroom store keeps one, see :mod:`cnnviz.core.classroom`); everything it takes and
gives is plain data (text, numbers, PNG bytes), so another store backend can keep it too.

A refused answer raises :class:`AnswerRefused` with the reason in words; nothing already
counted changes.

No Streamlit here: the rules are plain functions, unit-tested.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import time
from dataclasses import dataclass, field, replace

import numpy as np

from cnnviz.core import convolution, images, kernels

KINDS = ("kernel", "pooling", "class", "free")
"""What a question is about: a kernel's result, a pooling window, the network's class, or typed by the teacher."""

MIN_CHOICES, MAX_CHOICES = 2, 6
"""A question has this many choices (a generated one has :data:`GENERATED_CHOICES`)."""

GENERATED_CHOICES = 4
"""Choices of a question made from the view: the right one and three others."""

MAX_PROMPT_CHARS = 300
"""Longest question text."""

MAX_CHOICE_CHARS = 120
"""Longest choice text."""

MAX_DETAIL_CHARS = 400
"""Longest line under the question (what it is about, e.g. the kernel and its options)."""

MAX_PICTURE_BYTES = 300_000
"""Largest picture (PNG) of a question or a choice."""

MAX_PICTURES = 2
"""Pictures shown with a question (e.g. the input and the kernel)."""

MAX_STUDENT_CHARS = 64
"""Longest student id (a session's random name) an answer may carry."""

MAX_ANSWERS = 2000
"""Most students answering one question (memory stays bounded whatever is sent)."""

MAX_HISTORY = 30
"""Questions of this class remembered for the history (older ones are forgotten)."""

THUMBNAIL_SIDE = 200
"""Longest side of a choice's picture, in pixels (sent once to every student)."""

MIN_DIFFERENCE = 12.0
"""Least mean difference (0..255 grey levels) between two choice pictures of a kernel question:
distractors that look like the right result, or like each other, are not offered."""

OPEN, REVEALED, CLOSED = "open", "revealed", "closed"
"""A question's states: answers taken; answers shown (no more changes); over."""


class AnswerRefused(ValueError):
    """An answer not taken, with the reason in words (nothing already counted changed)."""


REFUSALS = {
    "anonymous": "This answer does not say who sent it: reload the page and answer again.",
    "closed": "The instructor closed this question: answers are no longer taken.",
    "none": "There is no such question open now.",
    "revealed": "The answers are revealed: an answer can no longer be given or changed.",
    "choice": "That is not one of the choices.",
    "same": "That is already your answer.",
    "full": f"This question already has {MAX_ANSWERS} answers: no more are taken.",
}
"""Why an answer is refused, by reason: the words every store backend says (the rules are the same)."""


# --------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One choice: its text, and a picture (PNG bytes) when the choice is a picture. A picture choice's
    text says what made it (e.g. the kernel) and is shown only after the reveal."""

    label: str
    picture: bytes | None = None


@dataclass(frozen=True)
class Question:
    """A question as posed: what it asks, the choices in the projector's order, the right one (None: a poll
    with no right answer), a line and up to :data:`MAX_PICTURES` pictures (PNG, caption) about what it asks."""

    kind: str
    prompt: str
    choices: tuple[Choice, ...]
    right: int | None
    detail: str = ""
    pictures: tuple[tuple[bytes, str], ...] = ()
    number: int = 0
    state: str = OPEN
    posed_at: float = 0.0

    @property
    def shows_pictures(self) -> bool:
        """Whether the choices are pictures (their text is kept until the reveal)."""
        return any(c.picture is not None for c in self.choices)


def check_question(question: object) -> Question:
    """``question`` if it is fit to pose (plain text and PNG bytes within the limits); ValueError saying
    what is wrong. A store only ever holds such questions."""
    if not isinstance(question, Question):
        raise ValueError("a question must be a Question")  # noqa: TRY004 - one refusal type for the store
    if question.kind not in KINDS:
        raise ValueError(f"kind={question.kind!r} must be one of {KINDS}")
    if not isinstance(question.prompt, str) or not question.prompt.strip() or len(question.prompt) > MAX_PROMPT_CHARS:
        raise ValueError(f"the question must be text of 1 to {MAX_PROMPT_CHARS} characters")
    choices = question.choices
    if not isinstance(choices, tuple) or not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise ValueError(f"a question needs {MIN_CHOICES} to {MAX_CHOICES} choices")
    for choice in choices:
        if not isinstance(choice, Choice) or not isinstance(choice.label, str) or len(choice.label) > MAX_CHOICE_CHARS:
            raise ValueError(f"every choice must be text of at most {MAX_CHOICE_CHARS} characters")
        if choice.picture is not None and (not isinstance(choice.picture, bytes)
                                           or len(choice.picture) > MAX_PICTURE_BYTES):
            raise ValueError(f"a choice's picture must be PNG bytes of at most {MAX_PICTURE_BYTES:,} bytes")
        if choice.picture is None and not choice.label.strip():
            raise ValueError("a choice without a picture needs its text")
    if len({c.label for c in choices}) != len(choices):
        raise ValueError("two choices are the same")
    if question.right is not None and (not isinstance(question.right, int) or not 0 <= question.right < len(choices)):
        raise ValueError("the right answer must be one of the choices")
    if not isinstance(question.detail, str) or len(question.detail) > MAX_DETAIL_CHARS:
        raise ValueError(f"the line under the question must be at most {MAX_DETAIL_CHARS} characters")
    pictures = question.pictures
    if not isinstance(pictures, tuple) or len(pictures) > MAX_PICTURES or not all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], bytes) and len(p[0]) <= MAX_PICTURE_BYTES
            and isinstance(p[1], str) and len(p[1]) <= MAX_CHOICE_CHARS for p in pictures):
        raise ValueError(f"at most {MAX_PICTURES} pictures of at most {MAX_PICTURE_BYTES:,} bytes, with short captions")
    return question


def choice_order(number: int, count: int, student: str) -> list[int]:
    """The order in which ``student`` sees the ``count`` choices of question ``number`` (indices into its
    choices): shuffled per student, so neighbours' screens do not give the answer away, and the same on
    every rerun (seeded by the question and the student, not by anything the student sends)."""
    seed = int.from_bytes(hashlib.blake2b(f"{number}:{student}".encode(), digest_size=8).digest(), "big")
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


def _shuffled(right: Choice, others: list[Choice], rng: random.Random) -> tuple[tuple[Choice, ...], int]:
    choices = [right, *others]
    rng.shuffle(choices)
    return tuple(choices), choices.index(right)


def thumbnail(values: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """A uint8 picture at most ``side`` pixels on its longer side (block averages; small ones enlarged)."""
    values = np.asarray(values, dtype=np.float64)
    longest = max(values.shape[:2])
    if longest > side:
        step = -(-longest // side)
        h, w = values.shape[0] // step * step, values.shape[1] // step * step
        if h and w:
            values = values[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    elif longest * 2 <= side:
        values = images.enlarge(values, side // longest)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _shown(image: np.ndarray, settings: convolution.ConvolutionSettings) -> np.ndarray:
    """What the page would show for ``settings`` (a signed map rescaled, as the page draws it), as uint8."""
    raw, shown = settings.apply(image)
    if settings.mapping == "signed":
        shown = convolution.map_output(raw, mapping="rescale")
    return np.asarray(shown, dtype=np.uint8)


def kernel_question(image: np.ndarray, settings: convolution.ConvolutionSettings, *, kernel_name: str,
                    image_name: str, seed: int = 0) -> Question:
    """"Which of these is this kernel's result?": the result of ``settings`` on ``image`` and the results of
    three preset kernels (same options) that look different from it and from each other, as thumbnails.

    Raises ValueError when the settings do not fit the image, or when too few presets give a
    result that looks different (e.g. an image of one colour).
    """
    rng = random.Random(seed)
    truth = thumbnail(_shown(image, settings))
    candidates = [name for name, preset in kernels.PRESETS.items()
                  if preset.kernel.shape != settings.kernel.shape or not np.array_equal(preset.kernel, settings.kernel)]
    rng.shuffle(candidates)
    pictures: list[np.ndarray] = [truth]
    chosen: list[tuple[str, np.ndarray]] = []
    for name in candidates:
        preset = kernels.PRESETS[name]
        try:
            other = thumbnail(_shown(image, settings.replace(kernel=preset.kernel, preset=name,
                                                             normalise=preset.normalise)))
        except ValueError:
            continue
        if other.shape == truth.shape and all(
                np.abs(other.astype(np.int16) - p).mean() >= MIN_DIFFERENCE for p in pictures):
            pictures.append(other)
            chosen.append((preset.label, other))
            if len(chosen) == GENERATED_CHOICES - 1:
                break
    if len(chosen) < GENERATED_CHOICES - 1:
        raise ValueError("on this image too few other kernels give a result that looks different: choose "
                         "an image with more detail to ask about this kernel")
    right = Choice(f"{kernel_name} (this kernel)", images.png_bytes(truth))
    choices, index = _shuffled(right, [Choice(label, images.png_bytes(p)) for label, p in chosen], rng)
    return Question("kernel", "Which of these is this kernel's result?", choices, index,
                    detail=f"The kernel on screen, applied to {image_name} with the page's options. The other "
                           "three pictures come from other kernels.")


def _number(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.6g}"


def pooling_question(window: np.ndarray, mode: str, *, seed: int = 0) -> Question:
    """"Which value does this window keep?" for a pooling window (max, average or min): the right value and
    others a student might pick (the other extreme, the mean, the sum, a value of the window).

    Raises ValueError when the window's values are all the same (every answer would be right).
    """
    values = np.asarray(window, dtype=np.float64).ravel()
    if mode not in ("max", "average", "min"):
        raise ValueError(f"mode={mode!r} must be max, average or min")
    if values.size == 0 or np.ptp(values) == 0:
        raise ValueError("every value of this window is the same: choose another window to ask about")
    rng = random.Random(seed)
    right = {"max": values.max(), "min": values.min(), "average": values.mean()}[mode]
    candidates = [values.min(), values.max(), values.mean(), float(np.median(values)), values.sum(),
                  *rng.sample(list(values), min(values.size, 6))]
    labels = [_number(right)]
    for value in candidates:
        if _number(value) not in labels:
            labels.append(_number(value))
        if len(labels) == GENERATED_CHOICES:
            break
    word = {"max": "max pooling (the largest)", "min": "min pooling (the smallest)",
            "average": "average pooling (the mean)"}[mode]
    ordered = sorted(labels, key=float)  # numbers in order on the projector (each student sees them shuffled)
    choices, index = tuple(Choice(t) for t in ordered), ordered.index(labels[0])
    return Question("pooling", "Which value does this window keep?", choices, index,
                    detail=f"The window in the picture, with {word}.")


def class_question(class_names: list[str] | tuple[str, ...], probabilities: np.ndarray, *, seed: int = 0) -> Question:
    """"Which class will the network say?": the class it says (the most probable) and the three next most
    probable (the network's own doubts, the likeliest wrong guesses)."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    if probabilities.size != len(class_names) or probabilities.size < GENERATED_CHOICES:
        raise ValueError("one probability per class is needed")
    ranked = [int(i) for i in np.argsort(-probabilities, kind="stable")]
    rng = random.Random(seed)
    choices, index = _shuffled(Choice(class_names[ranked[0]]),
                               [Choice(class_names[i]) for i in ranked[1:GENERATED_CHOICES]], rng)
    return Question("class", "Which class will the network say?", choices, index,
                    detail="For the image on screen, before we look at the network's answer.")


def free_question(prompt: object, choices_text: object, right: object) -> Question:
    """A multiple-choice question typed by the teacher: the question, the choices one per line, and the
    number (1, 2, ...) of the right one, or 0 for a poll without a right answer. ValueError in words."""
    text = prompt.strip() if isinstance(prompt, str) else ""
    if not text:
        raise ValueError("Type the question first.")
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(f"The question is {len(text)} characters long: at most {MAX_PROMPT_CHARS}, please.")
    lines = [line.strip() for line in (choices_text if isinstance(choices_text, str) else "").splitlines()]
    lines = [line for line in lines if line]
    if not MIN_CHOICES <= len(lines) <= MAX_CHOICES:
        raise ValueError(f"Type {MIN_CHOICES} to {MAX_CHOICES} choices, one per line (there are {len(lines)}).")
    if too_long := [line for line in lines if len(line) > MAX_CHOICE_CHARS]:
        raise ValueError(f"A choice is at most {MAX_CHOICE_CHARS} characters: {too_long[0][:40]}… is longer.")
    if len(set(lines)) != len(lines):
        raise ValueError("Two choices are the same: make each one different.")
    if not isinstance(right, int) or isinstance(right, bool) or not 0 <= right <= len(lines):
        raise ValueError(f"The right answer must be one of the choices (1 to {len(lines)}), or none.")
    return Question("free", text, tuple(Choice(line) for line in lines), right - 1 if right else None)


# --------------------------------------------------------------------------
# Counting and the rules
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """How many answered question ``number``, and how many chose each choice (in the projector's order)."""

    number: int
    answered: int
    counts: tuple[int, ...]

    def right_share(self, right: int | None) -> float | None:
        """The fraction who chose ``right`` (None: no right answer, or nobody answered)."""
        if right is None or not self.answered:
            return None
        return self.counts[right] / self.answered


@dataclass(frozen=True)
class QuestionRecord:
    """One question of the history: the question as posed (pictures dropped), its final tally, its end state."""

    question: Question
    tally: Tally


@dataclass
class QuestionBook:
    """The questions of one class: the current one, its answers, the history. Not thread-safe on its own
    (the store that keeps it holds a lock around every call)."""

    current: Question | None = None
    answers: dict[str, int] = field(default_factory=dict)
    records: list[QuestionRecord] = field(default_factory=list)
    last_number: int = 0

    def pose(self, question: Question, now: float | None = None) -> Question:
        """Make ``question`` the current one (the one before goes into the history); it, numbered."""
        question = check_question(question)
        self._file_current()
        self.last_number += 1
        self.current = replace(question, number=self.last_number, state=OPEN,
                               posed_at=time.time() if now is None else now)
        self.answers = {}
        return self.current

    def answer(self, number: object, student: object, choice: object) -> Tally:
        """Take ``student``'s answer ``choice`` (an index into the choices) to question ``number``; the tally.

        One answer per student, changeable while the question is open. Raises :class:`AnswerRefused`
        for an unknown, revealed or closed question, a malformed choice or student, the same answer
        again, or a class already full; nothing counted changes then.
        """
        question = self.current
        if not isinstance(student, str) or not 0 < len(student) <= MAX_STUDENT_CHARS:
            raise AnswerRefused(REFUSALS["anonymous"])
        if question is None or not isinstance(number, int) or isinstance(number, bool) or number != question.number:
            if isinstance(number, int) and any(r.question.number == number for r in self.records):
                raise AnswerRefused(REFUSALS["closed"])
            raise AnswerRefused(REFUSALS["none"])
        if question.state == REVEALED:
            raise AnswerRefused(REFUSALS["revealed"])
        if question.state != OPEN:
            raise AnswerRefused(REFUSALS["closed"])
        if not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice < len(question.choices):
            raise AnswerRefused(REFUSALS["choice"])
        if self.answers.get(student) == choice:
            raise AnswerRefused(REFUSALS["same"])
        if student not in self.answers and len(self.answers) >= MAX_ANSWERS:
            raise AnswerRefused(REFUSALS["full"])
        self.answers[student] = choice
        return self.tally()

    def reveal(self, number: object) -> Question:
        """Show the answers of question ``number`` (no more changes). ValueError when it is not the current one."""
        return self._set_state(number, REVEALED)

    def close(self, number: object) -> None:
        """End question ``number``: it leaves every screen and goes into the history."""
        self._set_state(number, CLOSED)
        self._file_current()

    def _set_state(self, number: object, state: str) -> Question:
        if self.current is None or number != self.current.number:
            raise ValueError("that question is not the current one")
        self.current = replace(self.current, state=state)
        return self.current

    def _file_current(self) -> None:
        if self.current is not None:
            question = replace(self.current, pictures=(), choices=tuple(Choice(c.label) for c in self.current.choices))
            self.records.append(QuestionRecord(question, self.tally()))
            del self.records[:-MAX_HISTORY]
            self.current, self.answers = None, {}

    def tally(self) -> Tally:
        """The current question's tally (answered 0 when there is none)."""
        if self.current is None:
            return Tally(0, 0, ())
        counts = [0] * len(self.current.choices)
        for choice in self.answers.values():
            counts[choice] += 1
        return Tally(self.current.number, len(self.answers), tuple(counts))

    def answer_of(self, number: object, student: object) -> int | None:
        """``student``'s answer to question ``number`` (None: none, or not the current question)."""
        if self.current is None or number != self.current.number or not isinstance(student, str):
            return None
        return self.answers.get(student)

    def history(self) -> tuple[QuestionRecord, ...]:
        """The questions that ended, oldest first, then the current one once revealed."""
        current = ()
        if self.current is not None and self.current.state == REVEALED:
            current = (QuestionRecord(replace(self.current, pictures=()), self.tally()),)
        return (*self.records, *current)


# --------------------------------------------------------------------------
# The history as CSV
# --------------------------------------------------------------------------

HISTORY_COLUMNS = ("number", "posed at (UTC)", "kind", "question", "right answer", "answered", "right",
                   "right %", "answers per choice")
"""The columns of :func:`history_csv`."""


def _cell(text: str) -> str:
    """A spreadsheet cell that cannot run as a formula (text typed by a teacher starting with = + - @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def history_rows(records: tuple[QuestionRecord, ...] | list[QuestionRecord]) -> list[dict[str, object]]:
    """One row per question (the :data:`HISTORY_COLUMNS`), for a table and for :func:`history_csv`."""
    rows = []
    for record in records:
        q, t = record.question, record.tally
        share = t.right_share(q.right)
        rows.append({
            "number": q.number,
            "posed at (UTC)": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(q.posed_at)),
            "kind": q.kind,
            "question": q.prompt,
            "right answer": "" if q.right is None else q.choices[q.right].label,
            "answered": t.answered,
            "right": "" if q.right is None else t.counts[q.right],
            "right %": "" if share is None else round(100 * share),
            "answers per choice": "; ".join(f"{c.label}: {n}" for c, n in zip(q.choices, t.counts)),
        })
    return rows


def history_csv(records: tuple[QuestionRecord, ...] | list[QuestionRecord]) -> str:
    """The history as CSV text (a header, one line per question), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in history_rows(records):
        writer.writerow({k: _cell(v) if isinstance(v, str) else v for k, v in row.items()})
    return out.getvalue()
