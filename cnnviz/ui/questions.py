"""Ask the class: the presenter poses a question, every student answers on their own screen, the projector
shows the count, then the distribution and the right answer.

A page offers what can be asked about its view (:func:`offer`, a one-line call: only a
presenting session keeps it); the presenter's sidebar poses it with one click, or a question
the teacher types (:func:`ask_panel`). The question appears at the top of every screen
(:func:`card`, drawn by :func:`cnnviz.ui.classroom.frame_run` before the page):

- the projector's card is a timed fragment (1 s) showing how many answered, not what; Reveal
  and Close rerun the presenter's page;
- a student's card is a fragment without a timer: answering reruns only it. Students notice
  a new, revealed or closed question through the follow poll they already run (one integer
  compared, :func:`changed_since_shown`), which reruns their page once per such change.

Everything the teacher typed is shown as plain text (Markdown escaped, never HTML). The rules
are in :mod:`cnnviz.core.questions`, the store in :mod:`cnnviz.core.classroom`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import streamlit as st

from cnnviz.core import convolution, images, kernels
from cnnviz.core import questions as qs
from cnnviz.ui import classroom, links, resources
from cnnviz.ui.fragments import anchored_fragment

OFFER_KEY = "questions_offer"
"""(page, a function building the question about its view): set by the page's last run."""

SEEN_KEY = "questions_seen"
"""The store's question version this session's page last drew (a different one: rerun the page)."""

MESSAGE_KEY = "questions_message"
"""(question number, the sentence about this session's last answer or pose, whether it is a refusal)."""

ASK_ERROR_KEY = "questions_ask_error"
"""Why the last question the presenter tried to pose was refused."""

FREE_PROMPT_KEY, FREE_CHOICES_KEY, FREE_RIGHT_KEY = "questions_free_prompt", "questions_free_choices", "questions_free_right"
"""The boxes of a typed question."""

TYPED_ERROR_KEY = "questions_typed_error"
"""Why the question typed in the dialog was refused (said in the dialog; what was typed stays)."""

REDRAW_KEY = "questions_redraw"
"""Set by Reveal and Close: the projector's card reruns the whole page once."""

TYPING_KEY = "questions_typing"
"""Whether the presenter's "type a question" dialog is open (until asked or dismissed)."""

CARD_KEY = "class_question"
"""The question's container on every screen (CSS class st-key-class_question, for tests)."""

NO_RIGHT_ANSWER = "None: a poll"
"""The right-answer choice of a typed question that has none."""

ANSWER_TAKEN = "Your answer is in. You can change it until the instructor reveals the answers."
"""What a student reads once their answer is counted."""

QUESTION_PICTURE_WIDTH = 200
"""Screen width of a question's own pictures (the input, the kernel, the window)."""

PRESENTER_REFRESH_SECONDS = 1.0
"""How often the projector's card redraws the count (the tally is at most this old)."""


def _text(text: str) -> str:
    """Text a teacher typed (or a choice's label), safe to show through Markdown: as plain text."""
    return links.as_text(text)


# --------------------------------------------------------------------------
# What a page offers to ask
# --------------------------------------------------------------------------


ASKABLE_PAGES = {
    "convolution": "which of four pictures is this kernel's result",
    "pooling": "which value the window explained on screen keeps",
    "activations": "which class the network will say for the first image on screen",
}
"""Pages that offer a question about their view (:func:`offer`) -> what the students are asked."""


def offer(page: str, build: Callable[[], qs.Question]) -> None:
    """A page of :data:`ASKABLE_PAGES` says what can be asked about its view now: ``build()`` makes the
    question when the presenter asks it. Costs nothing for a student's session."""
    if classroom.is_presenter():
        st.session_state[OFFER_KEY] = (page, build)


def offer_kernel(image: np.ndarray, image_name: str, settings: convolution.ConvolutionSettings) -> None:
    """Offer "Which of these is this kernel's result?" for ``image`` (named ``image_name``) and ``settings``."""
    preset = kernels.PRESETS.get(settings.preset or "")
    kernel_name = preset.label if preset is not None else "Your kernel"

    def build() -> qs.Question:
        question = qs.kernel_question(image, settings, kernel_name=kernel_name, image_name=image_name,
                                      seed=int(np.random.default_rng().integers(1 << 30)))
        small = images.png_bytes(qs.thumbnail(images.to_grayscale(image)))
        limit = float(np.abs(settings.kernel).max()) or 1.0
        kernel = resources.matrix_png(settings.kernel, signed=True, limit=limit, title="The kernel")
        return replace(question, pictures=((small, "The input"), (kernel, "The kernel")))

    offer("convolution", build)


def offer_pooling_window(window: np.ndarray, mode: str, *, signed: bool) -> None:
    """Offer "Which value does this window keep?" for the pooling window explained on screen."""
    def build() -> qs.Question:
        question = qs.pooling_question(window, mode, seed=int(np.random.default_rng().integers(1 << 30)))
        values = np.round(window) if signed else window
        picture = resources.matrix_png(values, signed=signed, limit=float(np.abs(values).max()) or 1.0 if signed
                                       else None, title="The window")
        return replace(question, pictures=((picture, "The window"),))

    offer("pooling", build)


def offer_class(class_names, image: np.ndarray, image_name: str, probabilities: Callable[[], np.ndarray]) -> None:
    """Offer "Which class will the network say?" for ``image`` (28x28 uint8) on screen; ``probabilities()``
    gives the network's class probabilities for it (called only when the presenter asks)."""
    def build() -> qs.Question:
        question = qs.class_question(class_names, probabilities(), seed=int(np.random.default_rng().integers(1 << 30)))
        picture = images.png_bytes(qs.thumbnail(np.asarray(image, dtype=np.uint8), 168))
        return replace(question, detail=f"For {image_name}, before we look at the network's answer.",
                       pictures=((picture, "The image"),))

    offer("activations", build)


# --------------------------------------------------------------------------
# The presenter's sidebar: ask, history
# --------------------------------------------------------------------------


def ask_panel(page_name: str) -> None:
    """The presenter's "Ask the class" panel: ask about this view, type a question, the history as CSV."""
    store = classroom.store()
    with st.expander("Ask the class", icon=":material/quiz:", expanded=True):
        if page_name in ASKABLE_PAGES:
            st.button("Ask about this view", icon=":material/help:", type="primary", key="questions_ask_view",
                      on_click=_pose_offer, args=(page_name,), width="stretch",
                      help=f"Every student is asked {ASKABLE_PAGES[page_name]}; you reveal the answers when you "
                           "are ready.")
        else:
            st.caption("On the Convolution, Pooling and Activation maps pages, one click asks about what is on screen.")
        st.button("Type a question…", icon=":material/edit_note:", key="questions_type", on_click=_open_typing,
                  width="stretch", help="A multiple-choice question of your own, shown to the class as plain text.")
        if error := st.session_state.get(ASK_ERROR_KEY):
            st.error(error, icon=":material/error:")
        history = store.history()
        if history:
            rows = qs.history_rows(history)
            st.caption(f"This class: {len(rows)} question{'s' if len(rows) != 1 else ''} answered.")
            st.dataframe([{k: r[k] for k in ("question", "answered", "right %")} for r in rows[-5:]],
                         hide_index=True, width="stretch")
            st.download_button("Download the history (CSV)", qs.history_csv(history), file_name="class-questions.csv",
                               mime="text/csv", icon=":material/download:", on_click="ignore",
                               key="questions_download", width="stretch")


def _pose(build: Callable[[], qs.Question]) -> None:
    """Pose what ``build()`` makes; a refusal (a view that cannot be asked about) is said in words."""
    token = st.session_state.get(classroom.PASS_KEY)
    try:
        classroom.store().pose(token, build())
    except (ValueError, PermissionError) as exc:
        st.session_state[ASK_ERROR_KEY] = f"This cannot be asked: {exc}."
        return
    st.session_state[ASK_ERROR_KEY] = None


def _pose_offer(page_name: str) -> None:
    on_page = st.session_state.get(OFFER_KEY)
    if on_page is None or on_page[0] != page_name:  # the page has not drawn its view yet
        st.session_state[ASK_ERROR_KEY] = "This page has not finished drawing its view yet: ask again in a moment."
        return
    _pose(on_page[1])


def _open_typing() -> None:
    st.session_state[TYPING_KEY] = True


def _close_typing() -> None:
    st.session_state[TYPING_KEY] = False


@st.dialog("Ask the class a question", width="medium", icon=":material/quiz:", on_dismiss=_close_typing)
def typed_question_dialog() -> None:
    """Type a multiple-choice question: the question, the choices one per line, the right one."""
    st.text_input("Question", key=FREE_PROMPT_KEY, max_chars=qs.MAX_PROMPT_CHARS,
                  placeholder="What does a 2x2 max pool do to a 28x28 image?")
    st.text_area("Choices, one per line", key=FREE_CHOICES_KEY, height=150,
                 max_chars=qs.MAX_CHOICES * (qs.MAX_CHOICE_CHARS + 1),
                 placeholder="It becomes 14x14\nIt becomes 26x26\nIt stays 28x28",
                 help=f"{qs.MIN_CHOICES} to {qs.MAX_CHOICES} choices. Students see them in a shuffled order.")
    lines = [line.strip() for line in str(st.session_state.get(FREE_CHOICES_KEY) or "").splitlines() if line.strip()]
    options = [NO_RIGHT_ANSWER, *(f"{i + 1}. {line[:40]}" for i, line in enumerate(lines[:qs.MAX_CHOICES]))]
    if st.session_state.get(FREE_RIGHT_KEY) not in options:
        st.session_state[FREE_RIGHT_KEY] = None
    st.selectbox("The right answer", options, key=FREE_RIGHT_KEY, index=None, placeholder="Choose the right answer…",
                 help="Shown to everybody when you reveal the answers. A poll has none.")
    st.button("Ask the class", type="primary", icon=":material/send:", key="questions_free_ask", on_click=_ask_typed,
              args=(options,))
    if error := st.session_state.get(TYPED_ERROR_KEY):
        st.error(error, icon=":material/error:")
    if not st.session_state.get(TYPING_KEY):  # asked: the whole page shows the question (and the dialog closes)
        st.rerun()


def _ask_typed(options: list[str]) -> None:
    if not st.session_state.get(TYPING_KEY):  # the dialog was already asked from (a repeated click): pose once
        return
    if st.session_state.get(FREE_RIGHT_KEY) not in options:
        st.session_state[TYPED_ERROR_KEY] = f"Choose the right answer (or \"{NO_RIGHT_ANSWER}\")."
        return
    right = options.index(st.session_state[FREE_RIGHT_KEY])
    try:
        question = qs.free_question(st.session_state.get(FREE_PROMPT_KEY), st.session_state.get(FREE_CHOICES_KEY),
                                    right)
    except ValueError as exc:
        st.session_state[TYPED_ERROR_KEY] = str(exc)
        return
    st.session_state[TYPED_ERROR_KEY] = None
    _pose(lambda: question)
    if not st.session_state.get(ASK_ERROR_KEY):
        _close_typing()
        st.session_state[FREE_PROMPT_KEY] = st.session_state[FREE_CHOICES_KEY] = ""


# --------------------------------------------------------------------------
# The question on every screen
# --------------------------------------------------------------------------


def changed_since_shown() -> bool:
    """Whether a question was posed, revealed or closed since this session's page was drawn (one integer)."""
    return classroom.store().question_version() != st.session_state.get(SEEN_KEY)


def card(presenting: bool) -> None:
    """The current question at the top of the page: the projector's card or this student's."""
    store = classroom.store()
    st.session_state[SEEN_KEY] = store.question_version()
    if presenting and st.session_state.get(TYPING_KEY):
        typed_question_dialog()
    question = store.question()
    if question is None:
        return
    if presenting:
        projector_card()
    else:
        student_card(classroom.student_id())


def _header(question: qs.Question) -> None:
    st.markdown(f"#### :material/quiz: Question {question.number}: {_text(question.prompt)}")
    if question.detail or question.pictures:
        words, *pictures = st.columns([1.3, *([1] * len(question.pictures))]) if question.pictures else [st.container()]
        if question.detail:
            words.caption(_text(question.detail))
        for column, (picture, caption) in zip(pictures, question.pictures):
            column.image(picture, caption=caption, width=QUESTION_PICTURE_WIDTH, output_format="PNG")


def _choice_body(question: qs.Question, index: int, tally: qs.Tally | None) -> None:
    """One choice: its picture or text; after the reveal, how many chose it and whether it is right."""
    choice = question.choices[index]
    if choice.picture is not None:
        st.image(choice.picture, width="stretch", output_format="PNG")
    revealed = question.state == qs.REVEALED
    if choice.picture is None or revealed:
        st.markdown(f"**{_text(choice.label)}**")
    if revealed and tally is not None:
        count = tally.counts[index]
        share = count / tally.answered if tally.answered else 0.0
        st.progress(share, text=f"{count} chose this ({100 * share:.0f} %)")
        if index == question.right:
            st.success("The right answer", icon=":material/check_circle:")


@anchored_fragment(run_every=PRESENTER_REFRESH_SECONDS)
def projector_card() -> None:
    """The projector: the question, how many answered (not what), then on reveal the distribution."""
    if st.session_state.pop(REDRAW_KEY, False):
        st.rerun()  # revealed or closed: the whole page (the sidebar's history, the card gone)
    store = classroom.store()
    question = store.question()
    if question is None:
        return
    tally = store.tally()
    with st.container(border=True, key=CARD_KEY):
        _header(question)
        revealed = question.state == qs.REVEALED
        for index, column in enumerate(st.columns(len(question.choices), gap="medium")):
            with column, st.container(border=True):
                _choice_body(question, index, tally if revealed else None)
        following = classroom.following()
        st.markdown(f"### :material/how_to_vote: {tally.answered} answered · {following} following")
        count, reveal, close = st.columns([1, 1.2, 1.2], vertical_alignment="center")
        if revealed:
            share = tally.right_share(question.right)
            count.caption("A poll: no right answer." if share is None and question.right is None else
                          "Nobody answered." if share is None else f"{100 * share:.0f} % chose the right answer.")
        else:  # the callbacks act; this fragment's next run then redraws the whole page
            reveal.button("Reveal answers", icon=":material/visibility:", type="primary", key="questions_reveal",
                          width="stretch", on_click=_presenter_acts, args=("reveal", question.number),
                          help="Shows everybody the distribution and the right answer; answers can no longer change.")
        close.button("Close question", icon=":material/close:", key="questions_close", width="stretch",
                     on_click=_presenter_acts, args=("close", question.number),
                     help="Takes the question off every screen; it stays in the history.")


def _presenter_acts(action: str, number: int) -> None:
    """Reveal or close question ``number`` (the store checks the pass; a question already gone is no error)."""
    store, token = classroom.store(), st.session_state.get(classroom.PASS_KEY)
    try:
        (store.reveal if action == "reveal" else store.close)(token, number)
        st.session_state[REDRAW_KEY] = True
    except (ValueError, PermissionError):
        pass  # another presenter's tab moved on (or ended the class): the card redraws what is current


@anchored_fragment
def student_card(student: str) -> None:
    """A student's question: the choices in this student's own order; answering reruns only this."""
    store = classroom.store()
    question = store.question()
    message = st.session_state.get(MESSAGE_KEY)
    if question is None:  # closed since this screen was drawn: say why an answer just sent was not taken
        if message is not None and message[2]:
            st.warning(message[1], icon=":material/block:")
            st.session_state[MESSAGE_KEY] = None
        return
    mine = store.answer_of(question.number, student)
    revealed = question.state == qs.REVEALED
    tally = store.tally() if revealed else None
    with st.container(border=True, key=CARD_KEY):
        _header(question)
        order = qs.choice_order(question.number, len(question.choices), student)
        for index, column in zip(order, st.columns(len(order), gap="medium")):
            with column, st.container(border=True):
                _choice_body(question, index, tally)
                if not revealed:
                    chosen = index == mine
                    st.button("My answer" if chosen else "Choose this", key=f"questions_answer_{index}",
                              type="primary" if chosen else "secondary", icon=":material/check:" if chosen else None,
                              on_click=_answer, args=(question.number, student, index), width="stretch")
        if message is not None and message[0] == question.number and (message[2] or not revealed):
            if message[2]:
                st.warning(message[1], icon=":material/block:")
            else:
                st.caption(message[1])
        if revealed:
            if mine is None:
                st.info("You did not answer this one. The right answer is marked above." if question.right is not None
                        else "You did not answer this poll.", icon=":material/info:")
            elif question.right is None:
                st.info(f"You chose {_text(question.choices[mine].label)}.", icon=":material/how_to_vote:")
            elif mine == question.right:
                st.success("**Right!** Your answer is the right one.", icon=":material/celebration:")
            else:
                st.error("**Not this time.** Your answer is not the right one; the right one is marked above.",
                         icon=":material/cancel:")
        elif mine is None:
            st.caption("Choose one answer. You can change it until the instructor reveals the answers.")


def _answer(number: int, student: str, index: int) -> None:
    try:
        classroom.store().answer(number, student, index)
    except qs.AnswerRefused as exc:
        st.session_state[MESSAGE_KEY] = (number, str(exc), True)
        return
    st.session_state[MESSAGE_KEY] = (number, ANSWER_TAKEN, False)
