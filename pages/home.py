"""Home: what cnnviz is, and a map of the pages in the course's order."""

import streamlit as st

st.title("cnnviz: see how convolutional neural networks work")
st.markdown(
    "A computer sees an image as a **matrix of numbers**. A convolutional neural network "
    "slides small **kernels** over that matrix to find edges and shapes, **pools** the results "
    "to keep what matters, and learns its kernels from examples. Every page below lets you "
    "touch one step of that story: change a number and watch what happens."
)

STEPS = [
    ("pages/pixels.py", "1 · Pixels are numbers", ":material/pin:",
     "Edit a grayscale smiley and an RGB grid cell by cell; see any picture as its matrix."),
    ("pages/convolution.py", "2 · Convolution", ":material/blur_on:",
     "Slide a 3x3 edge kernel over the stairwell, pick or type your own, and see the arithmetic behind every pixel."),
    ("pages/pooling.py", "3 · Pooling", ":material/compress:",
     "Keep the largest value of every block: smaller images that still show what the kernel found."),
    ("pages/train.py", "4 · Train a network", ":material/model_training:",
     "Train the course's dense network and CNN on Fashion-MNIST with live curves, and compare them."),
    ("pages/activations.py", "5 · Activation maps", ":material/local_fire_department:",
     "Look inside a trained CNN: what each filter lights up for ankle boots, bags or shirts."),
]

st.subheader("The path through the course")
for path, title, icon, blurb in STEPS:
    try:
        st.page_link(path, label=f"**{title}**: {blurb}", icon=icon)
    except Exception:  # noqa: BLE001 - a page not built yet is simply not linked
        continue

st.divider()
st.caption(
    "For teachers: every page works on a projector (large type, high contrast). Students can open "
    "the same address in their own browsers; each gets their own copy of every setting."
)
