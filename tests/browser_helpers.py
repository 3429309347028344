"""Helpers of the browser tests: screenshots and signing in (a module, so any test can import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testenv import ROOT

SCREENSHOTS = ROOT / "test-output" / "screenshots"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base: str, username: str, password: str = "demo") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
