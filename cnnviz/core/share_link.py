"""What a link carries: a view's settings as query-string parameters, and back.

Writing leaves out values equal to the course's defaults, so a link stays short;
reading never raises: each bad parameter is reported in one sentence naming it,
and the value from before is kept.
"""

from __future__ import annotations

import numpy as np

from cnnviz.core.convolution import CHANNELS, MAPPINGS, MAX_ABS_WEIGHT, PADDINGS, STRIDES, ConvolutionSettings
from cnnviz.core.kernels import PRESETS, KernelError, format_kernel, format_number, parse_kernel, parse_number, preset_for


def kernel_to_param(kernel) -> str:
    """Compact form for a link's query string: ``-1,-2,-1;0,0,0;1,2,1``."""
    return format_kernel(kernel, row_sep=";", col_sep=",")


# --------------------------------------------------------------------------
# Settings in a link's query string
# --------------------------------------------------------------------------

QUERY_KEYS = ("kernel", "pad", "stride", "weight", "norm", "flip", "ch", "map")
"""Query-string parameters that carry ConvolutionSettings (see :func:`settings_to_query`)."""


def settings_to_query(settings) -> dict[str, str]:
    """The settings as query-string parameters; values equal to the course's defaults are left out.

    ``kernel`` is a preset's name or the numbers (``-1,-2,-1;0,0,0;1,2,1``).
    """
    default = ConvolutionSettings()
    params: dict[str, str] = {}
    if settings.preset in PRESETS:
        if settings.preset != default.preset:
            params["kernel"] = settings.preset
    else:
        params["kernel"] = kernel_to_param(settings.kernel)
    for name, field_name in (("pad", "padding"), ("ch", "channels"), ("map", "mapping")):
        if getattr(settings, field_name) != getattr(default, field_name):
            params[name] = str(getattr(settings, field_name))
    if settings.stride != default.stride:
        params["stride"] = str(settings.stride)
    if settings.weight != default.weight:
        params["weight"] = format_number(settings.weight)
    for name, field_name in (("norm", "normalise"), ("flip", "flip")):
        if getattr(settings, field_name) != getattr(default, field_name):
            params[name] = "1" if getattr(settings, field_name) else "0"
    return params


def settings_from_query(params, base=None):
    """Settings from query-string parameters, and one sentence per parameter that was ignored.

    Unknown or bad values never raise: each is reported (naming the parameter and why)
    and the value from ``base`` (default: the course's settings) is kept.
    """
    settings = base if base is not None else ConvolutionSettings()
    problems: list[str] = []
    changes: dict = {}

    def value_of(name: str) -> str | None:
        value = params.get(name)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        return None if value is None else str(value).strip()

    text = value_of("kernel")
    if text is not None:
        if text in PRESETS:
            changes.update(kernel=PRESETS[text].kernel.copy(), preset=text, normalise=PRESETS[text].normalise)
        else:
            try:
                kernel = parse_kernel(text)
            except KernelError as exc:
                problems.append(f"kernel={text[:60]!r} was ignored: it is neither a preset name nor a kernel. {exc}")
            else:
                changes.update(kernel=kernel, preset=preset_for(kernel))
    for name, field_name, choices in (("pad", "padding", PADDINGS), ("ch", "channels", CHANNELS),
                                      ("map", "mapping", MAPPINGS)):
        value = value_of(name)
        if value is None:
            continue
        if value in choices:
            changes[field_name] = value
        else:
            problems.append(f"{name}={value[:30]!r} was ignored: choose one of {', '.join(choices)}.")
    value = value_of("stride")
    if value is not None:
        if value in {str(s) for s in STRIDES}:
            changes["stride"] = int(value)
        else:
            problems.append(f"stride={value[:30]!r} was ignored: choose 1, 2, 3 or 4.")
    value = value_of("weight")
    if value is not None:
        try:
            weight = parse_number(value, "weight")
        except KernelError as exc:
            problems.append(f"weight={value[:30]!r} was ignored: {exc}")
        else:
            if abs(weight) > MAX_ABS_WEIGHT:
                problems.append(f"weight={value[:30]!r} was ignored: use a number from "
                                f"{-MAX_ABS_WEIGHT:g} to {MAX_ABS_WEIGHT:g}.")
            else:
                changes["weight"] = weight
    for name, field_name in (("norm", "normalise"), ("flip", "flip")):
        value = value_of(name)
        if value is None:
            continue
        if value.lower() in ("1", "true", "yes", "on"):
            changes[field_name] = True
        elif value.lower() in ("0", "false", "no", "off"):
            changes[field_name] = False
        else:
            problems.append(f"{name}={value[:30]!r} was ignored: use 1 (on) or 0 (off).")
    return settings.replace(**changes), problems


def parse_matrix_param(text: str, *, max_side: int = 16) -> np.ndarray:
    """A small 0..255 matrix from a link (``0,255,0;255,0,255``); ValueError saying what is wrong."""
    rows = [row.split(",") for row in str(text).strip().split(";") if row.strip()]
    if not rows or len(rows) > max_side or any(len(r) != len(rows[0]) for r in rows) or len(rows[0]) > max_side:
        raise ValueError(f"it must be a rectangular matrix of at most {max_side}x{max_side} values, rows separated by ;")
    try:
        values = np.array([[int(v) for v in row] for row in rows])
    except ValueError:
        raise ValueError("every value must be a whole number from 0 to 255") from None
    if values.min() < 0 or values.max() > 255:
        raise ValueError("every value must be a whole number from 0 to 255")
    return values.astype(np.uint8)


def matrix_param(matrix) -> str:
    """A small matrix as text for a link (read back by :func:`parse_matrix_param`)."""
    return ";".join(",".join(str(int(v)) for v in row) for row in np.asarray(matrix))
