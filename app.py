"""cnnviz: the entry point. Builds the navigation; every page runs inside it."""

import streamlit as st

from cnnviz.ui import classroom
from cnnviz.ui.frame import HOME, JOIN, PAGES

st.set_page_config(page_title="cnnviz: see how CNNs work", page_icon=":material/grid_on:", layout="wide")

page = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=p is HOME) for p in (HOME, *PAGES, JOIN)])
st.sidebar.caption("cnnviz · an interactive companion to the course page on convolutional neural networks.")

try:
    classroom.frame_run(page.url_path)
    page.run()
except Exception:  # noqa: BLE001 - last line of defence: words, never a traceback
    st.error(
        "Something went wrong on this page. Your inputs are kept: change a setting or "
        "reload the page. If it happens again, tell your instructor what you did.",
        icon=":material/error:",
    )
