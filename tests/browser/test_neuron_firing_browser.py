"""The Neuron firing page in a real browser: rendered raster and traces, controls, bad upload."""

import pytest

from models.vision.zoo import shipped_cards
from tests.browser.conftest import error_boxes, wait_for_plots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shipped_cards(), reason="no Fashion-MNIST checkpoints are installed"),
]

# Plotly's own record of what it drew: the raster is the figure titled with its spike count.
FIGURE_TITLES = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => ({
  title: (g.layout && g.layout.title && (g.layout.title.text || g.layout.title)) || '',
  points: (g._fullData || []).map(t => (typeof t._length === 'number') ? t._length : 0)
                             .reduce((a, b) => a + b, 0),
}))
"""


def _figures(page):
    return page.evaluate(FIGURE_TITLES)


def test_raster_and_traces_render_with_data(page, dashboard_url):
    page.goto(f"{dashboard_url}/neuron_firing")
    wait_for_plots(page, 5)
    figures = _figures(page)
    raster = [f for f in figures if "spikes of neurons" in str(f["title"])]
    traces = [
        f
        for f in figures
        if "U and q" in str(f["title"]) or "against the threshold" in str(f["title"])
    ]
    assert raster and raster[0]["points"] > 0, figures
    assert traces and traces[0]["points"] > 0, figures
    assert error_boxes(page) == []


def test_changing_layer_redraws_the_raster(page, dashboard_url):
    page.goto(f"{dashboard_url}/neuron_firing")
    wait_for_plots(page, 5)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Layer").click()
    page.get_by_role("option", name="conv2").click()
    page.get_by_role("heading", name="Spike raster: conv2", exact=False).wait_for(timeout=120_000)
    wait_for_plots(page, 5)
    assert any("spikes of neurons" in str(f["title"]) and f["points"] > 0 for f in _figures(page))
    assert error_boxes(page) == []


def test_bad_upload_shows_a_message(page, dashboard_url):
    page.goto(f"{dashboard_url}/neuron_firing")
    wait_for_plots(page, 5)
    page.get_by_text("Upload", exact=True).click()
    page.locator("input[type='file']").set_input_files(
        files=[
            {"name": "notes.png", "mimeType": "image/png", "buffer": b"plain text, not an image"}
        ]
    )
    alert = page.locator("[data-testid='stAlertContentError']")
    alert.wait_for(timeout=60_000)
    assert "not an image" in alert.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
