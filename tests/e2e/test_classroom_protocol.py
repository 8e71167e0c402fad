"""Students cannot present, whatever they send: Streamlit's websocket protocol driven directly.

A student's session sends what a browser could never send through the interface — forged
widget states named like the presenter's pass and controls, wrong keys, query strings with
presenter flags, a "clear cache" message (which empties every cached resource) — and an
observer's session then checks that no presentation is live. A real presenter typing the
right key over the same protocol does make one live, so the check can see a presentation.
"""

from __future__ import annotations

import asyncio

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.bench_class import Record, Session
from benchmarks.bench_follow import present
from cnnviz.ui import classroom
from tests.e2e.conftest import PRESENTER_KEY, run_async

KEY = PRESENTER_KEY
LIVE = ("Following the instructor", "The instructor is presenting")




def forged_states(s: Session) -> list[WidgetState]:
    """Widget states a browser's interface never sends: the pass, the presenter's controls, by every name."""
    out = []
    for name in (classroom.PASS_KEY, classroom.PRESENTER_VIEW_KEY, "classroom_stop", "presenter", "presenting"):
        for wid in (name, f"$$ID-00000000000000000000000000000000-{name}", f"$$STREAMLIT_INTERNAL_KEY_{name}"):
            out.append(WidgetState(id=wid, string_value="forged-pass"))
            out.append(WidgetState(id=wid + "-bool", bool_value=True))
            out.append(WidgetState(id=wid + "-trigger", trigger_value=True))
    return [*s.states(), *out]


async def sees_presentation(url: str) -> bool:
    async with Session(url, Record()) as observer:
        await observer.open("pixels", record=False)
        return any(live in text for text in observer.texts for live in LIVE)


async def attack(url: str) -> list[str]:
    rec = Record()
    async with Session(url, rec) as s:
        await s.open("convolution", record=False)
        for query in ("presenter=1", f"{classroom.PASS_KEY}=forged-pass", "present=1&key=guess"):
            cs = ClientState(query_string=query, page_script_hash=s.page_hash)
            cs.widget_states.widgets.extend(forged_states(s))
            await s.run(cs)
        refusals = []
        for guess in ("guess", "", "x" * 5000, KEY + " extra", "' OR 1=1 --", "\x00"):
            await present(s, guess)
            refusals += [t for t in s.texts if "presenter key" in t or "wrong keys" in t]
        await present(s, KEY)  # the right key, after too many wrong ones from this browser: still refused
        refusals += [t for t in s.texts if "wrong keys" in t]
        clear = BackMsg()
        clear.clear_cache = True
        await s.ws.send(clear.SerializeToString())
        await s.open("pixels", record=False)
    assert not rec.errors, rec.errors
    return refusals


def test_a_student_session_cannot_publish_whatever_it_sends(class_url):
    assert not run_async(sees_presentation(class_url))
    refusals = run_async(attack(class_url))
    assert any("not the presenter key" in t for t in refusals), refusals
    assert any("Too many wrong keys" in t for t in refusals), refusals
    assert not run_async(sees_presentation(class_url))


def test_the_right_key_over_the_same_protocol_does_present_and_clear_cache_cannot_end_it(class_url):
    async def run():
        async with Session(class_url, Record()) as teacher:
            await teacher.open("pooling", record=False)
            await present(teacher, KEY)
            assert any("Presenting" in t for t in teacher.texts), teacher.texts
            assert await sees_presentation(class_url)
            async with Session(class_url, Record()) as student:
                await student.open("pixels", record=False)
                clear = BackMsg()
                clear.clear_cache = True
                await student.ws.send(clear.SerializeToString())
                await asyncio.sleep(0.5)
            assert await sees_presentation(class_url)

    run_async(run())
