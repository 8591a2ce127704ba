"""The backdoor page in Streamlit's AppTest: renders, reacts to controls, rejects bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from analysis.backdoor.inspection import GALLERY_MODES, available_attacks
from dashboard.cache.backdoor import CHECKPOINTS

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "backdoor.py")
TIMEOUT = 180

pytestmark = pytest.mark.skipif(
    not available_attacks(CHECKPOINTS),
    reason="needs the shipped backdoor checkpoints (glimpse train backdoor)",
)


def _run(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_page_renders_figures_and_metrics():
    at = _run()
    assert len(at.get("plotly_chart")) >= 5
    labels = [metric.label for metric in at.metric]
    assert labels == ["No defence: CA", "No defence: ASR", "CBPT-style: CA", "CBPT-style: ASR"]
    assert not at.error
    text = " ".join(c.value for c in at.caption)
    assert "images of the target class are excluded" in text
    assert any("CBPT-style" in m.value for m in at.markdown)


def test_every_attack_renders():
    at = _run()
    for attack in available_attacks(CHECKPOINTS):
        at.selectbox(key="attack").set_value(attack)
        _run(at)
        assert not at.error


def test_gallery_filters():
    at = _run()
    for mode in GALLERY_MODES:
        at.radio(key="gallery_mode").set_value(mode)
        _run(at)


def test_duplicate_class_names_rejected():
    at = _run()
    names = at.text_area(key="class_names").value.splitlines()
    names[1] = names[0]
    at.text_area(key="class_names").set_value("\n".join(names))
    _run(at)
    assert any("duplicate class names" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) >= 5  # the page still draws with the shipped names


def test_empty_class_name_rejected():
    at = _run()
    names = at.text_area(key="class_names").value.splitlines()
    names[2] = " "
    at.text_area(key="class_names").set_value("\n".join(names))
    _run(at)
    assert any("are empty" in e.value for e in at.error)


def test_missing_dataset_folder_reported(tmp_path):
    at = _run()
    at.radio(key="source").set_value("Fashion-MNIST folder")
    _run(at)
    at.text_input(key="folder").set_value(str(tmp_path))
    _run(at)
    assert any(
        "not found" in e.value and "glimpse data fetch fashion-mnist" in e.value for e in at.error
    )


def test_upload_classified():
    at = _run()
    image = np.zeros((28, 28), dtype=np.uint8)
    image[6:22, 8:20] = 200
    at.file_uploader(key="upload").set_value(("shirt.png", _png(image), "image/png"))
    _run(at)
    assert not at.error
    assert len(at.get("plotly_chart")) >= 6
    text = " ".join(c.value for c in at.caption)
    assert "Uploaded image, clean:" in text


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((32, 32), dtype=np.uint8), "is 32x32 pixels"),
        (np.zeros((28, 28, 4), dtype=np.uint8), "mode 'RGBA'"),
    ],
)
def test_bad_upload_reported(array, message):
    at = _run()
    at.file_uploader(key="upload").set_value(("bad.png", _png(array), "image/png"))
    _run(at)
    assert any(message in e.value for e in at.error)


def test_non_image_upload_reported():
    at = _run()
    at.file_uploader(key="upload").set_value(("notes.png", b"not an image", "image/png"))
    _run(at)
    assert any("could not be read as an image" in e.value for e in at.error)
