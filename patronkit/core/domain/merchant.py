"""Merchant (the tenant) and its connections to storefronts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.sealing import Sealer
from patronkit.core.domain.values import require_aware, require_slug, utcnow

_MAX_DOMAIN = 255


@dataclass(eq=False)
class Merchant:
    name: str
    created_at: datetime = field(default_factory=utcnow)
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name or len(self.name) > 255:
            raise InvalidValue("a merchant needs a name of 1 to 255 characters")
        self.created_at = require_aware(self.created_at, "created_at")


class ShopStatus(StrEnum):
    ACTIVE = "active"
    UNINSTALLED = "uninstalled"


@dataclass(eq=False)
class ShopConnection:
    """One storefront a merchant connected. `platform` is an adapter registry key.

    Credentials are held only sealed: the plaintext exists in memory while a call needs it.
    Cursors remember, per stream, how far import/reconcile have read (opaque to core).
    """

    merchant_id: UUID
    platform: str
    domain: str
    remote_shop_id: str | None = None
    api_url: str | None = None
    sealed_credentials: bytes | None = None
    cursors: dict[str, str] = field(default_factory=dict)
    status: ShopStatus = ShopStatus.ACTIVE
    installed_at: datetime = field(default_factory=utcnow)
    uninstalled_at: datetime | None = None
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.platform = require_slug(self.platform, "platform")
        self.domain = (self.domain or "").strip().lower().rstrip("/")
        if not self.domain or len(self.domain) > _MAX_DOMAIN or " " in self.domain:
            raise InvalidValue("a shop connection needs a domain")
        self.status = ShopStatus(self.status)
        self.installed_at = require_aware(self.installed_at, "installed_at")

    def store_credentials(self, sealer: Sealer, credentials: dict[str, Any]) -> None:
        self.sealed_credentials = sealer.seal(json.dumps(credentials, sort_keys=True).encode())

    def credentials(self, sealer: Sealer) -> dict[str, Any]:
        if self.sealed_credentials is None:
            raise InvalidValue("this shop connection has no credentials")
        loaded: dict[str, Any] = json.loads(sealer.open(self.sealed_credentials))
        return loaded

    def advance_cursor(self, stream: str, value: str) -> None:
        # A copy, so the ORM sees a new value rather than an in-place mutation.
        self.cursors = {**self.cursors, stream: value}

    def mark_installed(self, now: datetime) -> None:
        self.status = ShopStatus.ACTIVE
        self.installed_at = require_aware(now, "now")
        self.uninstalled_at = None

    def mark_uninstalled(self, now: datetime) -> None:
        self.status = ShopStatus.UNINSTALLED
        self.uninstalled_at = require_aware(now, "now")
        # Tokens are void once the app is removed; keep nothing we cannot use.
        self.sealed_credentials = None

    @property
    def active(self) -> bool:
        return self.status is ShopStatus.ACTIVE
