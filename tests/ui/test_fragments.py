"""Tests for cnnviz.ui.fragments: an anchored fragment is still a fragment, sits alone in a container
of the page's own, and is the only way the app makes fragments."""

import re

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def _app():
    import streamlit as st

    from cnnviz.ui.fragments import anchored_fragment

    st.session_state.setdefault("page_runs", 0)
    st.session_state["page_runs"] += 1

    @anchored_fragment(key="counter")
    def counter() -> None:
        st.session_state["fragment_runs"] = st.session_state.get("fragment_runs", 0) + 1
        st.button("Again", key="again")
        st.markdown(f"fragment runs: {st.session_state['fragment_runs']}")

    @anchored_fragment
    def plain(text: str, *, suffix: str) -> None:
        st.caption(text + suffix)

    st.title("Before")
    counter()
    plain("with ", suffix="arguments")
    st.markdown("After")


def test_an_anchored_fragment_runs_with_its_arguments():
    """Its content is drawn, in place, once per run (AppTest reruns the whole script on a click;
    fragment-only runs are checked in Chromium, tests/e2e/test_navigation_browser.py)."""
    at = AppTest.from_function(_app).run()
    assert not at.exception
    assert (at.session_state["page_runs"], at.session_state["fragment_runs"]) == (1, 1)
    assert at.caption[0].value == "with arguments"
    at.button(key="again").click().run()
    assert not at.exception and at.session_state["fragment_runs"] == 2
    assert at.markdown[0].value == "fragment runs: 2" and at.markdown[-1].value == "After"


def test_each_fragment_is_the_only_child_of_a_container_of_the_page():
    """The page holds title, anchor, anchor, text; each anchor holds one block (the fragment's)."""
    at = AppTest.from_function(_app).run()
    main = at.main.children
    kinds = [type(main[i]).__name__ for i in sorted(main)]
    assert kinds == ["Title", "Block", "Block", "Markdown"]
    for anchor in (main[1], main[2]):
        assert len(anchor.children) == 1 and type(anchor.children[0]).__name__ == "Block"


def test_no_module_makes_a_fragment_without_its_anchor():
    """Every fragment of the app goes through anchored_fragment (a bare st.fragment could again leave the
    gap that made the browser drop the app, see cnnviz.ui.fragments)."""
    bare = re.compile(r"\bst\.fragment\b")
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in [ROOT / "app.py", *(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "pages").rglob("*.py")]
             if path.name != "fragments.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if bare.search(line)]
    assert found == []
