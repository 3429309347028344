"""Delivery of the customer outbox by SMTP: a real SMTP server on 127.0.0.1 (aiosmtpd, in a thread),
the real system on SQLite and PostgreSQL, and the `outbox` commands."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from bpmn_requests.cli import main
from bpmn_requests.config import PREFIX
from bpmn_requests.domain.ports import OutboxMessage
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.outbox import MAX_ATTEMPTS, MailError, deliver_outbox, outbox_messages
from bpmn_requests.usecases.seed_cases import SEED_CASES, run_seed_case
from bpmn_requests.worker.mail import SmtpSender

SENDER = "requests@example.com"


@dataclass
class Inbox:
    """aiosmtpd handler: keeps every message the server accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


def free_port() -> int:
    """A port nothing listens on (bound and released at once): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, inbox)
    finally:
        controller.stop()


def finished_case(system: Any, number: int = 1) -> tuple[str, list[OutboxMessage]]:
    """Run a seed case to its end; its reference and the messages it queued."""
    result = run_seed_case(SEED_CASES[number - 1], system.services)
    assert result.status == "closed"
    with system.services.uow() as uow:
        queued = uow.outbox.for_request(result.reference)
    assert queued, "the seed case queued no customer message"
    return result.reference, queued


def deliver(system: Any, server: SmtpServer | None = None, port: int | None = None) -> Any:
    host, port = ("127.0.0.1", port) if server is None else (server.host, server.port)
    assert port is not None
    with SmtpSender(host, port, SENDER, timeout=5) as sender:
        return deliver_outbox(system.services, sender)


def test_messages_of_a_finished_seed_case_are_delivered_once(system: Any, smtp_server: SmtpServer) -> None:
    reference, queued = finished_case(system)

    report = deliver(system, smtp_server)

    assert report.sent == len(queued) and report.retry == report.given_up == 0
    received = smtp_server.inbox.messages
    assert sorted(m["Subject"] for m in received) == sorted(q.subject for q in queued)
    assert all(m["From"] == SENDER and m["To"] == "ap@northwind.example" for m in received)
    assert all(m["X-Request-Reference"] == reference for m in received)
    assert smtp_server.inbox.recipients == [["ap@northwind.example"]] * len(queued)
    assert len({m["Message-ID"] for m in received}) == len(queued)
    bodies = {m["Subject"]: m.get_content().splitlines() for m in received}
    assert all(bodies[q.subject] == q.body.splitlines() for q in queued)
    assert outbox_messages(system.services, unsent_only=True) == []
    assert all(q.sent_at is not None and q.attempts == 0 for q in outbox_messages(system.services))

    again = deliver(system, smtp_server)

    assert again.deliveries == [] and len(smtp_server.inbox.messages) == len(queued)
    with system.services.uow() as uow:
        events = [e.action for e in uow.audit.for_subject(reference)]
    assert events.count("message.sent") == len(queued)
    assert verify_audit(system.services).ok


def test_unreachable_server_counts_attempts_keeps_messages_and_gives_up_after_five(
        system: Any, smtp_server: SmtpServer) -> None:
    _, queued = finished_case(system)
    closed = free_port()

    first = deliver(system, port=closed)

    assert first.sent == 0 and first.retry == len(queued)
    pending = outbox_messages(system.services, unsent_only=True)
    assert [(q.attempts, q.sent_at) for q in pending] == [(1, None)] * len(queued)
    assert all(q.last_error and f"127.0.0.1:{closed}" in q.last_error for q in pending)
    assert all("refused" in (q.last_error or "").lower() for q in pending)

    for _ in range(MAX_ATTEMPTS - 2):
        assert deliver(system, port=closed).retry == len(queued)
    last = deliver(system, port=closed)

    assert last.given_up == len(queued) and last.retry == 0
    assert all(q.given_up and q.attempts == MAX_ATTEMPTS for q in outbox_messages(system.services, unsent_only=True))
    # Given up means left alone, even once the server is back.
    assert deliver(system, smtp_server).deliveries == []
    assert smtp_server.inbox.messages == []
    assert verify_audit(system.services).ok


def test_a_message_fails_then_goes_out_on_the_next_run(sqlite_system: Any, smtp_server: SmtpServer) -> None:
    _, queued = finished_case(sqlite_system)
    assert deliver(sqlite_system, port=free_port()).retry == len(queued)

    report = deliver(sqlite_system, smtp_server)

    assert report.sent == len(queued) and len(smtp_server.inbox.messages) == len(queued)
    sent = outbox_messages(sqlite_system.services)
    assert all(q.sent_at is not None and q.attempts == 1 for q in sent)


class CrashAfterSend:
    """Hands the message to the server, then the process "dies" before the outbox is marked."""

    def __init__(self, sender: SmtpSender):
        self.sender = sender

    def send(self, message: OutboxMessage) -> None:
        self.sender.send(message)
        raise KeyboardInterrupt("killed between send and commit")


def test_a_crash_between_send_and_commit_resends_only_that_message(sqlite_system: Any,
                                                                   smtp_server: SmtpServer) -> None:
    _, queued = finished_case(sqlite_system)
    with SmtpSender(smtp_server.host, smtp_server.port, SENDER) as sender, pytest.raises(KeyboardInterrupt):
        deliver_outbox(sqlite_system.services, CrashAfterSend(sender))
    assert len(smtp_server.inbox.messages) == 1
    assert len(outbox_messages(sqlite_system.services, unsent_only=True)) == len(queued)

    report = deliver(sqlite_system, smtp_server)

    # At least once: the message that went out before the crash goes out again, with the same Message-ID.
    assert report.sent == len(queued)
    ids = [m["Message-ID"] for m in smtp_server.inbox.messages]
    assert len(ids) == len(queued) + 1 and len(set(ids)) == len(queued)


class RefusingSender:
    def send(self, message: OutboxMessage) -> None:
        raise MailError("550 mailbox unavailable")


def test_failures_are_audited_with_the_servers_answer(sqlite_system: Any) -> None:
    reference, queued = finished_case(sqlite_system)

    report = deliver_outbox(sqlite_system.services, RefusingSender())

    assert [d.error for d in report.deliveries] == ["550 mailbox unavailable"] * len(queued)
    with sqlite_system.services.uow() as uow:
        failed = [e.after for e in uow.audit.for_subject(reference) if e.action == "message.failed"]
    assert [(f["attempts"], f["given_up"]) for f in failed if f] == [(1, False)] * len(queued)


def cli_env(system: Any, **settings: str) -> dict[str, str | None]:
    """Only the settings given (and the test database): unset every other BPMN_REQUESTS_ variable."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith(PREFIX)}
    env[f"{PREFIX}DATABASE_URL"] = system.settings.database_url
    env.update({f"{PREFIX}{name.upper()}": value for name, value in settings.items()})
    return env


def test_cli_outbox_deliver_sends_through_the_local_server(sqlite_system: Any, smtp_server: SmtpServer) -> None:
    _, queued = finished_case(sqlite_system)
    env = cli_env(sqlite_system, smtp_host=smtp_server.host, smtp_port=str(smtp_server.port), smtp_sender=SENDER)
    runner = CliRunner()

    result = runner.invoke(main, ["outbox", "deliver"], env=env)

    assert result.exit_code == 0, result.output
    assert f"{len(queued)} sent, 0 to retry, 0 given up" in result.output
    assert len(smtp_server.inbox.messages) == len(queued)
    unsent = runner.invoke(main, ["--json", "outbox", "list", "--unsent"], env=env)
    assert unsent.exit_code == 0 and json.loads(unsent.stdout) == []
    listed = runner.invoke(main, ["--json", "outbox", "list"], env=env)
    assert listed.exit_code == 0
    assert [m["sent_at"] is not None for m in json.loads(listed.stdout)] == [True] * len(queued)
    assert runner.invoke(main, ["outbox", "list"], env=env).exit_code == 0
    again = runner.invoke(main, ["outbox", "deliver"], env=env)
    assert again.exit_code == 0 and "0 sent" in again.output
    assert len(smtp_server.inbox.messages) == len(queued)


def test_cli_outbox_deliver_reports_failures_with_a_non_zero_exit(sqlite_system: Any) -> None:
    _, queued = finished_case(sqlite_system)
    env = cli_env(sqlite_system, smtp_host="127.0.0.1", smtp_port=str(free_port()))

    result = CliRunner().invoke(main, ["outbox", "deliver"], env=env)

    assert result.exit_code == 1
    assert f"0 sent, {len(queued)} to retry" in result.output
    listed = CliRunner().invoke(main, ["--json", "outbox", "list", "--unsent"], env=env)
    assert [m["attempts"] for m in json.loads(listed.stdout)] == [1] * len(queued)


def test_cli_outbox_deliver_refuses_without_an_smtp_host(sqlite_system: Any) -> None:
    _, queued = finished_case(sqlite_system)

    result = CliRunner().invoke(main, ["outbox", "deliver"], env=cli_env(sqlite_system, smtp_host=""))

    assert result.exit_code == 1
    assert f"{PREFIX}SMTP_HOST is empty" in result.output
    pending = outbox_messages(sqlite_system.services, unsent_only=True)
    assert [q.attempts for q in pending] == [0] * len(queued)
