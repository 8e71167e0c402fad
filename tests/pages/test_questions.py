"""AppTest of asking the class: the presenter poses from the view or types a question, reveals and closes;
a student answers, changes their answer, and sees whether they were right."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cnnviz.core import questions as qs
from cnnviz.ui import classroom
from cnnviz.ui import questions as ask
from tests.conftest import ROOT
from tests.pages.test_classroom import KEY, fresh_classroom, type_key  # noqa: F401 - fresh_classroom: an autouse fixture


def app(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, label: str, *, sidebar: bool = False) -> None:
    buttons = at.sidebar.button if sidebar else at.button  # (a dialog's buttons are outside main)
    next(b for b in buttons if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.markdown, at.success, at.error, at.info, at.warning, at.caption)
                    for e in kind).replace("**", "")


def presenter(page: str) -> AppTest:
    at = app(page)
    type_key(at, KEY)
    return at


def pose_free(right: int = 2) -> qs.Question:
    store = classroom.store()
    token = next(iter(store._passes)) if store._passes else store.new_pass()
    if store.presentation() is None:
        store.publish(token, "pixels", {})
    return store.pose(token, qs.free_question("Which layer shrinks the image?", "Convolution\nPooling\nDense", right)), token


def test_the_presenter_asks_about_the_kernel_on_screen_and_sees_the_count():
    at = presenter("convolution")
    click(at, "Ask about this view", sidebar=True)
    question = classroom.store().question()
    assert question is not None and question.kind == "kernel" and len(question.choices) == 4
    assert "Question 1: Which of these is this kernel" in texts(at)
    assert "0 answered" in texts(at)
    assert any(b.label == "Reveal answers" for b in at.main.button)


def test_the_presenter_asks_which_value_a_pooling_window_keeps():
    at = presenter("pooling")
    click(at, "Ask about this view", sidebar=True)
    question = classroom.store().question()
    assert question.kind == "pooling" and question.prompt == "Which value does this window keep?"
    assert len({c.label for c in question.choices}) == 4


def test_the_presenter_asks_which_class_the_network_will_say():
    at = presenter("activations")
    click(at, "Ask about this view", sidebar=True)
    question = classroom.store().question()
    assert question.kind == "class" and question.prompt == "Which class will the network say?"
    assert len(question.choices) == 4 and question.right is not None
    assert "the first image on screen" in question.detail


def test_on_a_page_without_an_offer_the_panel_says_where_one_click_asks():
    at = presenter("pixels")
    assert not any(b.label == "Ask about this view" for b in at.sidebar.button)
    assert any("one click asks about what is on screen" in c.value for c in at.sidebar.caption)


def test_a_student_answers_changes_and_sees_whether_they_were_right():
    question, token = pose_free(right=2)
    student = app("pixels")
    assert "Question 1: Which layer shrinks the image?" in texts(student)
    me = student.session_state[classroom.FOLLOWER_KEY]
    order = qs.choice_order(question.number, 3, me)
    choose = [b for b in student.main.button if b.label == "Choose this"]
    assert len(choose) == 3
    wrong_position = next(i for i, index in enumerate(order) if index != 1)
    choose[wrong_position].click()
    student.run()
    assert classroom.store().tally().answered == 1
    assert ask.ANSWER_TAKEN in texts(student)
    assert [b.label for b in student.main.button].count("My answer") == 1
    right_position = order.index(1)
    student.main.button[right_position].click()  # changes the answer: still one counted
    student.run()
    assert classroom.store().tally() == qs.Tally(1, 1, (0, 1, 0))
    classroom.store().reveal(token, question.number)
    student.run()
    assert "Right! Your answer is the right one." in texts(student)
    assert "The right answer" in texts(student)
    assert not any(b.label in ("Choose this", "My answer") for b in student.main.button)


def test_a_wrong_answer_is_told_and_a_late_student_can_still_answer():
    question, token = pose_free(right=1)
    late = app("convolution")  # joins after the question was posed
    late.main.button[qs.choice_order(question.number, 3, late.session_state[classroom.FOLLOWER_KEY]).index(2)].click()
    late.run()
    classroom.store().reveal(token, question.number)
    late.run()
    assert "Not this time." in texts(late)


def test_the_teacher_types_a_question_shown_as_plain_text():
    at = presenter("pixels")
    click(at, "Type a question…", sidebar=True)
    at.text_input(key=ask.FREE_PROMPT_KEY).input("**Bold?** <b>html</b>")
    at.text_area(key=ask.FREE_CHOICES_KEY).input("Yes\nNo")
    at.run()
    at.selectbox(key=ask.FREE_RIGHT_KEY).set_value("2. No")
    at.run()
    click(at, "Ask the class")
    question = classroom.store().question()
    assert question.prompt == "**Bold?** <b>html</b>" and question.right == 1
    shown = next(m.value for m in at.markdown if "Question 1" in m.value)
    assert "\\*\\*Bold?\\*\\* \\<b\\>html\\</b\\>" in shown  # Markdown escaped: shown as typed


def test_a_badly_typed_question_is_refused_in_words_and_nothing_is_posed():
    at = presenter("pixels")
    click(at, "Type a question…", sidebar=True)
    at.text_input(key=ask.FREE_PROMPT_KEY).input("Only one choice?")
    at.text_area(key=ask.FREE_CHOICES_KEY).input("Yes")
    at.run()
    at.selectbox(key=ask.FREE_RIGHT_KEY).set_value(ask.NO_RIGHT_ANSWER)
    at.run()
    click(at, "Ask the class")
    assert any("2 to 6 choices" in e.value for e in at.error)
    assert classroom.store().question() is None


def test_a_typed_question_needs_its_right_answer_chosen():
    at = presenter("pixels")
    click(at, "Type a question…", sidebar=True)
    at.text_input(key=ask.FREE_PROMPT_KEY).input("Q?")
    at.text_area(key=ask.FREE_CHOICES_KEY).input("Yes\nNo")
    at.run()
    click(at, "Ask the class")
    assert any("Choose the right answer" in e.value for e in at.error)
    assert classroom.store().question() is None
    at.selectbox(key=ask.FREE_RIGHT_KEY).set_value(ask.NO_RIGHT_ANSWER)
    at.run()
    click(at, "Ask the class")
    assert classroom.store().question().right is None  # a poll


def test_reveal_then_close_and_the_history_downloads_as_csv():
    at = presenter("pixels")
    question, _ = pose_free()
    classroom.store().answer(question.number, "someone", 1)
    at.run()
    assert "1 answered" in texts(at)
    assert "1 chose this" not in texts(at)  # not what they answered, before the reveal
    assert not at.get("progress")
    click(at, "Reveal answers")
    assert classroom.store().question().state == qs.REVEALED
    assert "1 chose this (100 %)" in [p.proto.text for p in at.get("progress")]
    assert "100 % chose the right answer." in texts(at)
    assert at.sidebar.get("download_button")
    click(at, "Close question")
    assert classroom.store().question() is None
    assert "Question 1" not in texts(at)
    csv_text = qs.history_csv(classroom.store().history())
    assert "Which layer shrinks the image?" in csv_text and ",1,1,100," in csv_text
