"""Command-line group for the customer outbox: deliver queued messages by SMTP, list them."""

from __future__ import annotations

import sys
from typing import Any

import click

from .cli_common import Context, command
from .cli_output import console, emit_json, table
from .config import PREFIX, SettingsError


@click.group("outbox")
def outbox() -> None:
    """Customer messages queued by the processes: deliver them, list them."""


def _state(item: Any) -> str:
    if item.sent_at is not None:
        return f"sent {item.sent_at:%Y-%m-%d %H:%M}"
    if item.given_up:
        return f"gave up after {item.attempts} attempts"
    return f"unsent, {item.attempts} failed attempt(s)" if item.attempts else "unsent"


@outbox.command("deliver")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1),
              help="at most this many messages, oldest first")
@command
def deliver(ctx: Context, limit: int) -> None:
    """Send unsent messages through the SMTP server of BPMN_REQUESTS_SMTP_HOST.

    Exits non-zero when a message failed (it stays queued; after 5 failed attempts it is given up).
    """
    from .usecases.outbox import deliver_outbox
    from .worker.mail import SmtpSender
    settings = ctx.system.settings
    if not settings.smtp_host:
        raise SettingsError(f"{PREFIX}SMTP_HOST is empty: set it to the SMTP server to deliver customer "
                            f"messages (until then they stay queued in the outbox)")
    with SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_sender) as sender:
        report = deliver_outbox(ctx.services, sender, limit=limit)
    if ctx.json:
        emit_json({"sent": report.sent, "retry": report.retry, "given_up": report.given_up,
                   "deliveries": [d.__dict__ for d in report.deliveries]})
    else:
        for d in report.deliveries:
            if d.outcome != "sent":
                console.print(f"{d.key} ({d.to or 'no address'}): {d.outcome.replace('_', ' ')} after "
                              f"{d.attempts} attempt(s): {d.error or 'marked sent by another run'}", markup=False)
        console.print(f"{report.sent} sent, {report.retry} to retry, {report.given_up} given up "
                      f"(via {settings.smtp_host}:{settings.smtp_port})")
    if report.retry or report.given_up:
        sys.exit(1)


@outbox.command("list")
@click.option("--unsent", is_flag=True, help="only messages not sent yet (oldest first)")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@command
def list_messages(ctx: Context, unsent: bool, limit: int) -> None:
    """Messages with their delivery state, newest first."""
    from .usecases.outbox import outbox_messages
    items = outbox_messages(ctx.services, unsent_only=unsent, limit=limit)
    if ctx.json:
        emit_json([{"key": q.message.key, "request": q.message.request_reference, "to": q.message.to,
                    "template": q.message.template, "subject": q.message.subject,
                    "created_at": q.message.created_at, "sent_at": q.sent_at, "attempts": q.attempts,
                    "last_error": q.last_error, "given_up": q.given_up} for q in items])
        return
    table("Outbox (unsent)" if unsent else "Outbox", ["request", "to", "template", "created", "state", "last error"],
          [[q.message.request_reference, q.message.to or "", q.message.template,
            q.message.created_at.strftime("%Y-%m-%d %H:%M"), _state(q), q.last_error or ""] for q in items])
