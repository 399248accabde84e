"""Customer: one per person per merchant, with links to each store's copy and a consent ledger."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from patronkit.core.domain.consent import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentEvent,
    ConsentKey,
    ConsentStatus,
    derive_current,
)
from patronkit.core.domain.errors import InvalidValue, ScopeViolation
from patronkit.core.domain.events import (
    ConsentChanged,
    CustomersMerged,
    CustomerUpserted,
    DomainEvent,
)
from patronkit.core.domain.values import (
    canonical_email,
    normalize_email,
    normalize_phone,
    require_aware,
    utcnow,
)

_MAX_NAME = 255


def _clean_name(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > _MAX_NAME:
        raise InvalidValue(f"{name} is longer than {_MAX_NAME} characters")
    return value or None


@dataclass(eq=False)
class StoreLink:
    """This customer's record in one connected store: which shop, and its id there."""

    shop_id: UUID
    remote_id: str
    remote_updated_at: datetime | None = None
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        if not isinstance(self.remote_id, str) or not self.remote_id:
            raise InvalidValue("remote_id must be a non-empty string")
        if self.remote_updated_at is not None:
            self.remote_updated_at = require_aware(self.remote_updated_at, "remote_updated_at")


@dataclass(eq=False)
class Customer:
    """The aggregate root for a person: profile, store links and consent ledger.

    `updated_at` is when the profile last changed according to its source; an update that is
    older than what we hold is ignored, so late webhooks cannot roll a profile back.
    """

    merchant_id: UUID
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    updated_at: datetime = field(default_factory=utcnow)
    created_at: datetime = field(default_factory=utcnow)
    id: UUID = field(default_factory=uuid4)
    canonical_email: str | None = None
    merged_into_id: UUID | None = None
    redacted_at: datetime | None = None
    links: list[StoreLink] = field(default_factory=list)
    consent_events: list[ConsentEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email) if self.email is not None else None
        self.phone = normalize_phone(self.phone) if self.phone is not None else None
        self.first_name = _clean_name(self.first_name, "first_name")
        self.last_name = _clean_name(self.last_name, "last_name")
        self.updated_at = require_aware(self.updated_at, "updated_at")
        self.created_at = require_aware(self.created_at, "created_at")
        self.canonical_email = canonical_email(self.email) if self.email else None
        self.events: list[DomainEvent] = []

    @classmethod
    def create(
        cls,
        merchant_id: UUID,
        *,
        email: str | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        updated_at: datetime | None = None,
    ) -> Customer:
        """A new customer; a person must be reachable, so email or phone is required."""
        if email is None and phone is None:
            raise InvalidValue("a customer needs an email or a phone number")
        customer = cls(
            merchant_id=merchant_id,
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            updated_at=updated_at or utcnow(),
        )
        customer.events.append(CustomerUpserted(merchant_id, customer.id, created=True))
        return customer

    # -- profile ----------------------------------------------------------------------------

    def update_profile(self, updated_at: datetime, **fields: str | None) -> bool:
        """Apply profile fields reported at `updated_at`; True if anything changed.

        Only keys given are touched. An update older than the profile we hold changes nothing.
        """
        updated_at = require_aware(updated_at, "updated_at")
        if updated_at < self.updated_at:
            return False
        unknown = set(fields) - {"email", "phone", "first_name", "last_name"}
        if unknown:
            raise InvalidValue(f"not profile fields: {sorted(unknown)}")
        new: dict[str, str | None] = {}
        if "email" in fields:
            email = fields["email"]
            new["email"] = normalize_email(email) if email is not None else None
        if "phone" in fields:
            phone = fields["phone"]
            new["phone"] = normalize_phone(phone) if phone is not None else None
        for name in ("first_name", "last_name"):
            if name in fields:
                new[name] = _clean_name(fields[name], name)
        if new.get("email", self.email) is None and new.get("phone", self.phone) is None:
            raise InvalidValue("a customer needs an email or a phone number")
        changed = {k: v for k, v in new.items() if getattr(self, k) != v}
        self.updated_at = updated_at
        if not changed:
            return False
        for name, value in changed.items():
            setattr(self, name, value)
        self.canonical_email = canonical_email(self.email) if self.email else None
        self.events.append(CustomerUpserted(self.merchant_id, self.id, created=False))
        return True

    def redact(self, now: datetime) -> dict[str, int]:
        """Erase this person's personal data, keeping the consent facts without their evidence
        of who the person was (IP, user agent). Returns what was erased, for the audit record.
        """
        now = require_aware(now, "now")
        self.email = self.canonical_email = self.phone = None
        self.first_name = self.last_name = None
        self.redacted_at = now
        erased = 0
        for event in self.consent_events:
            if event.evidence.ip or event.evidence.user_agent:
                event.evidence = replace(event.evidence, ip=None, user_agent=None)
                erased += 1
        return {"profile_fields": 5, "evidence_records": erased}

    @property
    def redacted(self) -> bool:
        return self.redacted_at is not None

    # -- store links ------------------------------------------------------------------------

    def unlink(self, shop_id: UUID) -> StoreLink | None:
        """Forget this customer's record in one store (the store deleted it)."""
        link = self.link_for(shop_id)
        if link is not None:
            self.links.remove(link)
        return link

    def link_for(self, shop_id: UUID) -> StoreLink | None:
        return next((link for link in self.links if link.shop_id == shop_id), None)

    def link(
        self, shop_id: UUID, remote_id: str, remote_updated_at: datetime | None = None
    ) -> StoreLink:
        """Record (or update) this customer's id in a store. One link per store."""
        existing = self.link_for(shop_id)
        if existing is not None:
            if existing.remote_id != remote_id:
                raise InvalidValue(
                    "this customer is already linked to another record in that store"
                )
            if remote_updated_at is not None:
                stamp = require_aware(remote_updated_at, "remote_updated_at")
                if existing.remote_updated_at is None or stamp > existing.remote_updated_at:
                    existing.remote_updated_at = stamp
            return existing
        link = StoreLink(shop_id=shop_id, remote_id=remote_id, remote_updated_at=remote_updated_at)
        self.links.append(link)
        return link

    # -- consent ----------------------------------------------------------------------------

    def consents(self) -> dict[ConsentKey, ConsentStatus]:
        return derive_current(self.consent_events)

    def consent(
        self, channel: Channel | str, purpose: str = DEFAULT_PURPOSE
    ) -> ConsentStatus | None:
        winner = self._deciding(Channel.parse(channel), purpose)
        return ConsentStatus.of(winner) if winner is not None else None

    def _deciding(self, channel: Channel, purpose: str) -> ConsentEvent | None:
        """The event that decides one key's consent (derive_current's rule, for one key)."""
        return max(
            (e for e in self.consent_events if e.channel is channel and e.purpose == purpose),
            key=ConsentEvent.precedence,
            default=None,
        )

    def record_consent(self, event: ConsentEvent) -> bool:
        """Append an event to the ledger; True if it changed what the consent means.

        An event stating a fact the ledger already holds (same channel, purpose, state, level
        and time) is not appended: that is a redelivery or the echo of our own push.
        """
        if event.merchant_id != self.merchant_id or event.customer_id != self.id:
            raise ScopeViolation("consent event belongs to another customer")
        if any(existing.fact == event.fact for existing in self.consent_events):
            return False
        before = self._deciding(event.channel, event.purpose)
        self.consent_events.append(event)
        if before is not None and before.precedence() > event.precedence():
            return False  # stale: kept, but the earlier winner still decides
        if before is not None and (before.state, before.opt_in_level) == (
            event.state,
            event.opt_in_level,
        ):
            return False  # newer, but it means the same to a store
        self.events.append(ConsentChanged.of(self.merchant_id, self.id, ConsentStatus.of(event)))
        return True


@dataclass(eq=False)
class DuplicateFlag:
    """Two customers that are probably one person; a person decides whether to merge."""

    merchant_id: UUID
    customer_id: UUID
    other_customer_id: UUID
    reason: str
    flagged_at: datetime = field(default_factory=utcnow)
    resolved_at: datetime | None = None
    id: UUID = field(default_factory=uuid4)


def duplicate_reason(a: Customer, b: Customer) -> str | None:
    """Why `a` and `b` look like one person, or None."""
    if a.id == b.id:
        return None
    if a.phone and a.phone == b.phone:
        return "same_phone"
    if a.canonical_email and a.canonical_email == b.canonical_email:
        return "same_canonical_email"
    return None


@dataclass(eq=False)
class CustomerMerge:
    """Audit record of a merge: who merged what into what, and exactly what moved."""

    merchant_id: UUID
    survivor_id: UUID
    absorbed_id: UUID
    actor: str
    merged_at: datetime
    moved_link_ids: list[str]
    moved_event_ids: list[str]
    absorbed_snapshot: dict[str, Any]
    id: UUID = field(default_factory=uuid4)


def merge_customers(
    survivor: Customer, absorbed: Customer, actor: str, now: datetime
) -> CustomerMerge:
    """Fold `absorbed` into `survivor`: its store links and consent events move over.

    The events keep every fact and its evidence; only the person they belong to changes, and the
    merge record lists each one moved. Consent is then derived from the union, so the merge
    needs no rule of its own for conflicting states.
    """
    if survivor.merchant_id != absorbed.merchant_id:
        raise ScopeViolation("cannot merge customers of different merchants")
    if survivor.id == absorbed.id:
        raise InvalidValue("cannot merge a customer into itself")
    if absorbed.merged_into_id is not None or survivor.merged_into_id is not None:
        raise InvalidValue("one of these customers was already merged")
    for link in absorbed.links:
        if survivor.link_for(link.shop_id) is not None:
            raise InvalidValue("both customers are linked in the same store; resolve that first")
    now = require_aware(now, "now")
    before = survivor.consents()
    merge = CustomerMerge(
        merchant_id=survivor.merchant_id,
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        actor=actor,
        merged_at=now,
        moved_link_ids=[str(link.id) for link in absorbed.links],
        moved_event_ids=[],
        absorbed_snapshot={
            "email": absorbed.email,
            "phone": absorbed.phone,
            "first_name": absorbed.first_name,
            "last_name": absorbed.last_name,
        },
    )
    for link in list(absorbed.links):
        absorbed.links.remove(link)
        survivor.links.append(link)
    # A fact the survivor already holds stays with the absorbed record (the ledger keeps one
    # row per fact per person); everything else moves and is listed in the merge record.
    held = {event.fact for event in survivor.consent_events}
    for event in [e for e in absorbed.consent_events if e.fact not in held]:
        absorbed.consent_events.remove(event)
        event.customer_id = survivor.id
        survivor.consent_events.append(event)
        merge.moved_event_ids.append(str(event.id))
    absorbed.merged_into_id = survivor.id
    for key, status in survivor.consents().items():
        if not status.same_consent(before.get(key)):
            survivor.events.append(ConsentChanged.of(survivor.merchant_id, survivor.id, status))
    survivor.events.append(
        CustomersMerged(survivor.merchant_id, survivor.id, absorbed.id, merge.id)
    )
    return merge
