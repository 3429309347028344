"""Settings: every variable has a default, bad or unknown ones stop the start with the variable's name."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from bpmn_requests.config import Settings, SettingsError


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.write_off_tolerance == Decimal("250.00")
    calendar = settings.calendar()
    assert (calendar.opens, calendar.closes, calendar.working_days) == (time(9), time(17), frozenset(range(5)))


def test_values_are_read_and_typed() -> None:
    settings = Settings.from_env({"BPMN_REQUESTS_DATABASE_URL": "postgres://u@h/db",
                                  "BPMN_REQUESTS_WRITE_OFF_TOLERANCE": "100.00",
                                  "BPMN_REQUESTS_HOLIDAYS": "2026-12-25",
                                  "BPMN_REQUESTS_TIMEZONE": "Europe/Berlin"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.write_off_tolerance == Decimal("100.00")
    assert settings.calendar().holidays == {date(2026, 12, 25)}
    assert settings.calendar().zone == "Europe/Berlin"


@pytest.mark.parametrize("name, value", [
    ("BPMN_REQUESTS_DATABASE_URL", "mysql://x"), ("BPMN_REQUESTS_WRITE_OFF_TOLERANCE", "lots"),
    ("BPMN_REQUESTS_PAYMENT_AUTO_APPLY_CONFIDENCE", "2"), ("BPMN_REQUESTS_TIMEZONE", "Mars/Base"),
    ("BPMN_REQUESTS_BUSINESS_HOURS", "9-5"), ("BPMN_REQUESTS_WORKING_DAYS", "funday"),
    ("BPMN_REQUESTS_COOKIE_SECURE", "maybe"), ("BPMN_REQUESTS_DATABSE_URL", "sqlite:///typo.db"),
])
def test_a_bad_or_unknown_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_env_example_lists_every_setting() -> None:
    from testenv import ROOT
    listed = (ROOT / ".env.example").read_text()
    for name, default, _ in Settings.documented():
        assert f"{name}={default}" in listed
