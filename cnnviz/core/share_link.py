"""What a link carries: every page's view as query-string parameters, and back.

One naming scheme for the whole app, defined here once (:data:`PAGES`): short
lowercase names; what several pages share has one name everywhere (the kernel and
its options, ``img``, ``gray``, ``row``/``col`` for the output cell explained), and
what belongs to one tool of a page starts with its name (``pool_size``, ``f_layer``).
Values are short and stable (``pool=min``, ``img=coins``), never a widget's label,
so rewording the interface does not break links already handed out.

Writing (:func:`write_query`) leaves out values equal to the defaults, so a link stays
short. Reading (:func:`read_query`) never raises, whatever the URL holds (unknown keys,
repeated keys, wrong types, very long values): each ignored parameter gets one
sentence naming it and saying why, and the view keeps its value from before.

Small matrices travel compactly (:func:`matrix_param`): their shape, then their bytes
in URL-safe base64 (``10x10.AAAA…``); a hand-typed ``0,255;255,0`` is read too.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnviz.core import activation_inputs as act
from cnnviz.core import architecture, evidence, images, pooling
from cnnviz.core.convolution import CHANNELS, MAPPINGS, MAX_ABS_WEIGHT, PADDINGS, STRIDES, ConvolutionSettings
from cnnviz.core.data import CLASS_NAMES, TEST_SIZE
from cnnviz.core.kernels import PRESETS, KernelError, format_kernel, format_number, parse_kernel, parse_number, preset_for
from cnnviz.core.palette import ACTIVATION_COLORSCALES

MAX_LINK_SIDE = 16
"""Largest side of a matrix a link carries (a bigger matrix cannot travel: too long an address)."""

MAX_VALUE_CHARS = 4000
"""Longest value read from a link (a 16x16 colour matrix needs 1,031 characters)."""

MAX_NAMED = 12
"""At most this many ignored parameters are named one by one; the rest are counted."""

MAX_CELL = 100_000
"""Largest row/column/window position a link may ask for (the page then keeps it inside the picture)."""

MAX_FILTER = 1024
"""Largest filter number a link may ask for (the page checks it against the model's layers)."""

MAX_LAYERS = 32
"""Most layer names a link may list."""


def _show(text: str, limit: int = 40) -> str:
    """A value from a URL as quoted in a message: repr, cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


# --------------------------------------------------------------------------
# Matrices
# --------------------------------------------------------------------------

_PACKED = re.compile(r"^(\d{1,3})x(\d{1,3})(x3)?\.([A-Za-z0-9_-]*)$")


def matrix_param(matrix) -> str:
    """A small uint8 matrix (H, W) or (H, W, 3) as link text: ``HxW.`` or ``HxWx3.`` and base64 of its bytes.

    >>> matrix_param(np.array([[0, 255]], np.uint8))
    '1x2.AP8'
    """
    values = np.ascontiguousarray(matrix, dtype=np.uint8)
    shape = "x".join(str(n) for n in values.shape)
    return shape + "." + base64.urlsafe_b64encode(values.tobytes()).decode("ascii").rstrip("=")


def parse_matrix_param(text: str, *, max_side: int = MAX_LINK_SIDE, channels: int | None = None) -> np.ndarray:
    """A small 0..255 matrix from a link; ValueError saying what is wrong.

    Reads the compact form of :func:`matrix_param` and, for grayscale, a typed one
    (``0,255,0;255,0,255``: rows separated by ``;``). ``channels=3`` asks for (H, W, 3).

    >>> parse_matrix_param("1x2.AP8").tolist()
    [[0, 255]]
    """
    text = str(text).strip()
    packed = _PACKED.match(text)
    if packed is not None:
        rows, cols = int(packed.group(1)), int(packed.group(2))
        depth = 3 if packed.group(3) else None
        if depth != channels:
            raise ValueError("it is a colour (HxWx3) matrix; a grayscale one is needed" if depth else
                             "it is a grayscale matrix; a colour (HxWx3) one is needed")
        if not (1 <= rows <= max_side and 1 <= cols <= max_side):
            raise ValueError(f"a link carries matrices of 1x1 to {max_side}x{max_side}, not {rows}x{cols}")
        data = packed.group(4)
        try:
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except (ValueError, base64.binascii.Error):
            raise ValueError("its numbers are not readable (the text after the dot was cut or changed)") from None
        shape = (rows, cols) if depth is None else (rows, cols, 3)
        if len(raw) != int(np.prod(shape)):
            raise ValueError(f"it has {len(raw)} numbers, a {'x'.join(map(str, shape))} matrix needs "
                             f"{int(np.prod(shape))} (the link was cut or changed)")
        return np.frombuffer(raw, dtype=np.uint8).reshape(shape).copy()
    if channels is not None:
        raise ValueError(f"use the form the app writes (HxWx3. then the numbers in base64), at most "
                         f"{max_side}x{max_side}")
    rows = [row.split(",") for row in text.split(";") if row.strip()]
    if not rows or len(rows) > max_side or any(len(r) != len(rows[0]) for r in rows) or len(rows[0]) > max_side:
        raise ValueError(f"it must be a rectangular matrix of at most {max_side}x{max_side} values, rows separated by ;")
    try:
        values = np.array([[int(v) for v in row] for row in rows])
    except ValueError:
        raise ValueError("every value must be a whole number from 0 to 255") from None
    if values.min() < 0 or values.max() > 255:
        raise ValueError("every value must be a whole number from 0 to 255")
    return values.astype(np.uint8)


def can_travel(matrix) -> bool:
    """Whether a link can carry this matrix (each side at most :data:`MAX_LINK_SIDE`)."""
    return max(np.shape(matrix)[:2]) <= MAX_LINK_SIDE


def image_slug(name: str) -> str:
    """A built-in image's name as a link value: ``"Chelsea the cat"`` -> ``"chelsea-the-cat"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


STAIRWELL, MY_MATRIX = "stairwell", "matrix"
"""``img`` values for the course's stairwell and the Pixels page's grayscale matrix."""

FASHION_TEST = "fashion"
"""``img`` value for a Fashion-MNIST test image (the Convolution lab): ``class`` and ``index``
(its number within the class, as on the Inside the network page) say which."""

BUILTIN_SLUGS = {image_slug(name): name for name in images.BUILTIN_IMAGES}
"""``img`` value -> built-in image name."""


# --------------------------------------------------------------------------
# One parameter
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One query-string parameter: its name, how its text is read and written, its default.

    ``read`` raises ValueError with the reason in words; a value equal to ``default``
    (or None) is left out of a link.
    """

    name: str
    read: Callable[[str], Any]
    write: Callable[[Any], str] = str
    default: Any = None

    def text(self, value) -> str | None:
        """The value as link text, or None when the link leaves it out."""
        if value is None or _same(value, self.default):
            return None
        return self.write(value)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return b is not None and a is not None and np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    return a == b


def choice(name: str, choices: Iterable[str], default: str | None = None, *,
           aliases: Mapping[str, str] | None = None) -> Param:
    """One of ``choices`` (case-insensitive; ``aliases`` maps other accepted spellings)."""
    options = tuple(choices)
    lookup = {o.lower(): o for o in options} | {k.lower(): v for k, v in (aliases or {}).items()}

    def read(text: str) -> str:
        try:
            return lookup[text.strip().lower()]
        except KeyError:
            listed = ", ".join(options) if len(options) <= 12 else ", ".join(options[:12]) + ", …"
            raise ValueError(f"choose one of {listed}") from None

    return Param(name, read, str, default)


_WHOLE = re.compile(r"^[+-]?\d{1,12}$")


def integer(name: str, low: int, high: int, default: int | None = None) -> Param:
    """A whole number from ``low`` to ``high``."""

    def read(text: str) -> int:
        text = text.strip()
        if not _WHOLE.match(text) or not low <= int(text) <= high:
            raise ValueError(f"use a whole number from {low} to {high}")
        return int(text)

    return Param(name, read, str, default)


def number_choice(name: str, choices: Sequence[float], default: float | None = None) -> Param:
    """One of a few numbers (``0.001``, ``1e-3`` and ``.001`` are the same)."""
    options = tuple(choices)

    def read(text: str) -> float | int:
        try:
            value = parse_number(text, name)
        except KernelError:
            value = None
        for option in options:
            if value is not None and abs(value - option) <= 1e-12 * max(1.0, abs(option)):
                return option
        raise ValueError(f"choose one of {', '.join(format_number(o) for o in options)}")

    return Param(name, read, format_number, default)


def flag(name: str, default: bool = False) -> Param:
    """On or off: ``1``/``0`` (``true``/``false``, ``yes``/``no``, ``on``/``off`` read too)."""

    def read(text: str) -> bool:
        word = text.strip().lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        raise ValueError("use 1 (on) or 0 (off)")

    return Param(name, read, lambda v: "1" if v else "0", default)


def matrix(name: str, default: np.ndarray, *, channels: int | None = None) -> Param:
    """A matrix of 0..255 values, at most :data:`MAX_LINK_SIDE` on each side (see :func:`matrix_param`)."""
    return Param(name, lambda text: parse_matrix_param(text, channels=channels), matrix_param, default)


def whole_numbers(name: str, low: int, high: int, *, most: int) -> Param:
    """Up to ``most`` whole numbers from ``low`` to ``high``, separated by commas (``0,23,28``)."""

    def read(text: str) -> tuple[int, ...]:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts or len(parts) > most or not all(_WHOLE.match(p) and low <= int(p) <= high for p in parts):
            raise ValueError(f"use 1 to {most} whole numbers from {low} to {high}, separated by commas")
        return tuple(int(p) for p in parts)

    return Param(name, read, lambda v: ",".join(str(int(n)) for n in v), None)


_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def names(name: str, *, most: int) -> Param:
    """Up to ``most`` names (letters, digits, ``_.-``) separated by commas; the page checks they exist."""

    def read(text: str) -> tuple[str, ...]:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts or len(parts) > most or not all(_NAME.match(p) for p in parts):
            raise ValueError(f"use 1 to {most} layer names separated by commas")
        return tuple(dict.fromkeys(parts))

    return Param(name, read, ",".join, None)


# --------------------------------------------------------------------------
# The kernel and its options (Convolution and Pooling)
# --------------------------------------------------------------------------


def kernel_to_param(kernel) -> str:
    """Compact form for a link's query string: ``-1,-2,-1;0,0,0;1,2,1``."""
    return format_kernel(kernel, row_sep=";", col_sep=",")


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
                problems.append(f"kernel={_show(text, 60)} was ignored: it is neither a preset name nor a kernel. {exc}")
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
            problems.append(f"{name}={_show(value)} was ignored: choose one of {', '.join(choices)}.")
    value = value_of("stride")
    if value is not None:
        if value in {str(s) for s in STRIDES}:
            changes["stride"] = int(value)
        else:
            problems.append(f"stride={_show(value)} was ignored: choose {', '.join(map(str, STRIDES))}.")
    value = value_of("weight")
    if value is not None:
        try:
            weight = parse_number(value, "weight")
        except KernelError as exc:
            problems.append(f"weight={_show(value)} was ignored: {exc}")
        else:
            if abs(weight) > MAX_ABS_WEIGHT:
                problems.append(f"weight={_show(value)} was ignored: use a number from "
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
            problems.append(f"{name}={_show(value)} was ignored: use 1 (on) or 0 (off).")
    return settings.replace(**changes), problems


# --------------------------------------------------------------------------
# Every page's parameters
# --------------------------------------------------------------------------

_IMAGE_ALIASES = {name: slug for slug, name in BUILTIN_SLUGS.items()} | {
    "Stairwell (course, 512x512)": STAIRWELL, "My matrix from the Pixels page": MY_MATRIX}
"""Hand-typed links, and those the Convolution page wrote before every page had one, name an image
as the picker did then (``img=Coins``, ``img=My matrix from the Pixels page``)."""
_INPUT_IMAGES = (STAIRWELL, MY_MATRIX, *BUILTIN_SLUGS)
_CELL = (integer("row", 0, MAX_CELL), integer("col", 0, MAX_CELL))
_TEST_CLASS = choice("class", [str(i) for i in range(len(CLASS_NAMES))], str(act.COURSE_LABEL),
                     aliases={n: str(i) for i, n in enumerate(CLASS_NAMES)})
_TEST_INDEX = integer("index", 0, TEST_SIZE - 1, 0)
"""A test image by class and its number within the class (the page checks it against the class's count)."""
_GRAY = matrix("gray", images.SMILEY)

VIEWS = ("grid", "filters", "kernels", "predict", "draw")
"""The Activations page's tabs, as ``view=`` values (the first is the default)."""

MODEL_SOURCES = ("shipped", "trained", "upload")
"""Where the Activations page's model comes from; only the shipped model can travel in a link."""

PAGES: dict[str, tuple[Param, ...]] = {
    "pixels": (
        _GRAY,
        matrix("rgb", images.RGB_GRID, channels=3),
        choice("img", BUILTIN_SLUGS, image_slug(images.DEFAULT_BUILTIN), aliases=_IMAGE_ALIASES),
        number_choice("zoom", images.ZOOM_WINDOWS),
        integer("top", 0, MAX_CELL), integer("left", 0, MAX_CELL),
    ),
    "convolution": (
        choice("img", (*_INPUT_IMAGES, FASHION_TEST), STAIRWELL, aliases=_IMAGE_ALIASES), _GRAY,
        _TEST_CLASS, _TEST_INDEX, *_CELL,
    ),
    "pooling": (
        choice("img", _INPUT_IMAGES, STAIRWELL, aliases=_IMAGE_ALIASES), _GRAY,
        choice("pool", pooling.POOL_MODES, pooling.POOL_MODES[0]),
        integer("pool_size", 1, pooling.MAX_POOL_SIZE, pooling.COURSE_POOL_SIZE),
        integer("pool_width", 1, pooling.MAX_POOL_SIZE),
        integer("pool_stride", 1, pooling.MAX_POOL_SIZE),
        choice("pool_edge", pooling.EDGE_MODES, pooling.EDGE_MODES[0]),
        *_CELL,
        integer("stages", 1, pooling.MAX_STAGES, pooling.DEFAULT_STAGES),
        choice("stage_input", ("fashion", "image"), "fashion"),
        integer("test_image", 0, TEST_SIZE - 1, 0),
    ),
    "train": (
        choice("arch", architecture.LINK_ARCHITECTURES, "cnn"),
        number_choice("filters", architecture.FILTER_CHOICES, architecture.CUSTOM_DEFAULTS["filters"]),
        integer("kernel_size", *architecture.LIMITS["kernel_size"], architecture.CUSTOM_DEFAULTS["kernel_size"]),
        integer("blocks", *architecture.LIMITS["blocks"], architecture.CUSTOM_DEFAULTS["blocks"]),
        number_choice("units", architecture.DENSE_UNIT_CHOICES, architecture.CUSTOM_DEFAULTS["dense_units"]),
        integer("epochs", 1, architecture.LIMITS["epochs"], architecture.DEFAULT_EPOCHS),
        number_choice("batch", architecture.BATCH_CHOICES, architecture.COURSE_BATCH_SIZE),
        number_choice("lr", architecture.LEARNING_RATES, architecture.COURSE_LEARNING_RATE),
        number_choice("images", architecture.TRAIN_SIZES, architecture.DEFAULT_TRAIN_SIZE),
        integer("shift", 1, architecture.MAX_SHIFT, architecture.DEFAULT_SHIFT),
        choice("axis", ("x", "y"), "x"),
    ),
    "activations": (
        choice("model", MODEL_SOURCES, "shipped"),
        choice("class", [str(i) for i in range(len(CLASS_NAMES))], str(act.COURSE_LABEL),
               aliases={n: str(i) for i, n in enumerate(CLASS_NAMES)}),
        integer("count", 1, act.MAX_IMAGES, act.COURSE_IMAGES),
        choice("how", act.SELECTIONS, act.SELECTIONS[0]),
        integer("seed", 0, act.MAX_SEED, 0),
        whole_numbers("indices", 0, TEST_SIZE - 1, most=act.MAX_IMAGES),
        names("layers", most=MAX_LAYERS),
        integer("filter", 0, MAX_FILTER),
        choice("cmap", ACTIVATION_COLORSCALES, ACTIVATION_COLORSCALES[0]),
        choice("scale", act.SCALES, act.SCALES[0]),
        flag("axes", True),
        choice("view", VIEWS, VIEWS[0]),
        integer("f_image", 0, act.MAX_IMAGES - 1, 0),
        names("f_layer", most=1),
        integer("learned", 0, MAX_FILTER),
    ),
    "evidence": (
        choice("model", MODEL_SOURCES, "shipped"),
        choice("class", [str(i) for i in range(len(CLASS_NAMES))], str(act.COURSE_LABEL),
               aliases={n: str(i) for i, n in enumerate(CLASS_NAMES)}),
        integer("count", 1, evidence.MAX_IMAGES, 3),
        choice("how", act.SELECTIONS, act.SELECTIONS[0]),
        integer("seed", 0, act.MAX_SEED, 0),
        whole_numbers("indices", 0, TEST_SIZE - 1, most=evidence.MAX_IMAGES),
        choice("explain", ["predicted", *(str(i) for i in range(len(CLASS_NAMES)))], "predicted",
               aliases={n: str(i) for i, n in enumerate(CLASS_NAMES)}),
        choice("view", evidence.VIEWS, evidence.VIEWS[0]),
        integer("patch", *evidence.PATCH_SIZES, evidence.OCCLUSION_PATCH),
        integer("stride", *evidence.STRIDES, evidence.OCCLUSION_STRIDE),
        choice("fill", tuple(evidence.FILLS), "grey", aliases={"gray": "grey"}),
        choice("sign", evidence.SALIENCY_SIGNS, evidence.SALIENCY_SIGNS[0]),
        names("cam_layer", most=1),
        names("grid_layer", most=1),
        integer("grid_n", 1, evidence.MAX_PER_CLASS, evidence.GRID_IMAGES),
        choice("grid_scale", evidence.GRID_SCALES, evidence.GRID_SCALES[0]),
        flag("group", False),
    ),
    "inside": (
        choice("model", MODEL_SOURCES, "shipped"),
        _TEST_CLASS, _TEST_INDEX,
        flag("drawing", False),
        names("layer", most=1),
        whole_numbers("at", 0, MAX_CELL, most=3),
    ),
}
"""Every page's parameters, in the order a link lists them. Convolution and Pooling also
carry the kernel and its options (:data:`QUERY_KEYS`, read by :func:`settings_from_query`)."""

WITH_SETTINGS = frozenset({"convolution", "pooling"})
"""Pages whose links carry the kernel and its options."""

ALIASES = {"convolution": {"m": "gray"}}
"""Names older links used: read as the current name."""


@dataclass
class LinkView:
    """What a link asks a page to show: ``values`` (name -> value, only those given and valid),
    the kernel and options (pages in :data:`WITH_SETTINGS`), and one sentence per ignored parameter."""

    values: dict[str, Any] = field(default_factory=dict)
    settings: ConvolutionSettings | None = None
    problems: list[str] = field(default_factory=list)
    whole: bool = False
    """True when the view is to be taken whole (a follower taking the instructor's): what it leaves
    out goes back to the page's defaults instead of keeping the session's own value."""


def _param(page: str, name: str) -> Param:
    for param in PAGES[page]:
        if param.name == name:
            return param
    raise KeyError(f"{page} has no link parameter {name!r}")


def read_query(page: str, query: Mapping[str, str | Sequence[str]], *, base: ConvolutionSettings | None = None) -> LinkView:
    """What a page's link asks for; never raises. ``query``: name -> value or list of values (repeats).

    Unknown names, repeated names (the last value is used), values too long or unreadable are
    each named in ``problems`` with the reason; ``base`` is the kernel and options kept for
    whatever the link leaves out or gets wrong.

    >>> read_query("pooling", {"pool": "min", "pool_size": "x"}).values
    {'pool': 'min'}
    """
    view = LinkView()
    known = {p.name for p in PAGES[page]} | (set(QUERY_KEYS) if page in WITH_SETTINGS else set())
    aliases = ALIASES.get(page, {})
    texts: dict[str, str] = {}
    unknown: list[str] = []
    for raw_name, raw in query.items():
        name = aliases.get(str(raw_name), str(raw_name))
        values = [str(v) for v in raw] if isinstance(raw, (list, tuple)) else [str(raw)]
        if name not in known:
            unknown.append(str(raw_name))
            continue
        if not values:
            continue
        if len(values) > 1:
            view.problems.append(f"{name} was given {len(values)} times: only the last value was used.")
        if name in texts:
            view.problems.append(f"{raw_name} and {name} mean the same: {raw_name} was used.")
        if len(values[-1]) > MAX_VALUE_CHARS:
            view.problems.append(f"{name} was ignored: its value is {len(values[-1]):,} characters long "
                                 f"(at most {MAX_VALUE_CHARS:,}).")
            continue
        texts[name] = values[-1]
    for name in unknown[:MAX_NAMED]:
        view.problems.append(f"{_show(name, 30)} was ignored: this page has no such setting.")
    if len(unknown) > MAX_NAMED:
        view.problems.append(f"…and {len(unknown) - MAX_NAMED} more unknown parameters were ignored.")
    if page in WITH_SETTINGS:
        view.settings, problems = settings_from_query({k: v for k, v in texts.items() if k in QUERY_KEYS}, base)
        view.problems.extend(problems)
    for param in PAGES[page]:
        if param.name not in texts:
            continue
        text = texts[param.name]
        try:
            view.values[param.name] = param.read(text)
        except ValueError as exc:
            view.problems.append(f"{param.name}={_show(text)} was ignored: {exc}.")
    return view


def write_query(page: str, values: Mapping[str, Any], settings: ConvolutionSettings | None = None) -> dict[str, str]:
    """A page's view as query-string parameters, in the page's order; None and defaults are left out.

    >>> write_query("pooling", {"pool": "min", "pool_size": 4})
    {'pool': 'min'}
    """
    params: dict[str, str] = {}
    if settings is not None and page in WITH_SETTINGS:
        params.update(settings_to_query(settings))
    for name in values:
        _param(page, name)  # a misspelt name is a bug: say so
    for param in PAGES[page]:
        text = param.text(values.get(param.name))
        if text is not None:
            params[param.name] = text
    return params


def with_defaults(page: str, query: Mapping[str, str | Sequence[str]]) -> dict[str, str | Sequence[str]]:
    """``query`` plus the default of every parameter it leaves out, so that reading it sets the page's
    whole view (a link leaves defaults out; a session that takes a view must reset them too).

    >>> with_defaults("pooling", {"pool": "min"})["pool_size"]
    '4'
    """
    full: dict[str, str | Sequence[str]] = {p.name: p.write(p.default) for p in PAGES[page] if p.default is not None}
    full.update(query)
    return full
