"""Streamlit widgets shared by the pages: matrix editor, image upload, input image picker.

State that must survive page switches lives under plain session_state keys
(never only in a widget), since Streamlit drops a widget's value when a page
without that widget runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import images
from cnnviz.data import DataUnavailable, load_ascent

GRAY_MATRIX_KEY = "gray_matrix"
"""Session key of the grayscale matrix edited on the Pixels page (offered to other pages)."""

STAIRWELL = "Stairwell (course, 512x512)"
MY_MATRIX = "My matrix from the Pixels page"
UPLOAD = "Upload an image…"


# --------------------------------------------------------------------------
# The app frame
# --------------------------------------------------------------------------


def require_app_frame() -> None:
    """Make sure this page runs inside app.py's navigation; call first on every page.

    When a server's very first visit opens a page's URL, Streamlit 1.67 sees the
    ``pages/`` folder and runs that file on its own (its old multipage mode),
    without app.py: no page config, a wrong menu. Switching the old mode off and
    rerunning puts the page back inside app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# --------------------------------------------------------------------------
# Cached, shared data (read-only arrays shared by all sessions)
# --------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the stairwell image…")
def _ascent_or_message() -> tuple[np.ndarray | None, str | None]:
    try:
        image = load_ascent()
    except DataUnavailable as exc:
        return None, str(exc)
    image.setflags(write=False)
    return image, None


def stairwell() -> tuple[np.ndarray | None, str | None]:
    """The course's stairwell (shared, read-only), or None and a sentence saying why not."""
    return _ascent_or_message()


@st.cache_resource(show_spinner=False)
def builtin_image(name: str) -> np.ndarray:
    """A scikit-image sample (shared, read-only)."""
    image = images.builtin_image(name)
    image.setflags(write=False)
    return image


@st.cache_data(max_entries=64, show_spinner=False)
def round_trips(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The course's matplotlib round trip and Pillow's exact one of ``matrix``.

    Cached: drawing and saving a matplotlib figure takes tens of milliseconds, and
    an edit of one matrix should not redraw the other's.
    """
    return images.matplotlib_roundtrip(matrix), images.pillow_roundtrip(matrix)


def gray_matrix() -> np.ndarray:
    """The grayscale matrix edited on the Pixels page (the course's smiley until edited)."""
    matrix = st.session_state.get(GRAY_MATRIX_KEY)
    return images.SMILEY.copy() if matrix is None else matrix


# --------------------------------------------------------------------------
# Matrix editor
# --------------------------------------------------------------------------


def _version_key(key: str) -> str:
    return f"{key}__version"


def set_matrix(state_key: str, value: np.ndarray, *, editor_key: str | None = None) -> None:
    """Replace a stored matrix and reset its editor (for quick actions and resizing)."""
    st.session_state[state_key] = np.asarray(value, dtype=np.uint8)
    if editor_key is not None:
        st.session_state[_version_key(editor_key)] = st.session_state.get(_version_key(editor_key), 0) + 1
        st.session_state.pop(f"{editor_key}__messages", None)
        st.session_state.pop(f"{editor_key}__base", None)


def matrix_editor(
    state_key: str,
    *,
    default: np.ndarray,
    key: str,
    channel: int | None = None,
    height: int | str = "auto",
    rerun: tuple[str, ...] = (),
) -> np.ndarray:
    """An editable grid of 0..255 values kept in ``st.session_state[state_key]``.

    Typing a non-number keeps the cell's value from before the grid's edits; values outside
    0..255 are clipped; each fix is reported under the grid in words. With
    ``channel``, edits one channel of an (H, W, C) array. ``rerun`` names keyed
    fragments to rerun after an edit (everything that shows this matrix), in
    that order, instead of Streamlit's default. Returns the matrix.
    """
    if st.session_state.get(state_key) is None:
        st.session_state[state_key] = np.array(default, dtype=np.uint8)
    version = st.session_state.get(_version_key(key), 0)
    editor_key = f"{key}__v{version}"
    messages_key = f"{key}__messages"
    base_key = f"{key}__base"
    if editor_key not in st.session_state or st.session_state.get(base_key) is None:
        # A new grid (first visit, back from another page, after a quick action): it shows the
        # matrix as it is now. The grid then keeps its own edits; re-sending it after every
        # edit would rebuild it in the browser, which is slow.
        array = st.session_state[state_key]
        st.session_state[base_key] = (array if channel is None else array[..., channel]).copy()
    base = st.session_state[base_key]

    def apply_edits() -> None:
        """Fold the grid's edits (all of them since the grid was built) into the stored matrix."""
        edits = st.session_state.get(editor_key, {}).get("edited_rows", {})
        cells = base.astype(object)
        for row, changes in edits.items():
            for col, value in changes.items():
                cells[int(row), int(col)] = value
        new_plane, messages = images.parse_cells(cells, base)
        updated = st.session_state[state_key].copy()
        if channel is None:
            updated = new_plane
        else:
            updated[..., channel] = new_plane
        st.session_state[state_key] = updated
        st.session_state[messages_key] = messages
        if rerun:
            st.rerun(list(rerun))

    frame = pd.DataFrame(base.astype(str), columns=[str(c) for c in range(base.shape[1])])
    st.data_editor(
        frame,
        key=editor_key,
        on_change=apply_edits,
        num_rows="fixed",
        height=height,
        column_config={
            str(c): st.column_config.TextColumn(str(c), width=40, help=f"Column {c}: a value from 0 to 255")
            for c in range(base.shape[1])
        },
    )
    for message in st.session_state.get(messages_key, [])[:8]:
        st.warning(message, icon=":material/warning:")
    extra = len(st.session_state.get(messages_key, [])) - 8
    if extra > 0:
        st.warning(f"…and {extra} more cells were fixed the same way.", icon=":material/warning:")
    return st.session_state[state_key]


# --------------------------------------------------------------------------
# Uploads and the input image picker
# --------------------------------------------------------------------------


def image_upload(key: str, *, label: str = "Upload a PNG or JPEG") -> images.DecodedImage | None:
    """A checked image upload. Bad files get a message; the last good upload stays in use."""
    last_key = f"{key}__last_good"
    upload = st.file_uploader(
        label,
        type=["png", "jpg", "jpeg"],
        key=key,
        help=(
            f"PNG or JPEG, at most {images.MAX_UPLOAD_BYTES // 2**20} MB and "
            f"{images.MAX_UPLOAD_PIXELS:,} pixels. Colour, 16-bit, palette and transparent images are converted."
        ),
    )
    if upload is not None:
        try:
            decoded = images.decode_image(upload.getvalue())
        except images.ImageDecodeError as exc:
            st.error(f"{upload.name}: {exc}", icon=":material/block:")
            if st.session_state.get(last_key) is not None:
                st.caption("Still showing the last image that worked.")
        else:
            st.session_state[last_key] = decoded
            for note in decoded.notes:
                st.info(note, icon=":material/info:")
    return st.session_state.get(last_key)


def input_image_picker(key: str, *, gray: bool = True, default: str = STAIRWELL) -> tuple[str, np.ndarray]:
    """Choose the image a page works on: the stairwell, a sample, the Pixels matrix or an upload.

    Returns (name, image); grayscale uint8 when ``gray``. When the stairwell
    cannot be loaded, says so in one line and falls back to the camera.
    """
    options = [STAIRWELL, MY_MATRIX, *images.BUILTIN_IMAGES, UPLOAD]
    choice = st.selectbox("Input image", options, index=options.index(default), key=key)
    image: np.ndarray | None = None
    if choice == STAIRWELL:
        image, problem = stairwell()
        if image is None:
            st.info(f"{problem} Using the camera image instead.", icon=":material/info:")
            choice, image = "Camera", builtin_image("Camera")
    elif choice == MY_MATRIX:
        image = gray_matrix()
    elif choice == UPLOAD:
        decoded = image_upload(f"{key}__upload")
        if decoded is None:
            st.caption("No image uploaded yet: showing the camera image.")
            choice, image = "Camera", builtin_image("Camera")
        else:
            image = decoded.array
    else:
        image = builtin_image(choice)
    if gray:
        image = images.to_grayscale(image)
    return choice, image


# --------------------------------------------------------------------------
# Fashion-MNIST (shared, read-only; loaded once per server process)
# --------------------------------------------------------------------------

FASHION_SPINNER = (
    "Loading Fashion-MNIST… (on a machine that has never used it, Keras downloads about "
    "30 MB first; this gives up after 2 minutes)"
)


@st.cache_resource(show_spinner=FASHION_SPINNER)
def _fashion_mnist() -> dict[str, np.ndarray]:
    from cnnviz import data

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    arrays = {
        "train_raw": x_train, "train_labels": y_train, "test_raw": x_test, "test_labels": y_test,
        "train": data.prepare_images(x_train), "test": data.prepare_images(x_test),
    }
    arrays["train_range"] = np.array([arrays["train"].min(), arrays["train"].max()])
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def fashion_mnist() -> tuple[dict[str, np.ndarray] | None, str | None]:
    """Fashion-MNIST shared by all sessions, or None and a sentence saying how to provide it.

    Keys: "train_raw"/"test_raw" (N, 28, 28) uint8 as loaded, "train"/"test" prepared
    the course's way (N, 28, 28, 1) float32 in 0..1, "train_labels"/"test_labels",
    "train_range" (the prepared training images' smallest and largest value).
    A failure is not cached: the next visit tries again.
    """
    try:
        return _fashion_mnist(), None
    except DataUnavailable as exc:
        return None, str(exc)


# --------------------------------------------------------------------------
# Kernel controls (shared by the Convolution and Pooling pages)
# --------------------------------------------------------------------------

CONV_SETTINGS_KEY = "conv_settings"
"""Session key of the current ConvolutionSettings (the same kernel on every page)."""

_KERNEL_TEXT_KEY = f"{CONV_SETTINGS_KEY}__text"
_KERNEL_ERROR_KEY = f"{CONV_SETTINGS_KEY}__error"
_KERNEL_VERSION_KEY = f"{CONV_SETTINGS_KEY}__version"
CUSTOM_KERNEL = "custom"
"""Preset picker entry meaning "the kernel I typed or edited"."""


@st.cache_data(max_entries=64, show_spinner=False)
def _convolution_result(image: np.ndarray, kernel: np.ndarray, options: tuple, mapping: str):
    from cnnviz import convolution, figures

    settings = convolution.ConvolutionSettings(kernel=kernel, mapping=mapping, **dict(options))
    raw, shown = settings.apply(image)
    display = figures.signed_rgb(raw) if mapping == "signed" else shown
    return raw, shown, convolution.align_to_input(display, image.shape, settings)


def convolution_result(image: np.ndarray, settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw sums, shown values, the result drawn on the input's grid) for ``image``.

    Cached and shared by all students: the Convolution and Pooling pages, and every
    student looking at the same image and kernel, compute it once. Raises ValueError
    when the settings do not fit the image (e.g. a kernel larger than a "valid" image).
    """
    options = tuple(sorted(settings.correlate_options().items()))
    return _convolution_result(image, settings.kernel, options, settings.mapping)


def current_convolution_settings():
    """The kernel and options in use (the course's until changed), kept across pages."""
    from cnnviz.convolution import ConvolutionSettings
    from cnnviz.kernels import format_kernel

    settings = st.session_state.get(CONV_SETTINGS_KEY)
    if settings is None:
        settings = ConvolutionSettings()
        st.session_state[CONV_SETTINGS_KEY] = settings
        st.session_state[_KERNEL_TEXT_KEY] = format_kernel(settings.kernel)
    return settings


def set_convolution_settings(settings, *, text: str | None = None) -> None:
    """Store new settings; the kernel grid and text box on every page show them at once."""
    from cnnviz.kernels import format_kernel

    old = st.session_state.get(CONV_SETTINGS_KEY)
    st.session_state[CONV_SETTINGS_KEY] = settings
    if old is None or not np.array_equal(old.kernel, settings.kernel) or text is not None:
        st.session_state[_KERNEL_TEXT_KEY] = format_kernel(settings.kernel) if text is None else text
        st.session_state[_KERNEL_VERSION_KEY] = st.session_state.get(_KERNEL_VERSION_KEY, 0) + 1
        st.session_state.pop(_KERNEL_ERROR_KEY, None)


def _use_kernel(kernel, *, text: str | None = None, preset: str | None = None) -> None:
    from cnnviz import kernels

    settings = current_convolution_settings()
    name = preset if preset is not None else kernels.preset_for(kernel)
    set_convolution_settings(settings.replace(kernel=kernel, preset=name), text=text)


def _on_preset(widget_key: str) -> str:
    from cnnviz import kernels

    name = st.session_state[widget_key]
    if name == CUSTOM_KERNEL or name not in kernels.PRESETS:
        return _CONTROLS_CHANGED
    preset = kernels.PRESETS[name]
    settings = current_convolution_settings()
    set_convolution_settings(settings.replace(kernel=preset.kernel.copy(), preset=name,
                                              normalise=preset.normalise, weight=1.0))
    return _KERNEL_CHANGED


def _on_kernel_text(widget_key: str) -> str:
    from cnnviz import kernels

    text = st.session_state[widget_key]
    try:
        kernel = kernels.parse_kernel(text)
    except kernels.KernelError as exc:
        st.session_state[_KERNEL_TEXT_KEY] = text  # keep what was typed, to correct it
        st.session_state[_KERNEL_ERROR_KEY] = str(exc)
        return _CONTROLS_CHANGED
    _use_kernel(kernel, text=text)
    return _KERNEL_CHANGED


def _on_kernel_grid(editor_key: str) -> str:
    from cnnviz import kernels

    edits = st.session_state.get(editor_key, {}).get("edited_rows", {})
    rows = current_convolution_settings().kernel.astype(object)
    for row, changes in edits.items():
        for col, value in changes.items():
            rows[int(row), int(col)] = value
    problems = [f"Row {r + 1}, column {c + 1} is empty: type a number."
                for (r, c), v in np.ndenumerate(rows) if v is None]
    try:
        if problems:
            raise kernels.KernelError(problems[0])
        kernel = kernels.check_grid([[float(v) for v in row] for row in rows])
    except (kernels.KernelError, TypeError, ValueError) as exc:
        st.session_state[_KERNEL_ERROR_KEY] = str(exc)
        st.session_state[_KERNEL_VERSION_KEY] = st.session_state.get(_KERNEL_VERSION_KEY, 0) + 1
        return _CONTROLS_CHANGED
    _use_kernel(kernel)
    return _KERNEL_CHANGED


def _on_kernel_size(rows_key: str, cols_key: str) -> str:
    kernel = current_convolution_settings().kernel
    rows, cols = int(st.session_state[rows_key]), int(st.session_state[cols_key])
    resized = np.zeros((rows, cols))
    r, c = min(rows, kernel.shape[0]), min(cols, kernel.shape[1])
    resized[:r, :c] = kernel[:r, :c]
    _use_kernel(resized)
    return _KERNEL_CHANGED


def _on_option(widget_key: str, field_name: str) -> str:
    value = st.session_state[widget_key]
    if value is None:  # an emptied number box: keep the last value
        return _CONTROLS_CHANGED
    set_convolution_settings(current_convolution_settings().replace(**{field_name: value}))
    return _OPTIONS_CHANGED


_KERNEL_CHANGED, _OPTIONS_CHANGED, _CONTROLS_CHANGED = "kernel", "options", "controls"
"""What a kernel-control callback changed: it decides which keyed fragments rerun."""


def _then_rerun(callback, results: tuple, controls: str | None, *args) -> None:
    """Run a kernel-control callback, then rerun only the keyed fragments that must show something new.

    Results first (they are what the student is waiting for), then the controls
    themselves when they must show a new grid, preset or message. Without keys,
    Streamlit's default rerun applies (the enclosing fragment, or the page).
    """
    changed = callback(*args)
    targets = [*results] if changed in (_KERNEL_CHANGED, _OPTIONS_CHANGED) else []
    if controls is not None and changed in (_KERNEL_CHANGED, _CONTROLS_CHANGED):
        targets.append(controls)
    if results or controls is not None:
        st.rerun(targets or [controls or results[0]])


def _seed(widget_key: str, value) -> None:
    """Give a widget the stored value (widgets forget theirs when another page runs)."""
    st.session_state[widget_key] = value


def kernel_controls(key: str, *, show_channels: bool = True, show_mapping: bool = True,
                    results: tuple[str, ...] = (), controls: str | None = None):
    """Preset picker, kernel grid, typed kernel and options; returns the ConvolutionSettings.

    The settings live in ``st.session_state[CONV_SETTINGS_KEY]``: the same kernel and
    options appear on every page calling this (with its own ``key`` prefix) and survive
    page switches. A bad kernel gets a message naming the problem; the last good one stays.
    Widget keys: ``{key}_preset``, ``{key}_kernel_text``, ``{key}_padding``, ``{key}_stride``,
    ``{key}_weight``, ``{key}_normalise``, ``{key}_flip``, ``{key}_channels``, ``{key}_mapping``.

    ``results`` and ``controls`` name keyed fragments (``@st.fragment(key=...)``) so an
    edit reruns only what it changes: ``results`` (in that order) after a new kernel or
    option, then ``controls`` (the fragment holding these widgets) when the grid, preset
    or a message must change. Without them, an edit reruns the enclosing fragment or page.
    """
    from cnnviz import convolution as conv
    from cnnviz import kernels

    def rerunning(callback, *args) -> dict:
        return dict(on_change=_then_rerun, args=(callback, tuple(results), controls, *args))

    settings = current_convolution_settings()
    kernel = settings.kernel

    names = [*kernels.PRESETS, CUSTOM_KERNEL]
    preset_key = f"{key}_preset"
    _seed(preset_key, settings.preset if settings.preset in kernels.PRESETS else CUSTOM_KERNEL)
    st.selectbox(
        "Kernel", names, key=preset_key, **rerunning(_on_preset, preset_key),
        format_func=lambda n: kernels.PRESETS[n].label if n in kernels.PRESETS else "My own kernel (typed or edited)",
        help="A preset kernel, or your own: edit the grid or type the numbers below.",
    )
    if settings.preset in kernels.PRESETS:
        st.caption(kernels.PRESETS[settings.preset].explanation)

    version = st.session_state.get(_KERNEL_VERSION_KEY, 0)
    rows_key, cols_key = f"{key}_kernel_rows", f"{key}_kernel_cols"
    _seed(rows_key, kernel.shape[0])
    _seed(cols_key, kernel.shape[1])
    c1, c2 = st.columns(2)
    c1.number_input("Rows", 1, conv.MAX_KERNEL_SIDE, key=rows_key, **rerunning(_on_kernel_size, rows_key, cols_key),
                    help="1 to 15. New cells are 0; shrinking keeps the top-left part.")
    c2.number_input("Columns", 1, conv.MAX_KERNEL_SIDE, key=cols_key, **rerunning(_on_kernel_size, rows_key, cols_key),
                    help="1 to 15. New cells are 0; shrinking keeps the top-left part.")
    editor_key = f"{key}_kernel_grid__v{version}"
    frame = pd.DataFrame(kernel, columns=[str(c) for c in range(kernel.shape[1])])
    with st.container(key=f"{key}_kernel_grid"):
        st.data_editor(
            frame, key=editor_key, **rerunning(_on_kernel_grid, editor_key), num_rows="fixed",
            hide_index=True,
            column_config={str(c): st.column_config.NumberColumn(str(c + 1), width=44, format="%g")
                           for c in range(kernel.shape[1])},
        )
    text_key = f"{key}_kernel_text"
    _seed(text_key, st.session_state.get(_KERNEL_TEXT_KEY, kernels.format_kernel(kernel)))
    st.text_area(
        "…or type the kernel", key=text_key, **rerunning(_on_kernel_text, text_key),
        height=max(90, 28 * kernel.shape[0] + 30),
        help="One row per line (or rows separated by ;), numbers separated by spaces or commas, "
             "fractions like 1/9 allowed; or JSON such as [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]. "
             "Press Ctrl+Enter or click outside the box to apply.",
    )
    if st.session_state.get(_KERNEL_ERROR_KEY):
        st.error(f"{st.session_state[_KERNEL_ERROR_KEY]} Still using the last kernel that worked.",
                 icon=":material/block:")

    def option(widget, label, field_name, **kwargs):
        widget_key = f"{key}_{field_name}"
        _seed(widget_key, getattr(settings, field_name))
        return widget(label, key=widget_key, **rerunning(_on_option, widget_key, field_name), **kwargs)

    option(st.number_input, "Weight", "weight", min_value=-1000.0, max_value=1000.0, step=0.1, format="%g",
           help="Every sum is multiplied by this number (the course's weight = 1).")
    option(st.checkbox, "Normalise (÷ kernel sum)", "normalise",
           disabled=not conv.can_normalise(kernel),
           help="Keeps a blur's brightness. Not possible when the sum is 0, as for edge kernels."
           if conv.can_normalise(kernel) else "This kernel's numbers add up to 0: there is nothing to divide by.")
    option(st.selectbox, "Border (padding)", "padding", options=conv.PADDINGS,
           format_func=conv.PADDING_LABELS.get,
           help="What happens where the kernel hangs over the image's edge.")
    option(st.radio, "Stride", "stride", options=conv.STRIDES, horizontal=True,
           help="Step between kernel positions: 2 keeps every second row and column.")
    option(st.toggle, "Flip kernel (convolution)", "flip",
           help="Off: cross-correlation, what the course's loop and Keras' Conv2D compute. "
                "On: the kernel is rotated 180 degrees first, as in the mathematical definition.")
    if show_mapping:
        option(st.radio, "Show the result as", "mapping", options=conv.MAPPINGS,
               format_func=conv.MAPPING_LABELS.get)
    if show_channels:
        option(st.radio, "Colour images", "channels", options=conv.CHANNELS,
               format_func=conv.CHANNEL_LABELS.get)
    return current_convolution_settings()


@st.cache_data(max_entries=64, show_spinner=False)
def png_of(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image, fast to encode, for ``st.image(..., output_format="PNG")``.

    Pass ``output_format="PNG"`` too: with the default ("auto") Streamlit decodes
    the PNG and re-encodes it as JPEG, which costs more than everything else in a
    kernel edit.
    """
    return images.png_bytes(image, compress_level=1)


# --------------------------------------------------------------------------
# Trained models for the Activations page (Keras is imported only when called)
# --------------------------------------------------------------------------

MODEL_SOURCES = {
    "shipped": "The trained CNN shipped with the app",
    "trained": "My model from the Train page",
    "upload": "Upload a .keras / .h5 file",
}
"""Where the Activations page's model comes from: choice -> label."""


def _freeze_long_lived_objects() -> None:
    """Keep the garbage collector away from everything alive now (TensorFlow and Keras: millions
    of objects that live as long as the server).

    Python's automatic full collections otherwise walk them all, about 250 ms here, in the
    middle of a student's rerun, on every page, several times a minute. Called when
    TensorFlow has been imported and when the shipped model has been loaded.
    """
    import gc

    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner="Starting TensorFlow (once per server)…")
def import_models():
    """``cnnviz.models`` (TensorFlow and Keras), imported once per server process.

    Pages that need TensorFlow get it here, so the import is followed by
    :func:`_freeze_long_lived_objects` whichever page comes first.
    """
    from cnnviz import models

    _freeze_long_lived_objects()
    return models


@st.cache_resource(show_spinner="Loading the trained CNN (once per server)…")
def _shipped_activation_model():
    from cnnviz.activations import ActivationModel
    from cnnviz.models import load_shipped

    explorer = ActivationModel(load_shipped("cnn"))
    _freeze_long_lived_objects()
    return explorer


def shipped_activation_model():
    """The shipped CNN with its feature extractor, shared by every session (loaded once),
    or None and a sentence saying why not. A failure is not cached."""
    from cnnviz.models import SHIPPED_MODELS

    try:
        return _shipped_activation_model(), None
    except Exception as exc:  # noqa: BLE001 - missing file, Keras error: words, not a traceback
        return None, (f"The shipped CNN ({SHIPPED_MODELS['cnn'].name}) could not be loaded "
                      f"({type(exc).__name__}: {str(exc)[:200]}).")


def trained_activation_model():
    """The model trained on the Train page in this session, checked, with its extractor
    (built once per model), or None and a sentence saying why not."""
    from cnnviz.model_files import ModelFileError, check_model
    from cnnviz.models import TRAINED_MODEL_KEY

    model = st.session_state.get(TRAINED_MODEL_KEY)
    if model is None:
        return None, "You have not trained a model on the Train page in this session yet."
    memo = st.session_state.get("activations__trained_memo")
    if memo is None or memo[0] is not model:
        try:
            memo = (model, check_model(model), None)
        except ModelFileError as exc:
            memo = (model, None, f"The model from the Train page cannot be used here: {exc}")
        st.session_state["activations__trained_memo"] = memo
    return memo[1], memo[2]


def model_upload(key: str):
    """A checked model upload kept in this session; bad files get a message and the last
    good model stays. Returns an ActivationModel or None. Each file is checked once."""
    from cnnviz import model_files

    good_key, seen_key, error_key = f"{key}__last_good", f"{key}__seen", f"{key}__error"
    upload = st.file_uploader(
        "Upload a trained model (.keras or .h5)", type=["keras", "h5"], key=key,
        help=(f"At most {model_files.MAX_FILE_BYTES // 2**20} MB. A CNN for 28x28 grayscale "
              "images with 10 outputs, made of ordinary layers (no Lambda or custom code). "
              "Keras' safe mode is always on."),
    )
    if upload is not None and st.session_state.get(seen_key) != upload.file_id:
        st.session_state[seen_key] = upload.file_id
        st.session_state.pop(error_key, None)
        try:
            explorer = model_files.open_model_bytes(upload.getvalue(), upload.name)
        except model_files.ModelFileError as exc:
            st.session_state[error_key] = f"{upload.name}: {exc}"
        else:
            st.session_state[good_key] = (upload.name, explorer)
    if upload is not None and st.session_state.get(error_key):
        st.error(st.session_state[error_key], icon=":material/block:")
        if st.session_state.get(good_key):
            st.caption(f"Still using the last model that worked: {st.session_state[good_key][0]}.")
    last = st.session_state.get(good_key)
    return None if last is None else last[1]


def activation_model_picker(key: str):
    """Choose the model to explore: shipped (default), trained in this session, or uploaded.

    Returns (ActivationModel or None, a short description). When the chosen
    source has no usable model yet, says so and falls back to the shipped CNN.
    """
    source = st.radio("Model", list(MODEL_SOURCES), format_func=MODEL_SOURCES.get,
                      horizontal=True, key=key)
    explorer, problem = None, None
    if source == "trained":
        explorer, problem = trained_activation_model()
        name = st.session_state.get("cnnviz_trained_model_name") or "your model from the Train page"
    elif source == "upload":
        explorer = model_upload(f"{key}__upload")
        name = "your uploaded model"
        if explorer is None:
            problem = "No model uploaded yet."
    if explorer is not None:
        return explorer, name
    shipped, shipped_problem = shipped_activation_model()
    if problem:
        st.info(f"{problem} Showing the shipped CNN meanwhile.", icon=":material/info:")
    if shipped is None:
        st.error(f"{shipped_problem} Upload a model instead.", icon=":material/error:")
    return shipped, "the shipped CNN (trained on Fashion-MNIST, the course's architecture)"


ACTIVATION_DRAWING_KEY = "activations_drawing"
"""Session key of the 28x28 image drawn on the Activations page."""

_DRAW_EDITOR = "act_draw_editor"
_DRAW_SCALE = 12
"""Each of the 28x28 pixels is drawn as a 12x12 block (a 336-pixel canvas)."""


def activation_drawing(start: np.ndarray | None = None) -> np.ndarray:
    """The 28x28 uint8 image drawn on the Activations page (``start``, or black, at first)."""
    if st.session_state.get(ACTIVATION_DRAWING_KEY) is None:
        first = np.zeros((28, 28), np.uint8) if start is None else np.array(start, np.uint8)
        st.session_state[ACTIVATION_DRAWING_KEY] = first
    return st.session_state[ACTIVATION_DRAWING_KEY]


def _set_drawing(image: np.ndarray) -> None:
    set_matrix(ACTIVATION_DRAWING_KEY, image, editor_key=_DRAW_EDITOR)


def _drawing_input(start: np.ndarray | None) -> np.ndarray:
    from streamlit_image_coordinates import streamlit_image_coordinates

    from cnnviz.activations import draw_stroke, to_model_input

    drawing = activation_drawing(start)
    b1, b2, b3 = st.columns(3)
    if b1.button("Clear", key="act_draw_clear", help="All black, as the background of Fashion-MNIST."):
        _set_drawing(np.zeros_like(drawing))
    if start is not None and b2.button("Reset", key="act_draw_start",
                                       help="Start again from the first image of the grid."):
        _set_drawing(start)
    if b3.button("Invert", key="act_draw_invert", help="255 − value: the negative."):
        _set_drawing(255 - drawing)
    m1, m2 = st.columns(2)
    erase = m1.toggle("Erase", key="act_draw_erase", help="Off: paint white. On: paint black.")
    radius = m2.slider("Brush", 0.5, 3.0, 1.2, 0.1, key="act_draw_radius", help="Brush radius in pixels.")
    drawing = activation_drawing(start)
    st.caption("Click or drag on the image to paint.")
    value = streamlit_image_coordinates(images.enlarge(drawing, _DRAW_SCALE), key="act_canvas",
                                        click_and_drag=True, width="stretch", cursor="crosshair")
    if value and value.get("unix_time") != st.session_state.get("act_canvas__seen"):
        st.session_state["act_canvas__seen"] = value.get("unix_time")
        size = 28 / float(value.get("width") or 28 * _DRAW_SCALE)
        points = [(value[f"y{s}"] * size - 0.5, value[f"x{s}"] * size - 0.5) for s in ("1", "2")] \
            if "x1" in value else [(value["y"] * size - 0.5, value["x"] * size - 0.5)] * 2
        _set_drawing(draw_stroke(drawing, points[0], points[1], radius=radius, value=0 if erase else 255))
        st.rerun(scope="fragment")
    with st.expander("Upload a picture or edit the numbers"):
        invert = st.toggle("Invert the picture (dark object on a light background)", key="act_draw_upload_invert")
        decoded = image_upload("act_draw_upload", label="A PNG or JPEG, made 28x28 grayscale")
        if decoded is not None and st.session_state.get("act_draw_upload__used") != (id(decoded), invert):
            st.session_state["act_draw_upload__used"] = (id(decoded), invert)
            _set_drawing(to_model_input(decoded.array, invert=invert))
            st.rerun(scope="fragment")
        matrix_editor(ACTIVATION_DRAWING_KEY, default=drawing, key=_DRAW_EDITOR, height=400)
    return activation_drawing(start)


@st.fragment
def activation_playground(explorer, layers: list[str], filter_index: int, *, colorscale: str,
                          scale: str, input_axes: bool, start: np.ndarray | None = None) -> None:
    """Draw or edit a 28x28 image and see its activation maps and the prediction at once."""
    from cnnviz import figures
    from cnnviz.data import CLASS_NAMES

    left, right = st.columns([1, 1.9])
    with left:
        drawing = _drawing_input(start)
    with right:
        probabilities = explorer.probabilities(drawing)
        best = int(probabilities[0].argmax())
        st.markdown(f"The model says **{CLASS_NAMES[best]}** ({probabilities[0, best]:.0%}).")
        st.plotly_chart(figures.prediction_figure(probabilities, CLASS_NAMES, row_labels=["your drawing"]),
                        key="act_draw_predict", config={"displayModeBar": False}, theme=None)
    columns = [(n, explorer.maps(drawing, n)[..., filter_index]) for n in layers]
    st.plotly_chart(figures.activation_grid(
        drawing[np.newaxis], columns, row_labels=["your drawing"], filter_index=filter_index,
        colorscale=colorscale, scale=scale, input_axes=input_axes),
        key="act_draw_grid", config={"displayModeBar": False}, theme=None)


def learned_kernels(explorer) -> None:
    """The first Conv2D layer's kernels as heatmaps, one of them sent to the Convolution lab."""
    from pathlib import Path

    from cnnviz import figures

    kernels, biases = explorer.first_conv_kernels()
    name = explorer.names[explorer.kinds.index("Conv2D")]
    count, kh, kw = kernels.shape
    st.plotly_chart(figures.kernel_grid(
        kernels, biases, title=f"The {count} kernels {name} learned ({kh}x{kw}; white = 0, "
                               "red positive, blue negative)"),
        key="act_kernels", config={"displayModeBar": False}, theme=None)
    st.markdown(
        f"Each map of **{name}** is `ReLU(sum(kernel × window) + bias)`: the layer also **adds "
        "a bias** and then **sets negative results to 0** (ReLU). The model saw pixels "
        "scaled to 0..1; the weights are small (mostly about ±0.1 to ±0.5)."
    )
    c1, c2 = st.columns([1, 2])
    k = c1.number_input(f"Kernel (0 to {count - 1})", 0, count - 1, min(1, count - 1), key="act_kernel")
    c1.dataframe(pd.DataFrame(kernels[k]).style.format("{:+.3f}"), hide_index=False)
    c1.caption(f"bias {biases[k]:+.4f}")
    with c2:
        if not (Path(__file__).resolve().parent.parent / "pages" / "convolution.py").exists():
            st.caption("The Convolution lab is not part of this app yet.")
            return
        st.markdown(
            "Open this kernel in the **Convolution lab** to slide it over any image yourself. "
            "On 0..255 pixels these small weights give results of a few tens, mostly negative, "
            "which the course's clipping would turn black: the lab opens with **signed values** "
            "(blue below 0, red above). It shows the sum only: no bias, no ReLU."
        )
        if st.button(f"Open kernel {k} in the Convolution lab", key="act_open_kernel",
                     icon=":material/blur_on:", type="primary"):
            settings = current_convolution_settings().replace(
                kernel=kernels[k], preset=None, mapping="signed", padding="valid", stride=1,
                weight=1.0, normalise=False, flip=False)
            set_convolution_settings(settings)
            st.switch_page("pages/convolution.py")
