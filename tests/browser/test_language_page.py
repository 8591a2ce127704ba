"""The language page in headless Chromium: figures draw with data, a control works, no errors."""

from __future__ import annotations

import pytest

from models.language.checkpoints import available_models
from tests.browser.conftest import error_boxes, wait_for_plots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not {"wd-spikingformer", "we-spikingformer"} <= set(available_models()),
        reason="the language checkpoints are not installed; train them with "
        "`glimpse train language`",
    ),
]


def test_language_page_in_chromium(page, dashboard_url):
    page.goto(dashboard_url + "/language")
    page.get_by_text("Spiking language models").first.wait_for(timeout=120_000)
    lengths = wait_for_plots(page, 3)
    assert all(length for length in lengths[:3])
    assert error_boxes(page) == []

    # switch to the encoder: its masked sample text and its figures appear
    page.get_by_text("WE-Spikingformer (encoder, masked WSSA)").click()
    page.get_by_text("[MASK]").first.wait_for(timeout=120_000)
    wait_for_plots(page, 3)
    assert error_boxes(page) == []
