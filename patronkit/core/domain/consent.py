"""The consent ledger: append-only events, and the rule that derives current consent from them.

Current consent is never stored or edited: it is whatever `derive_current` says the events mean.
The newest `occurred_at` wins; on a tie the more restrictive state wins (a withdrawal beats
everything). That makes the result independent of the order in which events arrive.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID, uuid4

from patronkit.core.domain.errors import (
    InvalidEvidence,
    UnknownChannel,
    UnknownConsentState,
    UnknownOptInLevel,
    UnknownSource,
)
from patronkit.core.domain.values import require_aware, require_slug, utcnow

E = TypeVar("E", bound=StrEnum)


def _parse(enum: type[E], value: str | E, error: type[Exception], what: str) -> E:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise error(f"unknown {what} {value!r}; known: {known}") from None


class Channel(StrEnum):
    """Where marketing reaches a person. Adding a channel is adding a member here."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    POSTAL = "postal"

    @classmethod
    def parse(cls, value: str | Channel) -> Channel:
        return _parse(cls, value, UnknownChannel, "channel")


class ConsentState(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"  # an explicit withdrawal
    PENDING = "pending"  # waiting for the double opt-in confirmation
    NOT_SUBSCRIBED = "not_subscribed"  # never asked, or never answered

    @classmethod
    def parse(cls, value: str | ConsentState) -> ConsentState:
        return _parse(cls, value, UnknownConsentState, "consent state")

    @property
    def allows_marketing(self) -> bool:
        return self is ConsentState.SUBSCRIBED


class OptInLevel(StrEnum):
    SINGLE = "single"
    CONFIRMED = "confirmed"  # double opt-in: the person clicked a confirmation link
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | OptInLevel) -> OptInLevel:
        return _parse(cls, value, UnknownOptInLevel, "opt-in level")


class SourceKind(StrEnum):
    STORE = "store"  # a connected storefront reported it (webhook, import, reconcile)
    WIDGET = "widget"  # the shopper used our storefront widget or preference page
    ADMIN = "admin"  # the merchant changed it in our admin pages
    IMPORT = "import"  # a file or migration from another tool
    SUPPORT = "support"  # a support agent on the person's behalf

    @classmethod
    def parse(cls, value: str | SourceKind) -> SourceKind:
        return _parse(cls, value, UnknownSource, "consent source")


# On equal occurred_at, the more restrictive state wins: privacy errs towards not contacting.
_STATE_PRECEDENCE = {
    ConsentState.UNSUBSCRIBED: 3,
    ConsentState.NOT_SUBSCRIBED: 2,
    ConsentState.PENDING: 1,
    ConsentState.SUBSCRIBED: 0,
}
# Then the stronger proof wins, so a confirmation is not hidden by its own single opt-in.
_LEVEL_PRECEDENCE = {OptInLevel.CONFIRMED: 2, OptInLevel.SINGLE: 1, OptInLevel.UNKNOWN: 0}

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_MAX_USER_AGENT = 512
_MAX_TEXT = 200

DEFAULT_PURPOSE = "marketing"


def sha256_hex(text: str) -> str:
    """SHA-256 of the exact text shown (UTF-8), the fingerprint an event's evidence points at."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ConsentSource:
    """Who reported the event: a kind, and for stores which connection it came through."""

    kind: SourceKind
    shop_id: UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SourceKind.parse(self.kind))
        if self.kind is SourceKind.STORE and self.shop_id is None:
            raise UnknownSource("a store source needs the shop connection it came from")


@dataclass(frozen=True)
class Evidence:
    """Proof of what the person saw and did. Every field is optional; what is given is checked."""

    wording_id: UUID | None = None
    wording_version: int | None = None
    wording_sha256: str | None = None
    touchpoint: str | None = None  # e.g. "checkout", "product_page", "preference_link"
    ip: str | None = None
    user_agent: str | None = None
    actor: str | None = None  # who acted: "shopper", "admin:<user id>", "store:<platform>"

    def __post_init__(self) -> None:
        if self.wording_sha256 is not None and not _SHA256_HEX.match(self.wording_sha256):
            raise InvalidEvidence("wording_sha256 must be 64 lower-case hex digits")
        if self.wording_version is not None and self.wording_version < 1:
            raise InvalidEvidence("wording_version starts at 1")
        if self.ip is not None:
            try:
                object.__setattr__(self, "ip", str(ipaddress.ip_address(self.ip)))
            except ValueError:
                raise InvalidEvidence("ip is not an IP address") from None
        if self.user_agent is not None:
            object.__setattr__(self, "user_agent", self.user_agent[:_MAX_USER_AGENT])
        for name in ("touchpoint", "actor"):
            value = getattr(self, name)
            if value is not None and len(value) > _MAX_TEXT:
                raise InvalidEvidence(f"{name} is longer than {_MAX_TEXT} characters")

    def as_dict(self) -> dict[str, Any]:
        return {
            "wording_id": str(self.wording_id) if self.wording_id else None,
            "wording_version": self.wording_version,
            "wording_sha256": self.wording_sha256,
            "touchpoint": self.touchpoint,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "actor": self.actor,
        }


@dataclass(eq=False)
class ConsentEvent:
    """One fact about one person's consent on one channel for one purpose. Never edited."""

    merchant_id: UUID
    customer_id: UUID
    channel: Channel
    state: ConsentState
    opt_in_level: OptInLevel
    source: ConsentSource
    occurred_at: datetime
    purpose: str = DEFAULT_PURPOSE
    evidence: Evidence = field(default_factory=Evidence)
    recorded_at: datetime = field(default_factory=utcnow)
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.channel = Channel.parse(self.channel)
        self.state = ConsentState.parse(self.state)
        self.opt_in_level = OptInLevel.parse(self.opt_in_level)
        self.purpose = require_slug(self.purpose, "purpose")
        # Stores keep consent times to the second; more precision here would make the echo of
        # our own push (stamped with this time) look like a different, older fact.
        self.occurred_at = require_aware(self.occurred_at, "occurred_at").replace(microsecond=0)
        self.recorded_at = require_aware(self.recorded_at, "recorded_at")

    @property
    def key(self) -> ConsentKey:
        return ConsentKey(self.channel, self.purpose)

    @property
    def fact(self) -> tuple[Channel, str, ConsentState, OptInLevel, datetime]:
        """What the event asserts, without who reported it: two events with one fact are one."""
        return (self.channel, self.purpose, self.state, self.opt_in_level, self.occurred_at)

    def precedence(self) -> tuple[datetime, int, int, str]:
        """Total order of events within one key; the greatest is the current consent.

        The event id closes the order so that even identical facts resolve the same way
        whatever order they arrived in.
        """
        return (
            self.occurred_at,
            _STATE_PRECEDENCE[self.state],
            _LEVEL_PRECEDENCE[self.opt_in_level],
            str(self.id),
        )


@dataclass(frozen=True)
class ConsentKey:
    channel: Channel
    purpose: str = DEFAULT_PURPOSE


@dataclass(frozen=True)
class ConsentStatus:
    """The derived, current consent for one key, and the event that decided it."""

    channel: Channel
    purpose: str
    state: ConsentState
    opt_in_level: OptInLevel
    occurred_at: datetime
    decided_by: UUID
    source: ConsentSource

    @classmethod
    def of(cls, event: ConsentEvent) -> ConsentStatus:
        return cls(
            channel=event.channel,
            purpose=event.purpose,
            state=event.state,
            opt_in_level=event.opt_in_level,
            occurred_at=event.occurred_at,
            decided_by=event.id,
            source=event.source,
        )

    def same_consent(self, other: ConsentStatus | None) -> bool:
        """Whether two statuses mean the same thing to a storefront (state and level)."""
        return (
            other is not None
            and self.state is other.state
            and self.opt_in_level is other.opt_in_level
        )


def derive_current(events: Iterable[ConsentEvent]) -> dict[ConsentKey, ConsentStatus]:
    """Current consent per (channel, purpose): the event with the greatest precedence."""
    winners: dict[ConsentKey, ConsentEvent] = {}
    for event in events:
        best = winners.get(event.key)
        if best is None or event.precedence() > best.precedence():
            winners[event.key] = event
    return {key: ConsentStatus.of(event) for key, event in winners.items()}
