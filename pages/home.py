"""Home: what cnnviz is, and a map of the pages in the course's order."""

import streamlit as st

from cnnviz.ui.frame import PAGES

st.title("cnnviz: see how convolutional neural networks work")
st.markdown(
    "A computer sees an image as a **matrix of numbers**. A convolutional neural network "
    "slides small **kernels** over that matrix to find edges and shapes, **pools** the results "
    "to keep what matters, and learns its kernels from examples. Every page below lets you "
    "touch one step of that story: change a number and watch what happens."
)

st.subheader("The path through the course")
for step in PAGES:
    # The link holds the title only: a page link's label does not wrap, the summary beside it does.
    link, summary = st.columns([1, 3], vertical_alignment="center")
    link.page_link(step.path, label=f"**{step.title}**", icon=step.icon)
    summary.markdown(step.summary)

st.divider()
st.caption(
    "For teachers: every page works on a projector (large type, high contrast). Students can open "
    "the same address in their own browsers; each gets their own copy of every setting. To walk the class "
    "through it, open **Present to the class** in the sidebar: students' screens follow yours until they "
    "change something themselves (the **Join the class** page shows the address and a QR code)."
)
