"""Start ``glimpse dashboard`` once per test session and drive it with Debian's Chromium."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Plotly keeps the drawn traces on the graph div; Streamlit sends arrays as typed buffers,
# so the rendered data is read from _fullData, not data.
TRACE_LENGTHS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g =>
  (g._fullData || []).filter(t => t.visible !== false).map(t =>
    (typeof t._length === 'number') ? t._length : ((t.z || t.values || t.source) ? 1 : 0)))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def dashboard_url() -> Iterator[str]:
    """Start the dashboard with the ``glimpse dashboard`` entry point on a free local port."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard",
            "dashboard",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"glimpse dashboard exited early:\n{server.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        raise RuntimeError(f"glimpse dashboard did not open port {port} within 90 s")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()


def wait_for_plots(page, count: int, timeout_s: float = 120) -> list[list[int]]:
    """Wait until ``count`` Plotly figures have drawn at least one trace; return trace lengths."""
    deadline = time.time() + timeout_s
    lengths: list[list[int]] = []
    while time.time() < deadline:
        lengths = page.evaluate(TRACE_LENGTHS)
        if (
            len([g for g in lengths if g]) >= count
            and not page.locator("[data-testid='stSpinner']").count()
        ):
            return lengths
        time.sleep(0.5)
    raise AssertionError(f"expected {count} drawn figures within {timeout_s} s, got {lengths}")


def error_boxes(page) -> list[str]:
    """Texts of Streamlit exception and error elements on the page."""
    return page.locator(
        "[data-testid='stException'], [data-testid='stAlertContentError']"
    ).all_inner_texts()
