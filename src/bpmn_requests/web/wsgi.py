"""WSGI entry point for gunicorn: `gunicorn bpmn_requests.web.wsgi:app`.

The one module that builds the application when imported, because that is what WSGI servers expect.
With a broker configured, work a request makes due (an asynchronous step, a message for a waiting
instance) is handed to the workers at once; without one, `bpmn-requests scheduler` finds it on its next
sweep (gunicorn runs no sweep of its own: that is one process's job, not every web process's).
"""

from __future__ import annotations

from flask import Flask

from ..bootstrap import broker_sender, build_system
from ..config import Settings
from . import create_app


def build_app() -> Flask:
    settings = Settings.from_env()
    system = build_system(settings)
    system.services.on_due = broker_sender(settings)
    return create_app(system=system)


app = build_app()
