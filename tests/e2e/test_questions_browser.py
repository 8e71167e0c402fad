"""Ask the class in two real browsers: the presenter poses a question about the kernel on screen, a student
answers (and changes their mind), the presenter reveals, the student sees whether they were right.

Screenshots of the student's live question and of the projector's reveal are saved to
``CNNVIZ_SHOTS`` when that folder is set (for looking at them; nothing depends on it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.e2e.conftest import PRESENTER_KEY, assert_no_exception, open_page, wait_idle
from tests.e2e.test_classroom_browser import eventually, tab, type_key  # noqa: F401 - tab is a fixture

KEY = PRESENTER_KEY


def shot(page, name: str) -> None:
    folder = os.environ.get("CNNVIZ_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def card(page):
    return page.locator(".st-key-class_question")


def test_pose_answer_change_reveal_in_two_browsers(class_url, tab):  # noqa: F811 - pytest fixtures
    teacher, student = tab(), tab()
    open_page(teacher, class_url, "convolution")
    type_key(teacher, KEY)
    open_page(student, class_url, "pixels")
    eventually(lambda: student.url.split("?")[0].endswith("/convolution"), 15, "student follows to Convolution")
    wait_idle(student)

    teacher.get_by_test_id("stSidebar").get_by_role("button", name="Ask about this view").click()
    wait_idle(teacher)
    eventually(lambda: card(teacher).count() == 1, 10, "the projector shows the question")
    assert "Which of these is this kernel's result?" in card(teacher).inner_text()
    assert re.search(r"0 answered", card(teacher).inner_text())

    # The student's screen shows the question within a poll or two, four pictures to choose from.
    eventually(lambda: card(student).count() == 1, 10, "the student sees the question")
    wait_idle(student)
    choose = card(student).get_by_role("button", name="Choose this")
    assert choose.count() == 4
    assert card(student).get_by_test_id("stImage").count() >= 4
    choose.nth(0).click()
    wait_idle(student)
    eventually(lambda: card(student).get_by_role("button", name="My answer").count() == 1, 8, "answer marked")
    card(student).get_by_role("button", name="Choose this").nth(2).click()  # changes their mind
    wait_idle(student)
    eventually(lambda: "1 answered" in card(teacher).inner_text(), 5, "the projector counts one answer")
    assert card(teacher).get_by_text(re.compile("chose this")).count() == 0  # how many, not what
    shot(student, "student-live-question")
    assert_no_exception(student)

    card(teacher).get_by_role("button", name="Reveal answers").click()
    wait_idle(teacher)
    eventually(lambda: "chose this" in card(teacher).inner_text(), 8, "the projector shows the distribution")
    assert card(teacher).get_by_text("The right answer", exact=True).count() == 1
    assert "1 chose this (100 %)" in card(teacher).inner_text()
    shot(teacher, "projector-reveal")
    eventually(lambda: re.search(r"Right!|Not this time", card(student).inner_text()) is not None, 10,
               "the student sees whether they were right")
    wait_idle(student)
    assert card(student).get_by_role("button", name="Choose this").count() == 0  # no more changes
    shot(student, "student-reveal")

    card(teacher).get_by_role("button", name="Close question").click()
    wait_idle(teacher)
    eventually(lambda: card(student).count() == 0, 10, "the question leaves the student's screen")
    assert teacher.get_by_test_id("stSidebar").get_by_role("button", name="Download the history (CSV)").is_visible()
    assert_no_exception(teacher)
    assert_no_exception(student)
