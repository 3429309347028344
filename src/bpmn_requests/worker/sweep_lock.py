"""Who may sweep: one process at a time per database, the others stand by and take over when it stops.

Dispatching and running due work are safe from any number of processes (row locks), but delivering the
outbox is not (two deliveries could both send a message before either marks it sent), and one sweeper is
enough. On PostgreSQL a session-level advisory lock, held on a connection of its own, decides; it is
released when the process ends or its connection drops, however it ends. On a SQLite file an exclusive
`flock` on a file beside the database does the same for the processes of one machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Engine, text

log = logging.getLogger("bpmn_requests.sweep")

# First key of the two-key advisory lock ("bpmn" in ASCII); the second is the schema's hash, so two
# installations in two schemas of one database each have their own sweeper.
LOCK_CLASS = 0x62706D6E


class SweepLock(Protocol):
    def acquire(self) -> bool:
        """True while this process holds the lock; asked before every round, so a lost lock is noticed."""
        ...

    def release(self) -> None:
        ...


class NoLock:
    """Every process sweeps (an in-memory database, tests)."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated autocommit connection, checked alive on every round."""

    def __init__(self, db: Engine):
        self._db = db
        self._conn: Any = None

    def acquire(self) -> bool:
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))  # still connected, so still holding the lock
                return True
            conn = self._db.connect().execution_options(isolation_level="AUTOCOMMIT")
            held = conn.execute(text("SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))"),
                                {"cls": LOCK_CLASS}).scalar()
        except Exception as exc:  # noqa: BLE001 - the database is away: not holding, try again next round
            log.warning("sweep lock: %s", f"{type(exc).__name__}: {exc}".splitlines()[0])
            self._drop()
            return False
        if held:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:cls, hashtext(current_schema()))"),
                                   {"cls": LOCK_CLASS})
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


class FileLock:
    """An exclusive, non-blocking flock on `path` (the kernel releases it when the process ends)."""

    def __init__(self, path: Path):
        self._path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def lock_for(db: Engine) -> SweepLock:
    """The lock that fits the database: advisory on PostgreSQL, a file beside a SQLite file."""
    if db.dialect.name == "postgresql":
        return AdvisoryLock(db)
    database = db.url.database
    if db.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(Path(f"{database}.sweep-lock"))
    return NoLock()
