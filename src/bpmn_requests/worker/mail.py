"""The SMTP adapter of the outbox: turns an OutboxMessage into a plain-text mail and hands it to a server.

One connection serves a whole delivery run (`with SmtpSender(...) as sender:`); after any failure the
connection is dropped and the next message opens a fresh one. Every network step has a timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ..domain.ports import OutboxMessage
from ..usecases.outbox import MailError

DEFAULT_TIMEOUT = 15.0  # seconds, for connecting and for each SMTP command


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for every send of one outbox message, so a resent duplicate is recognisable."""
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}.outbox@{domain}>"


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    if not message.to:
        raise MailError("no recipient address: the customer has no e-mail on file")
    email = EmailMessage()
    try:
        email["From"] = sender
        email["To"] = message.to
        email["Subject"] = message.subject
    except ValueError as exc:  # a header with a line break: never send it
        raise MailError(f"malformed header: {exc}") from None
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message.key, sender)
    email["X-Request-Reference"] = message.request_reference
    email.set_content(message.body)
    return email


def describe(exc: BaseException) -> str:
    """A one-line reason for last_error: the server's code and text when it answered."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _text(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


class SmtpSender:
    """MailSender over SMTP (smtplib); no authentication or TLS: a relay on the local network."""

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = DEFAULT_TIMEOUT):
        if not host:
            raise ValueError("SmtpSender needs a host")
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def send(self, message: OutboxMessage) -> None:
        email = build_email(message, self.sender)
        reused = self._smtp is not None
        try:
            self._send(email)
        except smtplib.SMTPServerDisconnected as exc:
            # A server may close a connection left idle between two messages: reconnect once.
            if not reused:
                raise MailError(f"{self.host}:{self.port}: {describe(exc)}") from exc
            try:
                self._send(email)
            except (smtplib.SMTPException, OSError) as again:
                raise MailError(f"{self.host}:{self.port}: {describe(again)}") from again
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{self.host}:{self.port}: {describe(exc)}") from exc

    def _send(self, email: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            self._smtp.send_message(email)
        except BaseException:
            self._drop()
            raise

    def close(self) -> None:
        """Say goodbye to the server; the messages it accepted are delivered whatever it answers."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
