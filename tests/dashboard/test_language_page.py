"""The language page in Streamlit's AppTest: it renders with the shipped models, reacts to its
controls and turns bad text into messages instead of tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.language.checkpoints import available_models

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "language.py")
TIMEOUT_S = 240

pytestmark = pytest.mark.skipif(
    not {"wd-spikingformer", "we-spikingformer"} <= set(available_models()),
    reason="the language checkpoints are not installed; train them with `glimpse train language`",
)


def _run() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S)
    app.run()
    return app


def _errors(app: AppTest) -> list[str]:
    return [e.value for e in app.error] + [str(e.value) for e in app.exception]


def test_page_renders_decoder():
    app = _run()
    assert not _errors(app)
    assert app.title[0].value == "Spiking language models"
    assert any("our reconstruction" in c.value for c in app.caption)
    assert len(app.get("plotly_chart")) >= 4


def test_encoder_predicts_masks():
    app = _run()
    app.radio[0].set_value("WE-Spikingformer (encoder, masked WSSA)").run()
    assert not _errors(app)
    text = app.text_area[0].value
    assert "[MASK]" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Emma smiled 😀 at him.", "never seen in the training text"),
        ("She\x07 laughed.", "Removed control characters"),
        ("word " * 300, "only the first 128 tokens"),
    ],
)
def test_bad_text_gets_a_message(text, expected):
    app = _run()
    app.text_area[0].set_value(text).run()
    messages = [e.value for e in app.error] + [w.value for w in app.warning]
    assert not app.exception
    assert any(expected in m for m in messages), messages


def test_only_masks_on_encoder():
    app = _run()
    app.radio[0].set_value("WE-Spikingformer (encoder, masked WSSA)").run()
    app.text_area[0].set_value("[MASK] [MASK] [MASK]").run()
    assert not _errors(app)
    assert any("only [MASK]" in i.value for i in app.info)


def test_time_step_and_compare_controls():
    app = _run()
    app.select_slider[0].set_value(app.select_slider[0].options[0]).run()
    assert not _errors(app)
    app.toggle[0].set_value(True).run()
    assert not _errors(app)
