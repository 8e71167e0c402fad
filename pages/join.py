"""Join the class: the address students open, its QR code and how many follow (for the projector)."""

import streamlit as st

from cnnviz.core import classroom as cls
from cnnviz.ui import classroom, frame

frame.require_app_frame()
st.title("Join the class")

address, reachable = classroom.public_url()
picture, text = st.columns([1, 1.4], gap="large", vertical_alignment="center")
picture.image(cls.qr_png(address), width=420, caption="Scan with a phone's camera, or type the address.")
with text:
    st.markdown("#### Open this address in your browser")
    st.code(address, language=None, wrap_lines=True)
    if not reachable:
        st.warning(
            "This address only works on the computer that runs the server: students cannot open it. Start "
            f"the server with `{classroom.PUBLIC_URL_ENV}` set to the address students reach, for example "
            f"`{classroom.PUBLIC_URL_ENV}=http://192.168.1.20:8501/ streamlit run app.py` (the computer's address "
            "on the classroom network; `hostname -I` shows it).", icon=":material/wifi_off:")
    classroom.join_count()
st.caption("Students who open the address see \"Follow the instructor\" while you present (sidebar, "
           "\"Present to the class\"), and can leave or rejoin with one click.")
