"""`bpmn-requests worker` and `bpmn-requests scheduler`: the processes that do due work beside the web.

Workers run steps handed to them through the broker (Celery on Redis); the scheduler sweeps: it hands due
work to the workers and hands it out again when a worker did not finish it in time. Run any number of
workers on any number of machines, and one scheduler or more (one sweeps, the others stand by).
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from typing import Any

import click

from .cli_common import Context, command
from .cli_output import console, emit_json
from .config import PREFIX, Settings, SettingsError


@contextlib.contextmanager
def stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM and SIGINT call `stop` (the current step finishes) instead of killing the process at once."""
    def handler(signum: int, _frame: Any) -> None:
        logging.getLogger("bpmn_requests.sweep").info(
            "%s received: stopping after the current step", signal.Signals(signum).name)
        stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="processes in this worker (default: BPMN_REQUESTS_WORKER_CONCURRENCY; 1 runs one solo process)")
@command
def worker(ctx: Context, concurrency: int | None) -> None:
    """Run steps handed out through the broker (Celery on BPMN_REQUESTS_BROKER_URL) until SIGTERM."""
    settings = Settings.from_env()
    if not settings.broker_url:
        raise SettingsError(f"{PREFIX}BROKER_URL is empty: a worker takes its work from a broker "
                            f"(redis://host:6379/0); without one, `bpmn-requests serve` or "
                            f"`bpmn-requests scheduler` runs due work itself")
    from .worker.celery_app import make_celery, worker_argv
    make_celery(settings).worker_main(worker_argv(settings, concurrency))


@click.command("scheduler")
@click.option("--once", is_flag=True, help="sweep once, then exit (for cron, or to catch up by hand)")
@command
def scheduler(ctx: Context, once: bool) -> None:
    """Sweep for due work until SIGTERM: hand it to the workers (with a broker) or run it here (without)."""
    from .worker.logs import configure_logging
    from .worker.sweep import build_sweeper
    system = ctx.system
    settings = system.settings
    configure_logging(settings.log_level)
    log = logging.getLogger("bpmn_requests.sweep")
    sweeper = build_sweeper(system)
    mode = "hands due work to the workers" if settings.broker_url else "runs due work itself (no broker)"
    try:
        if once:
            _sweep_once(ctx, sweeper, bool(settings.broker_url))
            return
        log.info("scheduler started: %s, sweeping every %s s", mode, settings.sweep_seconds)
        with stopping_on_signals(sweeper.stop):
            sweeper.run()
        log.info("scheduler stopped")
    finally:
        system.dispose()


def _sweep_once(ctx: Context, sweeper: Any, with_broker: bool) -> None:
    """One round under the sweep lock (skipped when a running scheduler holds it)."""
    if not sweeper.lock.acquire():
        message = "another scheduler is sweeping this database: nothing done"
        emit_json({"swept": False, "reason": message}) if ctx.json else console.print(message)
        return
    try:
        done = sweeper.run_round()
    finally:
        sweeper.lock.release()
    if ctx.json:
        emit_json({"swept": True, "expired_messages": done.expired, "instances": done.handled,
                   "handed_to_workers": with_broker})
        return
    verb = "handed to workers" if with_broker else "advanced"
    console.print(f"swept once: {done.handled} due instance(s) {verb}, {done.expired} message(s) expired")
