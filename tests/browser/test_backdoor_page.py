"""The backdoor page in headless Chromium: figures draw, the attack picker works, no errors."""

from __future__ import annotations

import pytest

from analysis.backdoor.inspection import available_attacks
from analysis.backdoor.triggers import ATTACK_LABELS
from dashboard.cache.backdoor import CHECKPOINTS
from tests.browser.conftest import error_boxes, wait_for_plots

SUBPLOT_TITLE_SHOWN = """
(title) => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g =>
  ((g.layout && g.layout.annotations) || []).some(a => a.text === title))
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        len(available_attacks(CHECKPOINTS)) < 2, reason="needs two shipped poisoned checkpoints"
    ),
]


def test_backdoor_page_in_browser(dashboard_url, page):
    page.goto(dashboard_url + "/backdoor", timeout=120_000)
    lengths = wait_for_plots(page, 5, timeout_s=240)
    assert all(any(n > 0 for n in traces) for traces in lengths[:5])
    assert page.get_by_text("images of the target class are excluded").count() == 1
    assert error_boxes(page) == []

    # Pick the second attack and wait for the page to draw it.
    second = ATTACK_LABELS[available_attacks(CHECKPOINTS)[1]]
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=second).click()
    # The trigger figure titles its second panel with the attack's name once it redraws.
    page.wait_for_function(
        SUBPLOT_TITLE_SHOWN,
        arg=f"{second} trigger",
        timeout=240_000,
    )
    wait_for_plots(page, 5, timeout_s=240)
    assert error_boxes(page) == []
