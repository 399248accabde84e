"""The port between core and a storefront platform, in core's own terms.

An adapter turns what its platform sends (webhook payloads, API pages) into these records,
and carries core's decisions (a consent to push) back out. Records are plain, immutable data;
nothing here knows how a platform speaks HTTP.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.order import FinancialStatus, Refund


@dataclass(frozen=True)
class RemoteConsent:
    """A store's view of one channel's consent, stamped with when the store says it changed."""

    channel: Channel
    state: ConsentState
    opt_in_level: OptInLevel
    occurred_at: datetime


@dataclass(frozen=True)
class RemoteCustomer:
    """A customer as a store holds it. `consents` lists only channels the source carried:
    an absent channel means "not said here", never "not subscribed"."""

    remote_id: str
    updated_at: datetime
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    consents: tuple[RemoteConsent, ...] = ()
    profile_included: bool = True  # False for consent-only payloads: leave the profile alone


@dataclass(frozen=True)
class RemoteOrder:
    remote_id: str
    updated_at: datetime
    placed_at: datetime
    total: Decimal
    currency: str
    financial_status: FinancialStatus
    customer_remote_id: str | None = None
    email: str | None = None
    outstanding: Decimal = Decimal(0)
    discount_codes: tuple[str, ...] = ()
    refunds: tuple[Refund, ...] = ()
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None


class ChangeKind(StrEnum):
    CUSTOMER = "customer"  # upsert of profile and/or consent
    CUSTOMER_DELETED = "customer_deleted"
    ORDER = "order"
    UNINSTALLED = "uninstalled"
    REDACT_CUSTOMER = "redact_customer"  # privacy law: erase this person's data
    REDACT_SHOP = "redact_shop"
    DATA_REQUEST = "data_request"  # privacy law: the person asked for their data
    IGNORED = "ignored"


@dataclass(frozen=True)
class InboundChange:
    """What one inbound message means for core."""

    kind: ChangeKind
    customer: RemoteCustomer | None = None
    order: RemoteOrder | None = None
    remote_id: str | None = None  # for deletions and redactions
    email: str | None = None  # for redactions and data requests, when the store names it
    reference: str | None = None  # the store's own id for the request, for the audit trail
    note: str = ""


@dataclass(frozen=True)
class ShopAccess:
    """What an adapter needs to call one shop: where, and the opened credentials."""

    domain: str
    api_url: str | None
    credentials: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ConsentPush:
    """Core's current consent for one channel, to be made true in one store."""

    customer_remote_id: str
    channel: Channel
    state: ConsentState
    opt_in_level: OptInLevel
    occurred_at: datetime


class PushOutcome(StrEnum):
    APPLIED = "applied"
    UNSUPPORTED = "unsupported"  # the platform has no such channel; nothing to do
    NOT_FOUND = "not_found"  # the store no longer has that customer


@dataclass(frozen=True)
class WebhookEnvelope:
    """Who sent an inbound webhook and about what, read from its headers before trusting it."""

    shop_domain: str
    topic: str
    triggered_at: datetime | None = None


class StoreUnavailable(Exception):
    """The store did not answer usefully (network, 5xx, throttled past retries): try later."""


class StoreAccessRevoked(Exception):
    """The store refused our credentials (app uninstalled, token revoked): stop calling it."""


class InvalidWebhook(Exception):
    """The request is not a well-formed webhook of this platform (answer 400)."""


@dataclass(frozen=True)
class Installation:
    """A completed install: the store, and the credentials to keep (sealed) for it."""

    domain: str
    credentials: Mapping[str, Any] = field(repr=False)
    api_url: str | None = None
    remote_shop_id: str | None = None
    name: str | None = None


class InstallRejected(Exception):
    """The install callback failed verification (answer 4xx; create nothing)."""


class StorefrontGateway(abc.ABC):
    """What core's sync and the web layer need from a platform.

    Header mappings are plain dicts whose names may come in any case; match them ignoring case.

    One instance per platform per process, built by the adapter registry from settings.
    """

    platform: str
    # Whether verifying a webhook needs the shop's own credentials (a secret per shop) or
    # only the app's configuration: the web layer then skips opening the credentials.
    webhook_secret_per_shop: bool = True

    # -- inbound webhooks ------------------------------------------------------------------

    @abc.abstractmethod
    def identify_webhook(self, headers: Mapping[str, str]) -> WebhookEnvelope:
        """Read shop and topic from the headers; raise InvalidWebhook if they are missing."""

    @abc.abstractmethod
    def verify_webhook(self, body: bytes, headers: Mapping[str, str], shop: ShopAccess) -> bool:
        """Whether the signature over the raw body is valid for this shop."""

    @abc.abstractmethod
    def delivery_key(self, headers: Mapping[str, str], body: bytes) -> str:
        """A key equal for redeliveries of one event and distinct for distinct events."""

    @abc.abstractmethod
    def parse_webhook(self, topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
        """Map a verified webhook payload to changes. Pure: no I/O."""

    @abc.abstractmethod
    def customers_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteCustomer]:
        """Every customer changed at or after `since` (all when None), streamed."""

    @abc.abstractmethod
    def orders_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteOrder]:
        """Every order changed at or after `since` (all when None), streamed."""

    @abc.abstractmethod
    def push_consent(self, shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        """Make the store hold this consent. Must be safe to repeat."""

    # -- install -----------------------------------------------------------------------------

    @abc.abstractmethod
    def begin_install(self, shop_domain: str, callback_url: str, state: str) -> str:
        """The URL to send the merchant to, to approve the app for their store."""

    @abc.abstractmethod
    def complete_install(
        self, params: Mapping[str, str], expected_state: str | None
    ) -> Installation:
        """Verify the platform's callback and obtain credentials; raise InstallRejected."""

    @abc.abstractmethod
    def register_webhooks(self, shop: ShopAccess, callback_url: str) -> None:
        """Subscribe the store's webhooks to `callback_url` (idempotent)."""
