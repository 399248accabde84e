"""Privacy requests (erasure, data access) and what was done about them.

The record itself holds no personal data: it names the customer by id and says what changed,
so it can be kept as proof after the person's data is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from patronkit.core.domain.values import require_aware, utcnow


class PrivacyRequestKind(StrEnum):
    REDACT_CUSTOMER = "redact_customer"
    REDACT_SHOP = "redact_shop"
    DATA_REQUEST = "data_request"


@dataclass(eq=False)
class PrivacyRequest:
    merchant_id: UUID
    kind: PrivacyRequestKind
    received_at: datetime
    shop_id: UUID | None = None
    customer_id: UUID | None = None
    reference: str | None = None  # the requester's own id for it (a store's request id)
    completed_at: datetime | None = None  # None: open, for a person to act on
    outcome: dict[str, Any] = field(default_factory=dict)  # counts and ids, never PII
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.kind = PrivacyRequestKind(self.kind)
        self.received_at = require_aware(self.received_at, "received_at")

    def complete(self, now: datetime | None = None, **outcome: Any) -> None:
        self.completed_at = require_aware(now or utcnow(), "now")
        self.outcome = {**self.outcome, **outcome}
