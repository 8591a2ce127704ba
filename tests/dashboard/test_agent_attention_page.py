"""The Agent vs human attention page in Streamlit's AppTest, on the shipped agents and trial."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.cache import agent_attention as cache

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "agent_attention.py")
TIMEOUT = 300

pytestmark = pytest.mark.skipif(
    not cache.shipped_cards(), reason="needs the shipped agents (glimpse train atari ppo)"
)


def _run(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _frame_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Frame "))


def test_renders_the_sample_trial_with_metrics():
    at = _run()
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) >= 3
    assert _frame_line(at).startswith("**Frame 1 of ")
    labels = {metric.label for metric in at.metric}
    assert {"NSS", "CC"} <= {label.split(" ")[0] for label in labels}


def test_frame_slider_moves_every_view():
    at = _run()
    before = {metric.label: metric.value for metric in at.metric}
    at.slider(key="aa_frame").set_value(5)
    _run(at)
    assert _frame_line(at).startswith("**Frame 6 of ")
    after = {metric.label: metric.value for metric in at.metric}
    assert after != before


def test_captum_method_and_critic_target_render():
    at = _run()
    at.selectbox(key="aa_method").set_value("saliency")
    at.radio(key="aa_target").set_value("critic")
    _run(at)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) >= 3


def test_missing_trial_file_is_named(tmp_path):
    at = _run()
    missing = tmp_path / "no_such_trial.txt"
    at.text_input(key="aa_trial_path").set_value(str(missing))
    _run(at)
    messages = " ".join(e.value for e in at.error)
    assert "no_such_trial.txt" in messages
