"""The speech page in headless Chromium: figures with data, a control, and a bad upload."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import error_boxes, wait_for_plots

pytestmark = pytest.mark.browser


def _open(page, dashboard_url):
    page.goto(dashboard_url + "/speech")
    page.get_by_text("Speech commands", exact=False).first.wait_for(timeout=90_000)
    return wait_for_plots(page, 10, timeout_s=180)


def test_figures_draw_and_toggle(page, dashboard_url):
    lengths = _open(page, dashboard_url)
    assert sum(1 for traces in lengths if traces and max(traces) > 0) >= 10
    page.get_by_text("Running sum (the prediction is its final argmax)").click()
    time.sleep(1.0)
    wait_for_plots(page, 10, timeout_s=120)
    assert error_boxes(page) == []


def test_upload_of_non_audio_shows_message(page, dashboard_url, tmp_path):
    _open(page, dashboard_url)
    page.get_by_text("Upload a file").click()
    page.locator("input[type='file']").first.wait_for(state="attached", timeout=30_000)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not a recording")
    page.locator("input[type='file']").first.set_input_files(str(not_audio))
    message = page.locator("[data-testid='stAlertContentError']").first
    message.wait_for(timeout=60_000)
    assert "not a readable audio file" in message.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
