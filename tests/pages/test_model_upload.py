"""The Activations page's uploader end to end (AppTest): a hostile file gets its reason, the last good model stays."""

from __future__ import annotations




from cnnviz.ml.models import build_cnn  # noqa: E402
from tests.conftest import open_in_apptest  # noqa: E402
from tests.ml.test_model_files import with_config  # noqa: E402

PAGE = "pages/activations.py"


def lora(data: bytes) -> bytes:
    """The archive with a LoRA rank on its dense layer (the parameter-bound bypass)."""
    return with_config(data, lambda config: config["config"]["layers"][-2]["config"].update(
        lora_rank=4000, lora_alpha=4000))


def test_hostile_upload_shows_the_reason_and_keeps_the_last_model(data_dir, tmp_path):
    path = tmp_path / "good.keras"
    build_cnn(filters=5, dense_units=8).save(path)
    good = path.read_bytes()
    at = open_in_apptest(PAGE, timeout=180)
    next(r for r in at.radio if r.key == "act_source").set_value("upload").run()
    uploader = at.get("file_uploader")[0]
    uploader.set_value(("good.keras", good, "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error
    assert next(n for n in at.number_input if n.key == "act_filter").max == 4  # 5 filters: the upload

    uploader = at.get("file_uploader")[0]
    uploader.set_value(("lora.keras", lora(good), "application/octet-stream"))
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("lora" in e and "LoRA settings multiply" in e for e in errors), errors
    assert not any("Traceback" in e for e in errors)
    assert any("Still using the last model that worked: good.keras" in c.value for c in at.caption)
    assert next(n for n in at.number_input if n.key == "act_filter").max == 4  # still the good model
