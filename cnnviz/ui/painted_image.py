"""An image that tells the server when the browser has painted it.

The Convolution lab shows the new result first and explains it after: the explainer's
charts keep the browser busy for a few hundred milliseconds, so they are asked for
only once the browser reports that the result is on screen (``on_painted``). The
browser decides, not a pause guessed on the server.

A Streamlit Components v2 component with inline code: no build step, nothing fetched.
The picture travels as a PNG data URL in the component's data; no user text is put
into its HTML or JavaScript.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import streamlit as st

_JS = """
export default function ({ data, setTriggerValue, parentElement }) {
  let img = parentElement.querySelector("img");
  if (!img) {
    img = document.createElement("img");
    img.style.width = "100%";
    img.style.display = "block";
    img.style.imageRendering = "pixelated";
    parentElement.appendChild(img);
  }
  img.alt = data.alt;
  if (img.dataset.token === data.token) return;
  img.dataset.token = data.token;
  img.style.display = data.src ? "block" : "none";
  if (!data.src) img.removeAttribute("src"); else if (img.getAttribute("src") !== data.src) img.src = data.src;
  const painted = () => requestAnimationFrame(() => setTimeout(() => {
    if (img.dataset.token === data.token) setTriggerValue("painted", data.token);
  }, 0));
  if (data.src) img.decode().then(painted, painted); else painted();
}
"""

_component = st.components.v2.component("cnnviz_painted_image", js=_JS, isolate_styles=False)


def token_of(png: bytes) -> str:
    """A short fingerprint of an image's bytes: what "painted" reports back."""
    return hashlib.blake2b(png, digest_size=8).hexdigest()


def painted_image(png: bytes | None, *, key: str, alt: str, on_painted: Callable[[], None]) -> str:
    """Show ``png`` full width; ``on_painted`` runs once the browser has painted a new picture.

    ``None`` shows nothing (and reports at once). Every call reports once, also when the picture is
    the same as before (a preset with the same numbers): the token is the picture's fingerprint
    (:func:`token_of`) and this session's count of calls for ``key``. Returns the token.
    """
    count = st.session_state[f"{key}__shown"] = st.session_state.get(f"{key}__shown", 0) + 1
    token = f"{'nothing' if png is None else token_of(png)}.{count}"
    src = None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    _component(key=key, data={"src": src, "token": token, "alt": alt}, on_painted_change=on_painted)
    return token
