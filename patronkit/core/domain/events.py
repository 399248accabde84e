"""Domain events: what the model says happened, for sync/ to turn into outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from patronkit.core.domain.consent import (
    Channel,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    OptInLevel,
)


@dataclass(frozen=True)
class DomainEvent:
    merchant_id: UUID


@dataclass(frozen=True)
class CustomerUpserted(DomainEvent):
    """A customer was created, or a profile field (email, phone, name) changed."""

    customer_id: UUID
    created: bool


@dataclass(frozen=True)
class ConsentChanged(DomainEvent):
    """The derived consent for one channel and purpose now means something else."""

    customer_id: UUID
    channel: Channel
    purpose: str
    state: ConsentState
    opt_in_level: OptInLevel
    occurred_at: datetime
    source: ConsentSource
    event_id: UUID

    @classmethod
    def of(cls, merchant_id: UUID, customer_id: UUID, status: ConsentStatus) -> ConsentChanged:
        return cls(
            merchant_id=merchant_id,
            customer_id=customer_id,
            channel=status.channel,
            purpose=status.purpose,
            state=status.state,
            opt_in_level=status.opt_in_level,
            occurred_at=status.occurred_at,
            source=status.source,
            event_id=status.decided_by,
        )


@dataclass(frozen=True)
class DuplicateSuspected(DomainEvent):
    customer_id: UUID
    other_customer_id: UUID
    reason: str


@dataclass(frozen=True)
class CustomersMerged(DomainEvent):
    survivor_id: UUID
    absorbed_id: UUID
    merge_id: UUID
