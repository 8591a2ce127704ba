"""The Home page lists every area with what is installed."""

from streamlit.testing.v1 import AppTest

from dashboard.areas import AREAS
from tests.conftest import REPO


def test_home_lists_every_area():
    page = AppTest.from_file(
        str(REPO / "dashboard" / "app.py"), default_timeout=60
    )  # Home is the default page
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    titles = [s.value for s in page.subheader]
    assert titles == [area.title for area in AREAS]
