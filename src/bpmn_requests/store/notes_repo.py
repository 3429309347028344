"""Notes and attachments of requests (file contents live in the upload folder, not the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..domain.errors import NotFound
from ..domain.notes import Attachment, Note
from .tables import attachments, request_notes


class SqlNotes:
    def __init__(self, session: Session):
        self.session = session

    def add(self, reference: str, author: str, visibility: str, body: str, at: datetime) -> Note:
        note_id = self.session.execute(insert(request_notes).values(
            request_reference=reference, author=author, visibility=visibility, body=body, created_at=at)
            .returning(request_notes.c.id)).scalar_one()
        return Note(int(note_id), reference, author, visibility, body, at)

    def for_request(self, reference: str) -> list[Note]:
        rows = self.session.execute(select(request_notes).where(request_notes.c.request_reference == reference)
                                    .order_by(request_notes.c.created_at, request_notes.c.id)).all()
        return [Note(r.id, r.request_reference, r.author, r.visibility, r.body, r.created_at) for r in rows]


def _attachment(row: Any) -> Attachment:
    return Attachment(row.id, row.request_reference, row.filename, row.content_type, row.size, row.sha256,
                      row.uploaded_by, row.visibility, row.created_at)


class SqlAttachments:
    def __init__(self, session: Session):
        self.session = session

    def add(self, attachment: Attachment) -> None:
        self.session.execute(insert(attachments).values(**attachment.__dict__))

    def get(self, attachment_id: str) -> Attachment:
        row = self.session.execute(select(attachments).where(attachments.c.id == attachment_id)).first()
        if row is None:
            raise NotFound(f"no attachment {attachment_id}")
        return _attachment(row)

    def for_request(self, reference: str) -> list[Attachment]:
        rows = self.session.execute(select(attachments).where(attachments.c.request_reference == reference)
                                    .order_by(attachments.c.created_at, attachments.c.id)).all()
        return [_attachment(r) for r in rows]
