"""Every page opens in headless Chromium without a Streamlit error."""

import pytest

from dashboard.areas import AREAS
from tests.browser.conftest import error_boxes

pytestmark = pytest.mark.browser


def test_home_lists_every_area(page, dashboard_url):
    page.goto(dashboard_url)
    page.get_by_role("heading", name="Glimpse").wait_for(timeout=120_000)
    for area in AREAS:
        page.get_by_role("heading", name=area.title).wait_for(timeout=60_000)
    assert error_boxes(page) == []


@pytest.mark.parametrize("area", AREAS, ids=[a.url_path for a in AREAS])
def test_area_page_opens(page, dashboard_url, area):
    page.goto(f"{dashboard_url}/{area.url_path}")
    page.get_by_role("heading", name=area.title, exact=False).first.wait_for(timeout=180_000)
    # a page draws its figures, or says which checkpoint or data it is missing
    page.locator(".js-plotly-plot, [data-testid='stAlertContentWarning']").first.wait_for(
        timeout=180_000
    )
    assert error_boxes(page) == []
