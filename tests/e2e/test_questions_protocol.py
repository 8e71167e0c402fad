"""Questions over Streamlit's websocket protocol: a student cannot pose, reveal or close whatever it sends;
malformed, duplicate, late and closed answers are refused in words and nothing counted is lost.

The student's session sends what a browser's interface never sends: the presenter's own widget
ids (they are the same in every session), forged ids named like the presenter's controls and
like answers to choices that do not exist, values of the wrong type. The server runs in its own process: the store is observed through
what the projector shows (its count of answers, whether anything was revealed).
"""

from __future__ import annotations

import asyncio

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.bench_class import Record, Session
from benchmarks.bench_follow import poll, present
from benchmarks.bench_questions import (
    answer_buttons,
    ask,
    click,
    fragment_of,
    projector_count,
)
from tests.e2e.conftest import PRESENTER_KEY, run_async

KEY = PRESENTER_KEY
PRESENTER_KEYS = ("questions_ask_view", "questions_type", "questions_free_ask", "questions_reveal", "questions_close",
                  "questions_download", "classroom_stop")




async def sees_question(s: Session, tries: int = 8) -> bool:
    for _ in range(tries):
        await asyncio.sleep(1.0)
        await poll(s)
        if answer_buttons(s) or any("Question " in t for t in s.texts):
            return True
    return False


def forged(s: Session, teacher_ids: dict[str, str]) -> list[WidgetState]:
    """Triggers and values for the presenter's controls (their real ids) and for answers that do not exist."""
    out = []
    for key in PRESENTER_KEYS:
        for wid in {teacher_ids.get(key, key), key, f"$$ID-00000000000000000000000000000000-{key}"}:
            out.append(WidgetState(id=wid, trigger_value=True))
    for index in (-1, 4, 99, 10**12):
        out.append(WidgetState(id=f"$$ID-00000000000000000000000000000000-questions_answer_{index}",
                               trigger_value=True))
    for wid in (s.ids.get("questions_answer_0", "questions_answer_0"),):
        out.append(WidgetState(id=wid + "x", string_value="x" * 100_000))
    return out


async def scenario(url: str) -> dict:
    rec = Record()
    out: dict = {}
    async with Session(url, rec) as teacher, Session(url, rec) as student, Session(url, rec) as late:
        await teacher.open("pooling", record=False)
        await present(teacher, KEY)
        await student.open("", record=False)
        assert await sees_question(student, 1) is False  # no question yet: nothing to answer

        # Before any question: the student's forged presenter clicks pose nothing.
        for fragment in ("", *student.timers):
            cs = ClientState(query_string=student.query, page_script_hash=student.page_hash, fragment_id=fragment)
            cs.widget_states.widgets.extend([*student.states(), *forged(student, teacher.ids)])
            await student.run(cs)
        out["posed_by_student"] = await projector_count(teacher)

        await ask(teacher)
        assert await sees_question(student), student.texts
        buttons = answer_buttons(student)
        out["choices"] = len(buttons)
        await click(student, buttons[0], fragment_of(student, buttons[0]))
        out["count_after_answer"] = await projector_count(teacher)
        await click(student, buttons[0], fragment_of(student, buttons[0]))  # the same answer again
        out["duplicate"] = list(student.texts)
        out["count_after_duplicate"] = await projector_count(teacher)

        # Forged reveal/close/answers from the student, in the card's fragment and the page. Each time the
        # student's page is opened afresh: a forged state under the id of a keyed widget this session never
        # drew (the presenter's real ids) makes Streamlit's own session_state lookup fail in the forging
        # session (its page shows the app's "Something went wrong" notice); no other session is affected.
        for fragment in (fragment_of(student, buttons[0]), ""):
            cs = ClientState(query_string=student.query, page_script_hash=student.page_hash, fragment_id=fragment)
            cs.widget_states.widgets.extend([*student.states(), *forged(student, teacher.ids)])
            await student.run(cs)
            await student.open(student.page, record=False)
        out["count_after_forgery"] = await projector_count(teacher)
        out["projector_after_forgery"] = list(teacher.texts)

        # A late student joins and answers; then the teacher closes; a stale screen answers after the close.
        await late.open("pixels", record=False)
        assert await sees_question(late), late.texts
        late_buttons = answer_buttons(late)
        await click(late, late_buttons[1], fragment_of(late, late_buttons[1]))
        out["count_after_late"] = await projector_count(teacher)
        await click(teacher, "questions_close", fragment_of(teacher, "questions_close"))
        buttons = answer_buttons(student)
        await click(student, buttons[2], fragment_of(student, buttons[2]))  # its screen still shows the question
        out["after_close"] = list(student.texts)
    out["errors"] = rec.errors
    return out


def test_students_cannot_pose_reveal_or_close_and_bad_answers_lose_nothing(class_url):
    out = run_async(scenario(class_url))
    assert not out["errors"], out["errors"]
    assert out["posed_by_student"] is None  # no question on the projector: the student's clicks posed nothing
    assert out["choices"] == 4
    assert out["count_after_answer"] == 1
    assert any("That is already your answer." in t for t in out["duplicate"]), out["duplicate"]
    assert out["count_after_duplicate"] == 1
    assert out["count_after_forgery"] == 1  # nothing lost, nothing added
    assert not any("The right answer" in t or "chose the right answer" in t
                   for t in out["projector_after_forgery"])  # not revealed by the student
    assert out["count_after_late"] == 2
    assert any("closed this question" in t for t in out["after_close"]), out["after_close"]
