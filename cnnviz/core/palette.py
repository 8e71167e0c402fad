"""Every colour the app draws with, defined once: figures and numpy pictures share them.

Plain data (hex strings, RGB triples, colour-scale stops), so the numpy layer can
paint the same colours the Plotly figures use.
"""

from __future__ import annotations

GRAY_COLORSCALE = "gray"
"""Grayscale images: 0 black, 255 white (as matplotlib's cmap='gray' in the course)."""

SIGNED_COLORSCALE = (
    (0.0, "rgb(5,48,97)"), (0.1, "rgb(33,102,172)"), (0.2, "rgb(67,147,195)"), (0.3, "rgb(146,197,222)"),
    (0.4, "rgb(209,229,240)"), (0.5, "rgb(247,247,247)"), (0.6, "rgb(253,219,199)"), (0.7, "rgb(244,165,130)"),
    (0.8, "rgb(214,96,77)"), (0.9, "rgb(178,24,43)"), (1.0, "rgb(103,0,31)"),
)
"""Signed values (results, kernels, learned weights): blue negative, white zero, red positive
(ColorBrewer's RdBu reversed, as Plotly's "RdBu_r")."""

ACTIVATION_COLORSCALES = ("inferno", "viridis", "magma", "gray", "hot")
"""Colour maps offered for activation maps; the first is the course's (``cmap='inferno'``)."""

ACTIVATION_COLORSCALE = ACTIVATION_COLORSCALES[0]

PROBABILITY_COLORSCALE = "Blues"
"""Class probabilities: white 0 to dark blue 1."""

WINDOW_COLOR = "#e61e1e"
"""The window being explained (a kernel's or a pooling window), on figures and pictures alike."""

KEPT_COLOR = "#ffb000"
"""Ring around the cell a max/min pooling window kept."""

NO_OUTPUT_COLOR = "#d6deeb"
"""Where there is no output (yet): outside a "valid" result, cells not computed yet."""

TRAIN_COLOR = "#1f5fbf"
VALIDATION_COLOR = "#d9730d"
"""Training curves in blue, validation curves in orange, on every training figure."""
SNAPSHOT_COLOR = "#7a7a7a"
"""Where the training curves mark a weight snapshot."""

SHIFT_COLORS = (VALIDATION_COLOR, TRAIN_COLOR, "#2e9e44", "#8e44ad")
"""Line colours of the models compared on shifted images, in the order given."""

TRUE_CLASS_COLOR = "#1a9641"
"""Frame around an image's true class in the predictions."""

HEAT_COLORSCALE = (
    (0.0, "rgb(0,0,0)"), (0.25, "rgb(120,10,10)"), (0.5, "rgb(220,40,20)"), (0.75, "rgb(255,170,0)"),
    (1.0, "rgb(255,255,170)"),
)
"""Evidence that only grows (Grad-CAM, |saliency|): black none, through red, to pale yellow the most."""

HEAT_OVERLAY_COLORSCALE = (
    (0.0, "rgba(255,40,0,0)"), (0.15, "rgba(255,40,0,0)"), (0.5, "rgba(255,60,0,0.55)"),
    (1.0, "rgba(255,235,0,0.9)"),
)
"""The same evidence drawn over the image: transparent where there is none, so the image shows."""

SIGNED_GREY_COLORSCALE = (
    (0.0, "rgb(33,102,230)"), (0.25, "rgb(90,120,190)"), (0.5, "rgb(128,128,128)"),
    (0.75, "rgb(200,110,80)"), (1.0, "rgb(255,90,30)"),
)
"""Signed saliency: blue where brightening the pixel lowers the class's score, grey zero, orange
where it raises it."""

SIGNED_OVERLAY_COLORSCALE = (
    (0.0, "rgba(40,110,255,0.9)"), (0.35, "rgba(40,110,255,0.35)"), (0.45, "rgba(128,128,128,0)"),
    (0.55, "rgba(128,128,128,0)"), (0.65, "rgba(255,70,20,0.35)"), (1.0, "rgba(255,70,20,0.9)"),
)
"""Signed evidence (occlusion, signed saliency) over the image: blue against, orange-red for the
class, transparent near zero."""

EVIDENCE_SELECTED_COLOR = "#00b3ff"
"""The ring around the class x filter cell that is selected."""


def rgb(color: str) -> tuple[int, int, int]:
    """A "#rrggbb" or "rgb(r,g,b)" colour as an (r, g, b) triple of 0..255 ints.

    >>> rgb("#e61e1e"), rgb("rgb(5,48,97)")
    ((230, 30, 30), (5, 48, 97))
    """
    color = color.strip()
    if color.startswith("#") and len(color) == 7:
        return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    if color.startswith("rgb(") and color.endswith(")"):
        return tuple(int(float(v)) for v in color[4:-1].split(","))  # type: ignore[return-value]
    raise ValueError(f"colour {color!r} must be '#rrggbb' or 'rgb(r, g, b)'")
