"""Work notes (internal), customer-visible comments and attachments of a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

VISIBILITIES = ("internal", "customer")

# What may be attached: content types with the leading bytes that prove them (never trust the name).
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),
    "text/csv": (),
}
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".txt": "text/plain", ".csv": "text/csv"}


@dataclass(frozen=True)
class Note:
    id: int
    request_reference: str
    author: str
    visibility: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Attachment:
    id: str
    request_reference: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    visibility: str
    created_at: datetime
