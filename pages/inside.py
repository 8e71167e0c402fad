"""Inside the network: one image's whole forward pass, every value recomputed with numpy and
explained on a click, beside the number Keras computed."""

import streamlit as st

from cnnviz.ui import frame, links, resources

frame.require_app_frame()
with st.spinner("Starting TensorFlow (once per server)…"):
    from cnnviz.ui import (
        inside_views as views,  # TensorFlow only on the pages that need it
    )
    from cnnviz.ui import models
views.follow_open_request()  # "Open in the Convolution lab" was clicked
views.read_link()

st.title("Inside the network: every number, recomputed by hand")
st.markdown(
    "A map on the Activations page **is** the convolution of the Convolution page, done with a kernel the "
    "network learned. Here is one image's whole trip through the network, layer by layer. **Click any "
    "value** (a cell of a map, a dense unit, a class probability) to see how it was made: the window, "
    "the learned kernel, the products and sums, the bias, the ReLU, the softmax. Every number is "
    "recomputed with cnnviz's own numpy code, beside the number Keras computed."
)
links.warn(views.PAGE)
explorer, model_name = models.activation_model_picker(views.SOURCE_KEY)
if explorer is None:
    st.stop()
trace = views.network_trace(explorer)
if trace is None:
    st.stop()
if trace.not_covered:
    st.info("Not recomputed on this page (Keras' own values are shown for them): "
            f"{', '.join(trace.not_covered)}.", icon=":material/info:")

fashion, data_problem = resources.fashion_mnist()
views.image_pass_and_explanation(trace, fashion, model_name)
st.caption("The network sees pixels divided by 255 (0..1), as the course prepares them; the Convolution lab "
           "works on 0..255 values, so with the same kernel its sum is 255 times this page's sum before the bias "
           "(\"Open in the Convolution lab\" shows the step back: ÷ 255, + bias, ReLU).")
links.caption([("The shipped model, the image and the value explained travel in it; a model trained or "
                "uploaded in this session, and a drawing, do not.")])
links.sync(views.PAGE)
