"""cnnviz: the entry point. Builds the navigation; every page runs inside it."""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="cnnviz: see how CNNs work", page_icon=":material/grid_on:", layout="wide")

HERE = Path(__file__).parent
PAGES = [
    ("pages/home.py", "Home", ":material/home:", True),
    ("pages/pixels.py", "1 · Pixels are numbers", ":material/pin:", False),
    ("pages/convolution.py", "2 · Convolution", ":material/blur_on:", False),
    ("pages/pooling.py", "3 · Pooling", ":material/compress:", False),
    ("pages/train.py", "4 · Train a network", ":material/model_training:", False),
    ("pages/activations.py", "5 · Activation maps", ":material/local_fire_department:", False),
]
"""The course's order. A page whose file is not there yet is left out."""

page = st.navigation(
    [
        st.Page(path, title=title, icon=icon, default=default)
        for path, title, icon, default in PAGES
        if (HERE / path).exists()
    ]
)
st.sidebar.caption("cnnviz · an interactive companion to the course page on convolutional neural networks.")

try:
    page.run()
except Exception:  # noqa: BLE001 - last line of defence: words, never a traceback
    st.error(
        "Something went wrong on this page. Your inputs are kept: change a setting or "
        "reload the page. If it happens again, tell your instructor what you did.",
        icon=":material/error:",
    )
