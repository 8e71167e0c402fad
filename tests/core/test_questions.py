"""Questions to the class: generation, shuffling, counting, the rules, the store's presenter checks, CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from skimage import data

from cnnviz.core import classroom as cls
from cnnviz.core import questions as qs
from cnnviz.core.convolution import ConvolutionSettings
from cnnviz.core.images import png_bytes


def free(right: int = 2) -> qs.Question:
    return qs.free_question("Which layer shrinks the image?", "Convolution\nPooling\nDense", right)


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera()[::2, ::2]


# --- generation -------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_kernel_question_holds_the_true_result_and_three_that_look_different(camera, seed):
    settings = ConvolutionSettings()
    q = qs.kernel_question(camera, settings, kernel_name="Course: horizontal edges", image_name="the camera",
                           seed=seed)
    assert len(q.choices) == qs.GENERATED_CHOICES and q.shows_pictures
    truth = qs.thumbnail(settings.apply(camera)[1])
    assert q.choices[q.right].picture == png_bytes(truth)
    assert "(this kernel)" in q.choices[q.right].label
    assert len({c.picture for c in q.choices}) == 4  # four different pictures
    assert all(len(c.picture) <= qs.MAX_PICTURE_BYTES for c in q.choices)
    qs.check_question(q)


def test_kernel_distractors_differ_from_the_result_by_at_least_the_threshold(camera):
    from PIL import Image

    settings = ConvolutionSettings()
    q = qs.kernel_question(camera, settings, kernel_name="k", image_name="x")
    arrays = [np.asarray(Image.open(io.BytesIO(c.picture)), dtype=np.int16) for c in q.choices]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(arrays[i] - arrays[j]).mean() >= qs.MIN_DIFFERENCE


def test_a_kernel_question_on_a_flat_image_is_refused_in_words():
    with pytest.raises(ValueError, match="too few other kernels"):
        qs.kernel_question(np.full((20, 20), 7, np.uint8), ConvolutionSettings(), kernel_name="k", image_name="x")


@pytest.mark.parametrize("mode, expected", [("max", "9"), ("min", "1"), ("average", "4.5")])
def test_a_pooling_question_holds_the_kept_value_and_distinct_others(mode, expected):
    window = np.array([[1, 9], [3, 5]], float)
    q = qs.pooling_question(window, mode)
    labels = [c.label for c in q.choices]
    assert labels[q.right] == expected
    assert len(set(labels)) == len(labels) == qs.GENERATED_CHOICES
    assert expected not in labels[:q.right] + labels[q.right + 1:]


def test_a_pooling_window_of_one_value_cannot_be_asked_about():
    with pytest.raises(ValueError, match="every value of this window is the same"):
        qs.pooling_question(np.ones((2, 2)), "max")


def test_a_class_question_offers_the_predicted_class_and_the_next_likeliest():
    names = [f"class {i}" for i in range(10)]
    probabilities = np.array([0.01, 0.5, 0.02, 0.2, 0.1, 0.05, 0.03, 0.04, 0.03, 0.02])
    q = qs.class_question(names, probabilities)
    assert q.choices[q.right].label == "class 1"
    assert {c.label for c in q.choices} == {"class 1", "class 3", "class 4", "class 5"}


@pytest.mark.parametrize("prompt, choices, right, message", [
    ("", "a\nb", 1, "Type the question"),
    ("Q?", "only one", 1, "2 to 6 choices"),
    ("Q?", "a\na", 1, "Two choices are the same"),
    ("Q?", "a\nb", 3, "right answer"),
    ("x" * 301, "a\nb", 1, "at most 300"),
    ("Q?", "a\n" + "b" * 121, 1, "at most 120"),
])
def test_a_badly_typed_free_question_is_refused_in_words(prompt, choices, right, message):
    with pytest.raises(ValueError, match=message):
        qs.free_question(prompt, choices, right)


def test_a_free_question_keeps_the_teachers_text_as_plain_text_and_may_be_a_poll():
    q = qs.free_question("<b>Which?</b>", " <script>x</script> \n\nB\n", 0)
    assert q.prompt == "<b>Which?</b>" and [c.label for c in q.choices] == ["<script>x</script>", "B"]
    assert q.right is None


def test_choice_order_is_a_stable_per_student_permutation():
    orders = {tuple(qs.choice_order(3, 4, f"student{i}")) for i in range(40)}
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders)
    assert len(orders) > 5  # students see different orders
    assert qs.choice_order(3, 4, "s") == qs.choice_order(3, 4, "s")


# --- counting and the rules ---------------------------------------------------


def test_one_answer_per_student_changeable_until_the_reveal():
    book = qs.QuestionBook()
    q = book.pose(free())
    book.answer(q.number, "ann", 0)
    book.answer(q.number, "bob", 1)
    assert book.answer(q.number, "ann", 1).counts == (0, 2, 0)  # ann changed her mind: still one answer
    with pytest.raises(qs.AnswerRefused, match="already your answer"):
        book.answer(q.number, "ann", 1)
    book.reveal(q.number)
    with pytest.raises(qs.AnswerRefused, match="revealed"):
        book.answer(q.number, "ann", 0)
    with pytest.raises(qs.AnswerRefused, match="revealed"):
        book.answer(q.number, "late", 0)
    assert book.tally() == qs.Tally(q.number, 2, (0, 2, 0))


@pytest.mark.parametrize("number, student, choice, message", [
    (99, "s", 0, "no such question"),
    ("1", "s", 0, "no such question"),
    (1, "s", 3, "not one of the choices"),
    (1, "s", -1, "not one of the choices"),
    (1, "s", "0", "not one of the choices"),
    (1, "s", True, "not one of the choices"),
    (1, "s", 10**30, "not one of the choices"),
    (1, "x" * 65, 0, "does not say who"),
    (1, "", 0, "does not say who"),
    (1, None, 0, "does not say who"),
])
def test_malformed_answers_are_refused_and_nothing_counted_is_lost(number, student, choice, message):
    book = qs.QuestionBook()
    q = book.pose(free())
    book.answer(q.number, "counted", 2)
    with pytest.raises(qs.AnswerRefused, match=message):
        book.answer(number, student, choice)
    assert book.tally().counts == (0, 0, 1)


def test_answers_to_a_closed_question_are_refused_and_it_goes_into_the_history():
    book = qs.QuestionBook()
    first = book.pose(free())
    book.answer(first.number, "ann", 1)
    book.close(first.number)
    assert book.current is None
    with pytest.raises(qs.AnswerRefused, match="closed"):
        book.answer(first.number, "bob", 1)
    second = book.pose(free(0))
    with pytest.raises(qs.AnswerRefused, match="closed"):
        book.answer(first.number, "bob", 1)
    assert book.answer(second.number, "bob", 1).answered == 1  # the next question starts empty
    (record,) = book.history()
    assert record.tally.counts == (0, 1, 0) and record.question.number == first.number


def test_posing_the_next_question_files_the_current_one():
    book = qs.QuestionBook()
    first = book.pose(free())
    book.answer(first.number, "ann", 1)
    book.reveal(first.number)
    assert [r.question.number for r in book.history()] == [1]  # the revealed current one is listed
    book.pose(free())
    assert [r.question.number for r in book.history()] == [1]
    assert book.current.number == 2 and book.tally().answered == 0


def test_the_class_size_is_bounded():
    book = qs.QuestionBook()
    q = book.pose(free())
    for i in range(qs.MAX_ANSWERS):
        book.answer(q.number, f"s{i}", 0)
    with pytest.raises(qs.AnswerRefused, match="no more are taken"):
        book.answer(q.number, "one-too-many", 0)
    book.answer(q.number, "s0", 1)  # a counted student may still change
    assert book.tally().answered == qs.MAX_ANSWERS


def test_the_history_is_bounded():
    book = qs.QuestionBook()
    for _ in range(qs.MAX_HISTORY + 5):
        book.pose(free())
    book.close(book.current.number)
    assert len(book.history()) == qs.MAX_HISTORY


@pytest.mark.parametrize("bad", [
    "not a question",
    qs.Question("other", "Q?", (qs.Choice("a"), qs.Choice("b")), 0),
    qs.Question("free", "Q?", (qs.Choice("a"),), 0),
    qs.Question("free", "Q?", (qs.Choice("a"), qs.Choice("b")), 2),
    qs.Question("free", "Q?", (qs.Choice("a"), qs.Choice("b", b"x" * (qs.MAX_PICTURE_BYTES + 1))), 0),
    qs.Question("free", "Q?", (qs.Choice("a"), qs.Choice("a")), 0),
])
def test_malformed_questions_are_refused(bad):
    with pytest.raises(ValueError):
        qs.QuestionBook().pose(bad)


# --- the store: only the presenter poses, reveals, closes ---------------------


def test_only_a_presenter_pass_poses_reveals_and_closes(make_store):
    store = make_store()
    token = store.new_pass()
    store.publish(token, "pixels", {})
    for forged in (None, "", "forged", 12, object()):
        with pytest.raises(cls.NotPresenter):
            store.pose(forged, free())
    q = store.pose(token, free())
    version = store.question_version()
    store.answer(q.number, "ann", 2)
    assert store.question_version() == version  # answers do not make students rerun
    for forged in (None, "forged"):
        with pytest.raises(cls.NotPresenter):
            store.reveal(forged, q.number)
        with pytest.raises(cls.NotPresenter):
            store.close(forged, q.number)
    assert store.question().state == qs.OPEN and store.tally().counts == (0, 0, 1)
    store.reveal(token, q.number)
    assert store.question().state == qs.REVEALED and store.question_version() > version
    assert store.answer_of(q.number, "ann") == 2 and store.answer_of(q.number, "bob") is None


def test_stopping_the_presentation_ends_its_question(make_store):
    store = make_store()
    token = store.new_pass()
    store.publish(token, "pixels", {})
    store.pose(token, free())
    store.stop(token)
    assert store.question() is None and len(store.history()) == 1


# --- CSV --------------------------------------------------------------------------


def test_the_history_csv_has_one_line_per_question_and_no_formulas():
    book = qs.QuestionBook()
    q = book.pose(qs.free_question("=HYPERLINK(\"x\")", "=1+1\n@SUM\nplain", 3))
    book.answer(q.number, "ann", 2)
    book.answer(q.number, "bob", 0)
    book.reveal(q.number)
    rows = list(csv.DictReader(io.StringIO(qs.history_csv(book.history()))))
    assert len(rows) == 1
    row = rows[0]
    assert row["question"].startswith("'=") and row["right answer"] == "plain"
    assert row["answered"] == "2" and row["right"] == "1" and row["right %"] == "50"
    assert row["answers per choice"].startswith("'=1+1: 1; @SUM: 0; plain: 1")
