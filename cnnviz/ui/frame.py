"""The frame every page runs in: the list of pages, and putting a deep-linked page back inside it.

``app.py`` builds ``st.navigation`` from :data:`PAGES`; the Home page links the
same list, so a page's path, title and icon are written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from cnnviz.ui import legacy_pages


@dataclass(frozen=True)
class PageInfo:
    """One page of the app: its file, its title in the menu, its icon and a one-line summary."""

    path: str
    title: str
    icon: str
    summary: str = ""


HOME = PageInfo("pages/home.py", "Home", ":material/home:")
PAGES = (
    PageInfo("pages/pixels.py", "1 · Pixels are numbers", ":material/pin:",
             "Edit a grayscale smiley and an RGB grid cell by cell; see any picture as its matrix."),
    PageInfo("pages/convolution.py", "2 · Convolution", ":material/blur_on:",
             "Slide a 3x3 edge kernel over the stairwell, pick or type your own, and see the arithmetic "
             "behind every pixel."),
    PageInfo("pages/pooling.py", "3 · Pooling", ":material/compress:",
             "Keep the largest value of every block: smaller images that still show what the kernel found."),
    PageInfo("pages/train.py", "4 · Train a network", ":material/model_training:",
             "Train the course's dense network and CNN on Fashion-MNIST with live curves, and compare them."),
    PageInfo("pages/activations.py", "5 · Activation maps", ":material/local_fire_department:",
             "Look inside a trained CNN: what each filter lights up for ankle boots, bags or shirts."),
    PageInfo("pages/evidence.py", "6 · Class evidence", ":material/search_insights:",
             "Why did it say \"Ankle boot\"? Occlusion, saliency and Grad-CAM show the pixels behind a "
             "class; see which filter answers to which class."),
    PageInfo("pages/inside.py", "7 · Inside the network", ":material/calculate:",
             "Every number of the trained CNN for one image, recomputed by hand: click any value to see the "
             "window, the learned kernel, the sums and the softmax that made it."),
)
"""The course's order (Home first, then these). Inside the network comes last: it joins the
Convolution page (2) to the trained network of pages 5 and 6, so it is read once both are known,
and adding it at the end renumbers no page that links, tests and the README already name."""

JOIN = PageInfo("pages/join.py", "Join the class", ":material/qr_code_2:",
                "For the projector: the address and QR code students open, and how many follow.")
"""The join screen (outside the course's order)."""

LINK_PAGES = {p.path.removeprefix("pages/").removesuffix(".py"): p.path for p in PAGES}
"""A page's name in links (cnnviz.core.share_link.PAGES, also its URL path) -> its file."""

CONVOLUTION_PAGE = PAGES[1].path
ACTIVATIONS_PAGE = PAGES[4].path


def require_app_frame() -> None:
    """Make sure this page runs inside app.py's navigation; call first on every page.

    When a server's very first visit opens a page's URL, Streamlit 1.67 runs that file
    on its own (its old multipage mode, see :mod:`cnnviz.ui.legacy_pages`), without
    app.py: no page config, a wrong menu. Rerunning puts the page back inside app.py.
    """
    if legacy_pages.leave_legacy_mode():
        st.rerun()
