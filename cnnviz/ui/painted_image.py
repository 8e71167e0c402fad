"""A report from the browser once it has painted the image in a container.

The Convolution lab shows the new result first and explains it after: the explainer's
charts keep the browser busy for a few hundred milliseconds, so they are asked for
only once the browser reports that the result is on screen (``on_painted``). The
browser decides, not a pause guessed on the server. The image itself stays an
``st.image`` (a media URL the browser caches: going back to an earlier kernel costs
no new download).

A Streamlit Components v2 component with inline code: no build step, nothing fetched,
nothing shown; no user text goes into its HTML or JavaScript (only a container key
and a token, as data).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

_JS = """
export default function ({ data, setTriggerValue, parentElement }) {
  if (parentElement.dataset.token === data.token) return;
  parentElement.dataset.token = data.token;
  const report = () => requestAnimationFrame(() => setTimeout(() => {
    if (parentElement.dataset.token === data.token) setTriggerValue("painted", data.token);
  }, 0));
  const box = document.querySelector(".st-key-" + data.container);
  const img = box && box.querySelector("img");
  if (!img || !img.getAttribute("src")) { report(); return; }
  if (img.complete && img.naturalWidth) { img.decode().then(report, report); return; }
  img.addEventListener("load", report, { once: true });
  img.addEventListener("error", report, { once: true });
}
"""

_component = st.components.v2.component("cnnviz_paint_report", js=_JS, isolate_styles=False)


def report_when_painted(*, container: str, key: str, on_painted: Callable[[], None]) -> str:
    """Call ``on_painted`` once the browser has painted the image now in ``st.container(key=container)``.

    Mount it after the image, inside that container. Every call reports once (also when the
    picture did not change); returns this call's token.
    """
    count = st.session_state[f"{key}__reports"] = st.session_state.get(f"{key}__reports", 0) + 1
    token = f"{container}.{count}"
    _component(key=key, data={"container": container, "token": token}, on_painted_change=on_painted)
    return token
