"""The Neuron firing page in Streamlit's AppTest: defaults, controls and bad uploads."""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from models.vision.zoo import shipped_cards
from tests.conftest import REPO

PAGE = str(REPO / "dashboard" / "views" / "neuron_firing.py")

pytestmark = pytest.mark.skipif(
    not shipped_cards(), reason="no Fashion-MNIST checkpoints are installed"
)


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def app() -> AppTest:
    page = AppTest.from_file(PAGE, default_timeout=180)
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    return page


def _charts(page: AppTest) -> int:
    return len(page.get("plotly_chart"))


def test_default_view_draws_every_chart(app):
    assert not app.error
    assert _charts(app) >= 5
    headers = [s.value for s in app.subheader]
    assert any(h.startswith("Spike raster: conv1") for h in headers)
    assert any("accuracy of every variant" in h for h in headers)


def test_layer_variant_and_sample_controls(app):
    app.selectbox(key="layer").select("fc1").run()
    assert not app.exception
    assert any("fc1" in s.value for s in app.subheader)
    for kind in app.selectbox(key="variant").options:
        app.selectbox(key="variant").select(kind).run()
        assert not app.exception, kind
    app.slider(key="sample").set_value(57).run()
    assert not app.exception and _charts(app) >= 5


def test_cost_table_is_editable(app):
    app.number_input(key="ac_pj").set_value(0.0).run()
    assert not app.exception
    energy = app.dataframe[0].value
    spiking = energy[energy["input"] == "spikes"]
    assert (spiking["energy_nJ"] == 0).all(), (
        "with free accumulates spike-driven layers cost nothing"
    )


def test_upload_that_is_not_an_image(app):
    app.radio(key="source").set_value("Upload").run()
    assert app.info, "the page asks for an upload"
    app.file_uploader[0].upload("notes.png", b"this is text, not a PNG", "image/png").run()
    assert not app.exception
    assert any("notes.png" in e.value and "not an image" in e.value for e in app.error)


def test_upload_of_wrong_size_and_mode(app):
    app.radio(key="source").set_value("Upload").run()
    rgb = np.zeros((64, 48, 3), dtype=np.uint8)
    app.file_uploader[0].upload("photo.png", _png(rgb), "image/png").run()
    assert any("48x64 pixels" in e.value and "mode RGB" in e.value for e in app.error)
    app.checkbox(key="convert").check().run()
    assert not app.error and not app.exception
    assert _charts(app) >= 5


def test_upload_of_fashion_sized_image(app):
    app.radio(key="source").set_value("Upload").run()
    pixels = np.zeros((28, 28), dtype=np.uint8)
    pixels[6:22, 8:20] = 200
    app.file_uploader[0].upload("bag.png", _png(pixels), "image/png").run()
    assert not app.error and not app.exception
    assert _charts(app) >= 5
