"""What every page shares: template helpers, filters and security headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response
from flask_login import current_user

from ..domain.requests import customer_status

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def money(value: Any, currency: str = "") -> str:
    """1234.5 -> '1,234.50' (with the currency when given); leaves non-numbers alone."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "" if value is None else str(value)
    text = f"{amount:,.2f}"
    return f"{currency} {text}".strip()


def when(value: Any) -> str:
    """A moment as staff read it: '2026-11-04 01:00 UTC' (datetimes or ISO text); leaves other text alone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.tzinfo else "")
    return "" if value is None else str(value)


def duration(value: timedelta) -> str:
    """A time span in its largest units: '3 d 4 h', '5 h', '12 min'."""
    minutes = max(int(value.total_seconds() // 60), 0)
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h" if hours else f"{minutes} min"


def humanize(value: Any) -> str:
    return str(value or "").replace("_", " ")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def register(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["humanize"] = humanize
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["customer_status"] = customer_status
    app.after_request(_security_headers)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        user = current_user.user if getattr(current_user, "is_authenticated", False) else None
        return {"me": user}
