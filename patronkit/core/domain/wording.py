"""Consent wording: the exact text a person saw, versioned, so every event can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from patronkit.core.domain.consent import DEFAULT_PURPOSE, Channel, sha256_hex
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import require_aware, require_slug, utcnow

_MAX_TEXT = 10_000


def _normalize_locale(value: str) -> str:
    parts = (value or "").replace("_", "-").split("-")
    if not parts[0].isalpha() or not 2 <= len(parts[0]) <= 3 or len(parts) > 2:
        raise InvalidValue(f"not a locale: {value!r} (use e.g. 'en' or 'en-GB')")
    return parts[0].lower() + (f"-{parts[1].upper()}" if len(parts) == 2 else "")


@dataclass(eq=False)
class ConsentWording:
    """One version of the wording for a channel, purpose and locale. Never edited: a change is
    a new version. `material` marks a change big enough that earlier consents should be asked
    again."""

    merchant_id: UUID
    channel: Channel
    locale: str
    version: int
    text: str
    purpose: str = DEFAULT_PURPOSE
    material: bool = False
    created_at: datetime = field(default_factory=utcnow)
    sha256: str = ""
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.channel = Channel.parse(self.channel)
        self.purpose = require_slug(self.purpose, "purpose")
        self.locale = _normalize_locale(self.locale)
        if not isinstance(self.version, int) or self.version < 1:
            raise InvalidValue("wording versions start at 1")
        if not self.text or not self.text.strip() or len(self.text) > _MAX_TEXT:
            raise InvalidValue(f"wording text must be 1 to {_MAX_TEXT} characters")
        self.created_at = require_aware(self.created_at, "created_at")
        self.sha256 = sha256_hex(self.text)

    def next_version(
        self, text: str, *, material: bool, now: datetime | None = None
    ) -> ConsentWording:
        return ConsentWording(
            merchant_id=self.merchant_id,
            channel=self.channel,
            purpose=self.purpose,
            locale=self.locale,
            version=self.version + 1,
            text=text,
            material=material,
            created_at=now or utcnow(),
        )
