"""`bpmn-requests serve`: the web app on the embedded server (gunicorn serves it in production)."""

from __future__ import annotations

import click

from .cli_common import Context, command
from .cli_output import console


@click.command("serve")
@click.option("--host", default=None, help="address to listen on (default: BPMN_REQUESTS_HOST)")
@click.option("--port", default=None, type=int, help="port (default: BPMN_REQUESTS_PORT)")
@command
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the staff inbox, the customer portal and the REST API."""
    from .web import create_app
    settings = ctx.system.settings
    app = create_app(system=ctx.system)
    host, port = host or settings.host, port or settings.port
    console.print(f"bpmn-requests on http://{host}:{port}/  (customer portal: http://{host}:{port}/portal/)")
    with ctx.services.uow() as uow:
        staff = [u.username for u in uow.users.all() if not u.is_customer]
    if "alice" in staff:
        console.print("demo sign-ins (password 'demo'): " + ", ".join(staff))
    if not settings.secret_key:
        console.print("note: BPMN_REQUESTS_SECRET_KEY is empty, so sessions end when the server restarts")
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
