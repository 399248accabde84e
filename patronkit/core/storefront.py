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
    # The platform's id of the event, the same on every redelivery, when its headers carry one.
    event_id: str | None = None


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


@dataclass(frozen=True)
class AdminIdentity:
    """Who opened our admin pages from inside a platform's admin: which store, which staff
    member (the platform's own user id). Proven by the platform, see `authenticate_admin`."""

    shop_domain: str
    user_id: str


class AdminAuthRejected(Exception):
    """The credential is missing, forged, expired or for another app (answer 401), or the
    platform has no embedded admin to prove who is asking."""


@dataclass(frozen=True)
class AdminEmbedding:
    """How a platform shows our admin pages inside its own admin.

    `frame_ancestors`: origins allowed to frame the pages (none: the pages refuse framing).
    `script_urls`/`meta`: the platform's bridge script, loaded first on every page, and the
    <meta name=… content=…> values it reads. `entry_url`: where a merchant opens the app
    inside the store's admin (for "open in your store" links), if the platform has one.
    """

    frame_ancestors: tuple[str, ...] = ()
    script_urls: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    entry_url: str | None = None


class InstallFlow(StrEnum):
    """How a platform hands an approved install back; the web layer picks its routes by it.

    BROWSER_REDIRECT: the platform sends the merchant's browser to `callback_url` (a GET whose
    query the gateway verifies). The browser carries our state cookie, so the web layer checks
    the state against it and passes the nonce as `expected_state`.

    SERVER_POST: the platform's server POSTs the credentials (a JSON object) to `callback_url`,
    server to server, without the merchant's browser or its cookies; then it sends the browser
    to a return URL. The state must therefore travel through the platform: the web layer signs
    it (platform, store, nonce; salted, short-lived) and the platform echoes it in the posted
    field named by `install_state_param`. The gateway's `begin_install` must send the browser
    back to `callback_url` (a GET) with the state as its ``state`` query parameter, where the
    web layer lands it on the store's admin page.
    """

    BROWSER_REDIRECT = "browser_redirect"
    SERVER_POST = "server_post"


class StorefrontGateway(abc.ABC):
    """What core's sync and the web layer need from a platform.

    Header mappings are plain dicts whose names may come in any case; match them ignoring case.

    One instance per platform per process, built by the adapter registry from settings.
    """

    platform: str
    # Whether verifying a webhook needs the shop's own credentials (a secret per shop) or
    # only the app's configuration: the web layer then skips opening the credentials.
    webhook_secret_per_shop: bool = True
    # How an approved install comes back (see InstallFlow), and for SERVER_POST the posted
    # field that echoes our signed state.
    install_flow: InstallFlow = InstallFlow.BROWSER_REDIRECT
    install_state_param: str = "state"

    # -- inbound webhooks ------------------------------------------------------------------

    @abc.abstractmethod
    def identify_webhook(self, headers: Mapping[str, str]) -> WebhookEnvelope:
        """Read shop and topic from the headers; raise InvalidWebhook if they are missing."""

    def is_handshake(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the request is the platform checking that our endpoint answers (a ping that
        carries no event, e.g. sent when a subscription is created), not a webhook.

        The web layer answers a handshake 200 before `identify_webhook` and stores nothing, so
        the test must be narrow: a request that is neither a handshake nor a well-formed
        webhook still gets 400. Default: the platform sends no handshakes."""
        return False

    @abc.abstractmethod
    def verify_webhook(self, body: bytes, headers: Mapping[str, str], shop: ShopAccess) -> bool:
        """Whether the signature over the raw body is valid for this shop."""

    def delivery_key(self, envelope: WebhookEnvelope, body: bytes) -> str:
        """A key equal for redeliveries of one event and distinct for distinct events.

        Default: the topic and the event id. The topic is part of it because one event can be
        sent under several topics. A platform whose headers carry no event id must override
        this (e.g. with a digest of the body)."""
        if not envelope.event_id:
            raise InvalidWebhook("no event id in the headers")
        return f"{envelope.topic}:{envelope.event_id}"

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

    def canonical_shop(self, shop: str) -> str:
        """The store as its connection is keyed (`ShopConnection.domain`), from what the
        merchant typed; raise InstallRejected if it names no store.

        SERVER_POST installs sign this into the state before `begin_install`, so platforms
        using that flow override it with their own normalization. Default: trimmed, lower
        case, without a trailing slash (what the connection itself does to a domain)."""
        canonical = shop.strip().lower().rstrip("/")
        if not canonical:
            raise InstallRejected("no store named")
        return canonical

    @abc.abstractmethod
    def begin_install(self, shop_domain: str, callback_url: str, state: str) -> str:
        """The URL to send the merchant to, to approve the app for their store.

        SERVER_POST platforms: see `InstallFlow` for where the browser must come back."""

    @abc.abstractmethod
    def complete_install(
        self, params: Mapping[str, str], expected_state: str | None
    ) -> Installation:
        """Verify the platform's callback and obtain credentials; raise InstallRejected.

        BROWSER_REDIRECT: `params` is the callback's query; `expected_state` the nonce from
        our cookie (None when there is none).
        SERVER_POST: the web layer has verified the signed state already. `params` is the
        posted object's fields as text, plus ``shop``: the store that state was issued for
        (`canonical_shop`), which wins over any posted ``shop``. `expected_state` is the
        verified state itself, equal to ``params[install_state_param]``. The returned
        installation must be for that store."""

    @abc.abstractmethod
    def register_webhooks(self, shop: ShopAccess, callback_url: str) -> None:
        """Subscribe the store's webhooks to `callback_url` (idempotent)."""

    # -- embedded admin (optional) -------------------------------------------------------------
    # Platforms whose admin frames apps and vouches for the staff member override these; the
    # defaults describe a platform without that (our admin pages then refuse every request).

    def authenticate_admin(self, authorization: str | None) -> AdminIdentity:
        """Verify a platform-issued admin credential (an ``Authorization`` header value, e.g.
        ``Bearer <token>``); raise AdminAuthRejected if it does not prove a store and user."""
        raise AdminAuthRejected(f"{self.platform} has no embedded admin")

    def admin_embedding(self, shop_domain: str | None) -> AdminEmbedding:
        """How this platform frames admin pages for one store (None: for any of its stores)."""
        return AdminEmbedding()

    def customer_admin_url(self, shop_domain: str, remote_id: str) -> str | None:
        """A link to this customer's record in the store's own admin, if there is one."""
        return None
