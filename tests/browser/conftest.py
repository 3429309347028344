"""Browser tests: a live server on 127.0.0.1 and a real headless Chromium driven by Playwright.

Chromium is Debian's package (/usr/bin/chromium, or BPMN_TESTS_CHROMIUM); Playwright's own browser
download is never used. Without Chromium the tests skip with a message, unless
BPMN_TESTS_REQUIRE_SERVICES=1 (CI), where they fail. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import screenshot, sign_in  # noqa: F401 - offered to the browser tests
from testenv import REQUIRE_SERVICES, build_test_system

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    explicit = os.environ.get("BPMN_TESTS_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _need(condition: bool, message: str) -> None:
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(message + " (mandatory with BPMN_TESTS_REQUIRE_SERVICES=1)")
    pytest.skip(message)


class LiveServer:
    def __init__(self, app: Any):
        from werkzeug.serving import make_server
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_system(tmp_path: Path, screener: object) -> Iterator[Any]:
    system = build_test_system(f"sqlite:///{tmp_path / 'browser.db'}", screener)
    yield system
    system.dispose()


@pytest.fixture
def live_server(live_system: Any, tmp_path: Path) -> Iterator[LiveServer]:
    from dataclasses import replace

    from bpmn_requests.web import create_app
    live_system.settings = replace(live_system.settings, upload_dir=tmp_path / "uploads",
                                   secret_key="browser-tests-secret")
    app = create_app(system=live_system)
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    _need(path is not None, "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright Python package is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
