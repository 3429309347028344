"""WSGI entry point for gunicorn: `gunicorn bpmn_requests.web.wsgi:app`.

The one module that builds the application when imported, because that is what WSGI servers expect.
"""

from __future__ import annotations

from . import create_app

app = create_app()
