"""The answering rules through a classroom store, the same for both backends (memory and Redis; see the
``make_store`` fixture): what tests/core/test_questions.py checks on a QuestionBook, through the store."""

from __future__ import annotations

import threading

import pytest

from cnnviz.core import classroom as cls
from cnnviz.core import questions as qs


def free(right: int = 1) -> qs.Question:
    return qs.free_question("Which one?", "a\nb\nc", right)


def live(make_store):
    store = make_store()
    token = store.new_pass()
    store.publish(token, "pixels", {})
    return store, token


def test_one_answer_per_student_changeable_until_the_reveal(make_store):
    store, token = live(make_store)
    q = store.pose(token, free())
    store.answer(q.number, "ann", 0)
    store.answer(q.number, "bob", 1)
    assert store.answer(q.number, "ann", 1).counts == (0, 2, 0)
    with pytest.raises(qs.AnswerRefused, match="already your answer"):
        store.answer(q.number, "ann", 1)
    store.reveal(token, q.number)
    for student, choice in (("ann", 0), ("late", 0)):
        with pytest.raises(qs.AnswerRefused, match="revealed"):
            store.answer(q.number, student, choice)
    assert store.tally() == qs.Tally(q.number, 2, (0, 2, 0))
    assert [r.question.number for r in store.history()] == [q.number]  # the revealed current one is listed


@pytest.mark.parametrize("number, student, choice, message", [
    (99, "s", 0, "no such question"), ("1", "s", 0, "no such question"), (1, "s", 3, "not one of the choices"),
    (1, "s", -1, "not one of the choices"), (1, "s", "0", "not one of the choices"),
    (1, "s", True, "not one of the choices"), (1, "s", 10**30, "not one of the choices"),
    (1, "x" * 65, 0, "does not say who"), (1, "", 0, "does not say who"), (1, None, 0, "does not say who"),
])
def test_malformed_answers_are_refused_and_nothing_counted_is_lost(make_store, number, student, choice, message):
    store, token = live(make_store)
    q = store.pose(token, free())
    assert q.number == 1
    store.answer(q.number, "counted", 2)
    with pytest.raises(qs.AnswerRefused, match=message):
        store.answer(number, student, choice)
    assert store.tally().counts == (0, 0, 1)


def test_answers_to_a_closed_question_are_refused_and_it_goes_into_the_history(make_store):
    store, token = live(make_store)
    first = store.pose(token, free())
    store.answer(first.number, "ann", 1)
    store.close(token, first.number)
    assert store.question() is None
    with pytest.raises(qs.AnswerRefused, match="closed"):
        store.answer(first.number, "bob", 1)
    second = store.pose(token, free(0))
    with pytest.raises(qs.AnswerRefused, match="closed"):
        store.answer(first.number, "bob", 1)
    assert store.answer(second.number, "bob", 1).answered == 1  # the next question starts empty
    (record,) = store.history()
    assert record.tally.counts == (0, 1, 0) and record.question.number == first.number
    assert record.question.state == qs.CLOSED


def test_posing_the_next_question_files_the_current_one(make_store):
    store, token = live(make_store)
    first = store.pose(token, free())
    store.answer(first.number, "ann", 1)
    store.pose(token, free())
    (record,) = store.history()
    assert record.question.number == first.number and record.tally.counts == (0, 1, 0)
    assert store.question().number == first.number + 1 and store.tally().answered == 0


def test_a_question_with_pictures_comes_back_whole(make_store):
    store, token = live(make_store)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    question = qs.Question("kernel", "Which?", (qs.Choice("a", png), qs.Choice("b", png[::-1])), 0,
                           detail="d", pictures=((png, "The input"),))
    posed = store.pose(token, question)
    assert store.question() == posed and store.question().choices[1].picture == png[::-1]
    store.reveal(token, posed.number)
    assert store.question().state == qs.REVEALED and store.question().pictures == ((png, "The input"),)


def test_the_class_size_is_bounded(make_store):
    store, token = live(make_store)
    q = store.pose(token, free())
    for i in range(qs.MAX_ANSWERS):
        store.answer(q.number, f"s{i}", 0)
    with pytest.raises(qs.AnswerRefused, match="no more are taken"):
        store.answer(q.number, "one-too-many", 0)
    store.answer(q.number, "s0", 1)  # a counted student may still change
    assert store.tally().answered == qs.MAX_ANSWERS


def test_the_history_is_bounded(make_store):
    store, token = live(make_store)
    for _ in range(qs.MAX_HISTORY + 3):
        store.pose(token, free())
    store.close(token, store.question().number)
    assert len(store.history()) == qs.MAX_HISTORY


def test_answers_from_many_threads_are_each_counted_once(make_store):
    store, token = live(make_store)
    q = store.pose(token, free())

    def answer(n):
        for i in range(50):
            store.answer(q.number, f"t{n}-{i}", i % 3)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.tally().answered == 200 and sum(store.tally().counts) == 200


def test_the_store_says_it_is_available(make_store):
    assert make_store().available()
    with pytest.raises(cls.NotPresenter):
        make_store().pose("forged", free())
