"""Settings: every environment variable, its default, validated at start-up.

Each setting is read from `BPMN_REQUESTS_<NAME>`. An unknown `BPMN_REQUESTS_` variable is an error,
so a typo never silently falls back to a default. `.env.example` lists them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain.calendar import BusinessCalendar, parse_days, parse_holidays, parse_hours

PREFIX = "BPMN_REQUESTS_"


class SettingsError(ValueError):
    pass


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a boolean (true/false)")


def _url(text: str) -> str:
    if not text.startswith(("sqlite://", "postgresql", "postgres://")):
        raise ValueError(f"{text!r} is not a sqlite:// or postgresql:// URL")
    return text.replace("postgres://", "postgresql+psycopg://", 1).replace(
        "postgresql://", "postgresql+psycopg://", 1)


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"{value} is not between 0 and 1")
    return value


def _score(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100:
        raise ValueError(f"{value} is not a score between 0 and 100")
    return value


def _hours_text(text: str) -> str:
    parse_hours(text)
    return text


def _days_text(text: str) -> str:
    parse_days(text)
    return text


def _holidays_text(text: str) -> str:
    parse_holidays(text)
    return text


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not a time zone name like Europe/Berlin") from None
    return text


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(f"{value} is not a positive number")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{value} is negative")
    return value


def _percent(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 99:
        raise ValueError(f"{value} is not a percentage between 1 and 99")
    return value


def _duration_text(text: str) -> str:
    from .domain.retries import parse_duration
    parse_duration(text)
    return text.strip()


def _broker(text: str) -> str:
    if text and not text.startswith(("redis://", "rediss://", "amqp://")):
        raise ValueError(f"{text!r} is not a redis:// (or amqp://) broker URL")
    return text


def _http_url(text: str) -> str:
    if text and not text.startswith(("http://", "https://")):
        raise ValueError(f"{text!r} is not an http:// or https:// URL")
    return text.rstrip("/")


def _setting(default: Any, parse: Callable[[str], Any], help: str) -> Any:
    return field(default=default, metadata={"parse": parse, "help": help})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting("sqlite:///instance/bpmn-requests.db", _url,
                                 "SQLAlchemy URL: sqlite:///path or postgresql://user@host/db")
    processes_dir: Path = _setting(Path("processes"), Path, "diagrams and decision tables to deploy")
    forms_dir: Path = _setting(Path("forms"), Path, "Camunda Forms to deploy")
    sanctions_dir: Path = _setting(Path("data/sanctions"), Path,
                                   "folder with OFAC SDN list files sdn.csv and alt.csv (published CSV format)")
    sanctions_threshold: float = _setting(88.0, _score, "sanctions candidates scoring at least this are reported")
    sanctions_block_threshold: float = _setting(99.0, _score, "exact sanctions matches at least this block")
    payment_auto_apply_confidence: float = _setting(0.9, _probability,
                                                    "payment matches at least this confident apply automatically")
    write_off_tolerance: Decimal = _setting(Decimal("250.00"), _decimal,
                                            "small balances up to this are written off without review")
    smtp_host: str = _setting("", str, "SMTP server for customer messages; empty keeps them in the outbox")
    smtp_port: int = _setting(25, int, "SMTP port")
    smtp_sender: str = _setting("requests@example.com", str, "From address of customer messages")
    log_level: str = _setting("INFO", str, "DEBUG, INFO, WARNING or ERROR")
    secret_key: str = _setting("", str, "signs sessions and CSRF tokens; set a long random value in production "
                                        "(empty: a random key per start, sessions end on restart)")
    session_minutes: int = _setting(60, int, "idle minutes before a signed-in session expires")
    cookie_secure: bool = _setting(False, _bool, "send cookies over HTTPS only (true behind TLS)")
    upload_dir: Path = _setting(Path("instance/uploads"), Path, "where attachments are stored")
    max_upload_bytes: int = _setting(10 * 1024 * 1024, int, "largest attachment accepted, in bytes")
    business_hours: str = _setting("09:00-17:00", _hours_text, "working hours SLA targets count, local time")
    working_days: str = _setting("mon-fri", _days_text, "working days SLA targets count (mon-fri, or mon,tue,...)")
    holidays: str = _setting("", _holidays_text, "ISO dates that are not working days, comma-separated")
    timezone: str = _setting("UTC", _zone, "time zone of the business calendar (IANA name)")
    host: str = _setting("127.0.0.1", str, "address `bpmn-requests serve` listens on")
    port: int = _setting(5000, int, "port `bpmn-requests serve` listens on")
    broker_url: str = _setting("", _broker, "Celery broker for workers (redis://host:6379/0); empty: `serve` "
                                            "runs due work (timers, retries, asynchronous tasks) itself")
    sweep_seconds: float = _setting(1.0, _positive, "how often the scheduler (or serve) looks for due work")
    redispatch_seconds: float = _setting(30.0, _positive,
                                         "due work handed to a worker and not done after this is handed out again")
    worker_concurrency: int = _setting(1, int, "processes one `bpmn-requests worker` runs (scale with more "
                                               "workers on more machines)")
    service_retries: int = _setting(3, _count, "retries of a service task failing with a transient error, "
                                               "unless its diagram says otherwise")
    retry_backoff_seconds: float = _setting(10.0, _positive, "wait before the first retry; each next one doubles")
    retry_backoff_max_seconds: float = _setting(3600.0, _positive, "longest wait between two retries")
    message_ttl_seconds: int = _setting(86400, _count, "how long a message nobody waits for yet is kept (unless "
                                                       "the sender gives ttl_seconds)")
    message_ttl_max_seconds: int = _setting(30 * 86400, _count, "the longest time to live a sender may ask for")
    rfi_answer_period: str = _setting("P14D", _duration_text, "ISO 8601 duration a customer has to answer a "
                                                              "request for information before it is closed")
    sla_reminder_percent: int = _setting(75, _percent, "share of the SLA target used when the assignee is reminded")
    credit_bureau_url: str = _setting("", _http_url, "credit bureau the credit score asks (empty: the "
                                                     "internal model only)")
    credit_bureau_timeout_seconds: float = _setting(5.0, _positive, "timeout of one credit bureau call")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read and check every setting; refuse unknown or malformed ones naming the variable."""
        env = os.environ if environ is None else environ
        known = {f.name.upper(): f for f in fields(cls)}
        unknown = sorted(k for k in env if k.startswith(PREFIX) and k[len(PREFIX):] not in known)
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]} (known: {', '.join(PREFIX + k for k in known)})")
        values: dict[str, Any] = {}
        for name, spec in known.items():
            raw = env.get(PREFIX + name)
            if raw is None:
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError as exc:
                raise SettingsError(f"{PREFIX}{name}: {exc}") from None
        values.update(overrides)
        settings = cls(**values)
        if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(f"{PREFIX}LOG_LEVEL: {settings.log_level!r} is not a log level")
        return settings

    def calendar(self) -> BusinessCalendar:
        opens, closes = parse_hours(self.business_hours)
        return BusinessCalendar(parse_days(self.working_days), opens, closes, parse_holidays(self.holidays),
                                self.timezone)

    @classmethod
    def documented(cls) -> list[tuple[str, str, str]]:
        """(variable, default, help) for every setting: the source of .env.example."""
        return [(PREFIX + f.name.upper(), str(f.default), f.metadata["help"]) for f in fields(cls)]
