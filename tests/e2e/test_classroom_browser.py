"""Follow the instructor in two real browsers: a presenter and a student on one server."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import (
    PRESENTER_KEY,
    assert_no_exception,
    assert_no_frontend_error,
    open_page,
    wait_idle,
    watch_frontend_errors,
)

KEY = PRESENTER_KEY


@pytest.fixture
def tab(browser):
    """A factory of fresh tabs, each its own browser context (its own session, as another student)."""
    contexts, errors = [], []

    def new():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors.append(watch_frontend_errors(page))
        return page

    yield new
    for context in contexts:
        context.close()
    for recorded in errors:  # a page switch while following must not break the browser's app
        assert_no_frontend_error(recorded)


def type_key(page, key: str) -> None:
    panel = page.get_by_test_id("stSidebar")
    if not panel.get_by_label("Presenter key", exact=True).is_visible():
        panel.get_by_text("Present to the class").click()
    panel.get_by_label("Presenter key", exact=True).fill(key)
    panel.get_by_role("button", name="Start presenting").click()
    wait_idle(page)


def eventually(check, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def act_until(action, check, what: str, tries: int = 3, timeout: float = 10.0) -> None:
    """Do ``action`` until ``check`` holds (on a machine loaded far beyond its cores, a click landing
    while a timed fragment reruns is now and then lost; the test is about what follows the click)."""
    for attempt in range(tries):
        action()
        try:
            return eventually(check, timeout, what)
        except AssertionError:
            if attempt == tries - 1:
                raise


def stride_radio(page, value: str):
    return page.locator(".st-key-conv_stride").get_by_role("radio", name=value, exact=True)


def flipped(page) -> bool:
    return page.locator(".st-key-conv_flip").get_by_role("switch").is_checked()


@pytest.mark.flaky(reruns=2)  # known defect: now and then a follower's page switch stalls (issue 19); reported as a rerun
def test_a_student_follows_the_presenter_leaves_and_rejoins(class_url, tab):
    teacher, student = tab(), tab()
    open_page(teacher, class_url)
    type_key(teacher, "not the key")
    assert teacher.get_by_text("That is not the presenter key").is_visible()
    assert teacher.get_by_text(re.compile(r"Presenting · ")).count() == 0
    type_key(teacher, KEY)
    assert teacher.get_by_test_id("stSidebar").get_by_text(re.compile(r"Presenting · \d+ following")).is_visible()

    open_page(student, class_url, "pixels")
    # The student's page notices the presentation (it asks every few seconds) and follows it.
    eventually(lambda: student.get_by_text("Following the instructor").count() > 0, 25, "follow panel shown")

    teacher.get_by_test_id("stSidebarNavLink").filter(has_text="Convolution").click()
    wait_idle(teacher)
    eventually(lambda: student.url.split("?")[0].endswith("/convolution"), 20, "student switched to Convolution")
    wait_idle(student)
    assert_no_exception(student)
    eventually(lambda: "1 following" in teacher.get_by_test_id("stSidebar").inner_text(), 20, "teacher sees 1 follower")

    # A setting the teacher changes reaches the student's screen (widgets are checked, not the URL: a URL
    # written by a fragment's run can reach the address bar a run late).
    act_until(lambda: teacher.locator(".st-key-conv_stride").get_by_text("2", exact=True).click(), lambda: stride_radio(teacher, "2").is_checked(),
              "teacher's stride is 2")
    eventually(lambda: stride_radio(student, "2").is_checked(), 20, "student's view took stride 2")

    # The student changes something: they leave follow mode and keep their own view.
    act_until(lambda: student.locator(".st-key-conv_stride").get_by_text("3", exact=True).click(),
              lambda: student.get_by_text("You stopped following").count() > 0, "leave notice")
    teacher.locator(".st-key-conv_flip").get_by_text("Flip kernel").click()  # a toggle: clicked once
    eventually(lambda: flipped(teacher), 20, "teacher's kernel flipped")
    time.sleep(2.5)  # two polls: a follower would have taken the teacher's flip by now
    assert stride_radio(student, "3").is_checked() and not flipped(student)

    # One click rejoins: the student snaps back to the teacher's view.
    act_until(lambda: student.get_by_role("button", name="Follow the instructor").click(),
              lambda: stride_radio(student, "2").is_checked() and flipped(student), "snapped back")
    wait_idle(student)
    assert_no_exception(student)
    assert_no_exception(teacher)
