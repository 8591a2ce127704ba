"""The speech page in Streamlit's AppTest: renders with the shipped checkpoint and samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import registry

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "speech.py")


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    return at


def test_renders_sample_without_errors(app):
    assert not app.exception
    assert not app.error
    assert len(app.get("plotly_chart")) >= 10
    labels = [metric.label for metric in app.metric]
    assert labels[:2] == ["Predicted digit", "Share of the evidence"]
    assert app.metric[0].value in {str(d) for d in range(10)}


def test_controls_rerun_cleanly(app):
    app.selectbox[1].set_value(app.selectbox[1].options[-1]).run()  # another sample
    heads = next(box for box in app.selectbox if box.label == "Heads")
    heads.set_value(heads.options[1]).run()
    app.toggle[0].set_value(False).run()
    assert not app.exception
    assert not app.error
    assert len(app.get("plotly_chart")) >= 10


def test_upload_mode_waits_for_a_file():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    at.radio[0].set_value("Upload a file").run()
    assert not at.exception
    assert any("Choose a sample, upload a file" in info.value for info in at.info)


def test_missing_checkpoint_shows_command(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "CHECKPOINT_ROOT", tmp_path)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("glimpse train speech" in warning.value for warning in at.warning)
