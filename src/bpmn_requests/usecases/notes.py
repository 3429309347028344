"""Notes, comments and attachments on a request. Files are stored under the upload folder by id.

The file is written before the transaction commits; if the commit fails the file is an orphan that no
row points to (harmless; never the other way round: a row always has its file).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import Forbidden, NotFound, ValidationFailed
from ..domain.notes import ALLOWED_TYPES, EXTENSIONS, VISIBILITIES, Attachment, Note
from ..domain.users import User
from .context import Services

MAX_NOTE = 4000
SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    declared_type: str | None = None


def _actor_may_see(actor: User, reference: str, customer_id: str) -> None:
    if actor.is_customer and actor.username != f"customer:{customer_id}":
        raise Forbidden(f"request {reference} is not yours")


def add_note(reference: str, actor: User, body: str, visibility: str, services: Services) -> Note:
    """A work note (internal) or a comment the customer sees. Customers can only write comments."""
    text = (body or "").strip()
    if not text:
        raise ValidationFailed("the note is empty", field="body")
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"the note is longer than {MAX_NOTE} characters", field="body")
    if visibility not in VISIBILITIES:
        raise ValidationFailed(f"visibility must be one of {', '.join(VISIBILITIES)}", field="visibility")
    if actor.is_customer and visibility != "customer":
        raise Forbidden("customers write comments, not internal notes")
    with services.uow() as uow:
        record = uow.requests.get(reference)
        _actor_may_see(actor, reference, record.customer_id)
        note = uow.notes.add(reference, actor.username, visibility, text, services.clock.now())
        uow.audit.record(actor.username, f"note.{visibility}", reference, None, {"note": note.id})
        uow.commit()
    return note


def notes_of(reference: str, services: Services, *, customer_view: bool) -> list[Note]:
    with services.uow() as uow:
        uow.requests.get(reference)
        notes = uow.notes.for_request(reference)
    return [n for n in notes if n.visibility == "customer"] if customer_view else notes


def _content_type(upload: Upload) -> str:
    suffix = Path(upload.filename).suffix.lower()
    kind = EXTENSIONS.get(suffix)
    if kind is None:
        raise ValidationFailed(f"{upload.filename}: only {', '.join(sorted(EXTENSIONS))} files may be attached",
                               field="file")
    magic = ALLOWED_TYPES[kind]
    if magic and not upload.content.startswith(magic):
        raise ValidationFailed(f"{upload.filename}: the content is not a {kind} file", field="file")
    if not magic:
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed(f"{upload.filename}: a text file must be UTF-8", field="file") from None
    return kind


def check_upload(upload: Upload, max_bytes: int) -> str:
    """The content type of an acceptable file, or ValidationFailed (empty, too large, a type not allowed).

    Lets a caller refuse a whole submission before anything is written (the portal checks its evidence).
    """
    if not upload.content:
        raise ValidationFailed("the file is empty", field="file")
    if len(upload.content) > max_bytes:
        raise ValidationFailed(f"{upload.filename}: {len(upload.content)} bytes is more than the limit of "
                               f"{max_bytes} bytes", field="file")
    return _content_type(upload)


def add_attachment(reference: str, actor: User, upload: Upload, visibility: str, upload_dir: Path,
                   max_bytes: int, services: Services) -> Attachment:
    """Check name, size and content; store the file under a random id; record it with its hash."""
    if visibility not in VISIBILITIES or (actor.is_customer and visibility != "customer"):
        raise ValidationFailed("visibility must be internal or customer", field="visibility")
    kind = check_upload(upload, max_bytes)
    name = SAFE_NAME.sub("_", Path(upload.filename).name)[:200] or "attachment"
    with services.uow() as uow:
        record = uow.requests.get(reference)
        _actor_may_see(actor, reference, record.customer_id)
        attachment = Attachment(uuid.uuid4().hex, reference, name, kind, len(upload.content),
                                hashlib.sha256(upload.content).hexdigest(), actor.username, visibility,
                                services.clock.now())
        path = upload_dir / attachment.id[:2] / attachment.id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(upload.content)
        uow.attachments.add(attachment)
        uow.audit.record(actor.username, "attachment.added", reference, None,
                         {"id": attachment.id, "filename": name, "sha256": attachment.sha256})
        uow.commit()
    return attachment


def attachments_of(reference: str, services: Services, *, customer_view: bool) -> list[Attachment]:
    with services.uow() as uow:
        uow.requests.get(reference)
        found = uow.attachments.for_request(reference)
    return [a for a in found if a.visibility == "customer"] if customer_view else found


def open_attachment(attachment_id: str, actor: User, upload_dir: Path, services: Services) -> tuple[Attachment, bytes]:
    """The attachment and its bytes, for someone who may see the request; checks the stored hash."""
    with services.uow() as uow:
        attachment = uow.attachments.get(attachment_id)
        record = uow.requests.get(attachment.request_reference)
    _actor_may_see(actor, record.reference, record.customer_id)
    if actor.is_customer and attachment.visibility != "customer":
        raise NotFound(f"no attachment {attachment_id}")
    content = (upload_dir / attachment.id[:2] / attachment.id).read_bytes()
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        raise Forbidden(f"attachment {attachment_id} was changed on disk after upload")
    return attachment, content
