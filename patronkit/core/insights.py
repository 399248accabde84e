"""Consent insights: the read model behind the admin dashboard and the wording pages.

Counts are computed by the database (see core/store/insights.py), never by loading every
customer, but they must mean exactly what `derive_current` means: a customer's state on a
(channel, purpose) is the event with the newest occurred_at, then the more restrictive
state, then the confirmed level, then the greatest id. Customers merged into another are
left out (their facts moved to the survivor); redacted customers are kept (their consent
facts are kept too).

Two rates over time, both in periods that end at `edges[1:]`:

- channel rate: at the end of each period, of the customers with any consent state on the
  channel, the share whose state then (derived from the events that had occurred by then)
  is subscribed;
- touchpoint rate: of the answers given at a touchpoint during each period (every event
  carrying that touchpoint), the share that asked to subscribe (subscribed, or pending a
  double opt-in confirmation).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from patronkit.core.domain.consent import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentState,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import require_aware

OPT_IN_ANSWERS = frozenset({ConsentState.SUBSCRIBED, ConsentState.PENDING})


@dataclass(frozen=True)
class StateCounts:
    """How many customers are in each state on one (channel, purpose), right now."""

    channel: Channel
    purpose: str
    subscribed: int = 0
    unsubscribed: int = 0
    pending: int = 0
    not_subscribed: int = 0

    @property
    def total(self) -> int:
        return self.subscribed + self.unsubscribed + self.pending + self.not_subscribed

    @property
    def rate(self) -> float | None:
        return self.subscribed / self.total if self.total else None


@dataclass(frozen=True)
class RatePoint:
    at: datetime  # the end of the period
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class RateSeries:
    label: str  # a channel or a touchpoint
    points: tuple[RatePoint, ...]


@dataclass(frozen=True)
class RecentEvent:
    """One ledger entry as the dashboard lists it (newest recorded first)."""

    id: UUID
    customer_id: UUID
    customer_email: str | None
    channel: Channel
    purpose: str
    state: ConsentState
    opt_in_level: OptInLevel
    source: SourceKind
    shop_platform: str | None
    shop_domain: str | None
    touchpoint: str | None
    actor: str | None
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class WordingUsage:
    """Customers (each counted once) whose current subscription on some channel and purpose
    was given under a wording, and customers who ever subscribed (or asked to) under it."""

    subscribed_now: int = 0
    ever_opted_in: int = 0


@dataclass(frozen=True)
class CustomerRef:
    """Enough of a customer to list and link them."""

    id: UUID
    email: str | None
    first_name: str | None
    last_name: str | None

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email or str(self.id)


class Span(StrEnum):
    """The dashboard's time windows: 30 daily periods, or 12 weekly ones."""

    DAYS = "30d"
    WEEKS = "12w"

    @classmethod
    def parse(cls, value: str | None) -> Span:
        try:
            return cls(value or cls.DAYS)
        except ValueError:
            raise InvalidValue(f"unknown span {value!r}; use 30d or 12w") from None

    def edges(self, now: datetime) -> list[datetime]:
        """Period boundaries, oldest first: the window's start, then the end of each period.
        The last period ends at `now`."""
        now = require_aware(now, "now").replace(microsecond=0)
        step, count = (timedelta(days=1), 30) if self is Span.DAYS else (timedelta(weeks=1), 12)
        return [now - step * (count - i) for i in range(count + 1)]


class ConsentInsights(abc.ABC):
    """Read-only questions about one merchant's consent ledger."""

    def __init__(self, merchant_id: UUID) -> None:
        self.merchant_id = merchant_id

    @abc.abstractmethod
    def state_counts(self) -> list[StateCounts]:
        """Current state counts per (channel, purpose) that has any event, sorted."""

    @abc.abstractmethod
    def channel_rates(
        self, edges: Sequence[datetime], purpose: str = DEFAULT_PURPOSE
    ) -> list[RateSeries]:
        """Per channel: subscribed / customers with a state, as of each period end."""

    @abc.abstractmethod
    def touchpoint_rates(
        self, edges: Sequence[datetime], purpose: str = DEFAULT_PURPOSE, limit: int = 6
    ) -> list[RateSeries]:
        """Per touchpoint (the `limit` busiest in the window): opt-in answers / answers, per
        period."""

    @abc.abstractmethod
    def recent_events(self, limit: int = 20) -> list[RecentEvent]: ...

    @abc.abstractmethod
    def wording_usage(self) -> dict[UUID, WordingUsage]:
        """Per wording id that any event names."""

    @abc.abstractmethod
    def subscribed_without_wording(self, channel: Channel, purpose: str) -> int:
        """Customers subscribed now whose deciding event names no wording."""

    @abc.abstractmethod
    def subscribed_under(
        self, wording_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[CustomerRef]:
        """Customers subscribed now whose deciding event names this wording (by email)."""

    @abc.abstractmethod
    def subscribed_under_older(
        self, channel: Channel, purpose: str, locale: str, version: int
    ) -> list[UUID]:
        """Customers subscribed now under a version of this (channel, purpose, locale) older
        than `version`."""
