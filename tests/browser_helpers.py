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


WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 360, "height": 780}


def both_widths(page: Any, name: str, *, must_fit: bool = True) -> None:
    """Screenshots at 1280 px (`name`) and at 360 px (`name-360`); with `must_fit` the page must not scroll
    sideways on the narrow screen."""
    screenshot(page, name)
    page.set_viewport_size(NARROW)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    screenshot(page, f"{name}-360")
    page.set_viewport_size(WIDE)
    if must_fit:
        assert overflow <= 0, f"{name} scrolls sideways at 360 px by {overflow} px"


def sign_in(page: Any, base: str, username: str, password: str = "demo") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
