"""Opaque keyset cursors shared by the paginated lists (leads, conversations, messages).

A cursor is the sort key of the last row of a page, ``(timestamp, id)``, as URL-safe base64 of
JSON. Keyset pages stay stable under concurrent inserts: a new row sorts before the first page
(newest first), so it can neither shift a later page nor appear twice, which OFFSET pagination
cannot promise. The ``id`` tie-break makes the order total when timestamps collide.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass

from funnel.core.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Cursor:
    #: ``None`` when the sort column is NULL (conversations without a message sort last).
    at: dt.datetime | None
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat() if self.at else None, str(self.id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            at, id_ = json.loads(base64.urlsafe_b64decode(padded.encode()))
            moment = dt.datetime.fromisoformat(at) if at is not None else None
            if moment is not None and moment.tzinfo is None:
                raise ValueError("naive timestamp")
            return cls(at=moment, id=uuid.UUID(id_))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed("invalid cursor", details={"cursor": value[:100]}) from exc
