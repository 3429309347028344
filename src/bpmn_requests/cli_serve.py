"""`bpmn-requests serve`: the web app on the embedded server (gunicorn serves it in production).

With no broker configured (the embedded default) it also sweeps for due work in a background thread
(timers, retries, asynchronous tasks), woken at once when a request makes work due. With a broker the
workers do that work and `serve` only announces it to them; `bpmn-requests scheduler` sweeps.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

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
    stop_sweep = _start_due_work(ctx)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_sweep()


def _interrupt(_signum: int, _frame: Any) -> None:
    """SIGTERM ends the server like Ctrl-C does, so the sweep thread is stopped cleanly."""
    raise KeyboardInterrupt


def _start_due_work(ctx: Context) -> Any:
    """Announce due work to the broker, or sweep in a thread; returns what stops it."""
    from .bootstrap import broker_sender
    settings = ctx.system.settings
    sender = broker_sender(settings)
    if sender is not None:
        ctx.services.on_due = sender
        console.print("due work goes to the workers through the broker (run `bpmn-requests worker` and "
                      "`bpmn-requests scheduler`)")
        return lambda: None
    from .worker.logs import configure_logging
    from .worker.sweep import build_sweeper
    configure_logging(settings.log_level)
    sweeper = build_sweeper(ctx.system)
    ctx.services.on_due = sweeper.wake
    thread = threading.Thread(target=sweeper.run, name="sweep", daemon=True)
    thread.start()
    console.print("due work (timers, retries, asynchronous tasks) runs in this process: no broker configured")

    def stop() -> None:
        sweeper.stop()
        thread.join(timeout=60)

    return stop
