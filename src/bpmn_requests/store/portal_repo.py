"""SQL repositories of the customer portal: status links by token hash, one service rating per request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.errors import Conflict
from ..usecases.ports import PortalLink, ServiceRating
from .portal_tables import portal_links, service_ratings


class SqlPortalLinks:
    def __init__(self, session: Session):
        self.session = session

    def add(self, link: PortalLink) -> None:
        self.session.execute(insert(portal_links).values(**link.__dict__))

    def get(self, token_sha256: str) -> PortalLink | None:
        row = self.session.execute(select(portal_links).where(portal_links.c.token_sha256 == token_sha256)).first()
        return PortalLink(**row._mapping) if row is not None else None


def _rating(row: Any) -> ServiceRating:
    return ServiceRating(row.request_reference, row.score, row.comment, row.created_at)


class SqlServiceRatings:
    def __init__(self, session: Session):
        self.session = session

    def add(self, rating: ServiceRating) -> None:
        try:
            with self.session.begin_nested():  # a savepoint: the duplicate leaves the transaction usable
                self.session.execute(insert(service_ratings).values(**rating.__dict__))
        except IntegrityError:
            raise Conflict(f"request {rating.request_reference} has been rated already") from None

    def get(self, reference: str) -> ServiceRating | None:
        row = self.session.execute(select(service_ratings)
                                   .where(service_ratings.c.request_reference == reference)).first()
        return _rating(row) if row is not None else None
