"""The Flask layer: an app factory taking settings; one blueprint per area. Thin: parse, call, render."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Flask

from ..bootstrap import System, build_system
from ..config import Settings
from .extensions import csrf, login_manager


def create_app(settings: Settings | None = None, system: System | None = None,
               config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Nothing is built at import time; tests pass their own settings or system."""
    settings = settings or (system.settings if system else Settings.from_env())
    system = system or build_system(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 256 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.config.update(config or {})
    app.extensions["bpmn_requests"] = system
    csrf.init_app(app)
    login_manager.init_app(app)
    from . import auth, errors, layout
    app.register_blueprint(auth.bp)
    errors.register(app)
    layout.register(app)
    for name in ("inbox", "requests_pages", "portal", "admin", "versions", "incidents", "messages", "api", "health"):
        _register_optional(app, name)
    return app


def _register_optional(app: Flask, name: str) -> None:
    """Areas register themselves through `register(app)` in their module."""
    import importlib
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return
        raise
    module.register(app)
