"""Gap-free named counters (request numbers, posting numbers), safe under concurrent transactions."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .base import metadata

counters = Table(
    "counters", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)


def next_value(session: Session, name: str, start: int = 1, count: int = 1) -> int:
    """The next value of counter `name`, or the first of the next `count` values, all taken at once.

    The row lock is held until the caller's transaction ends.
    """
    row = session.execute(
        select(counters.c.value).where(counters.c.name == name).with_for_update()).first()
    if row is None:
        try:
            with session.begin_nested():
                session.execute(insert(counters).values(name=name, value=start + count - 1))
            return start
        except IntegrityError:  # another transaction created it first
            row = session.execute(
                select(counters.c.value).where(counters.c.name == name).with_for_update()).one()
    value = int(row[0]) + 1
    session.execute(update(counters).where(counters.c.name == name).values(value=value + count - 1))
    return value
