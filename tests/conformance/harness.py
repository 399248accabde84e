"""What the conformance suite needs from a platform: its simulator, driven in core's terms.

One `PlatformHarness` per platform (tests/conformance/<platform>.py, listed in `platforms.py`).
A harness starts its simulator, walks a merchant's browser through the platform's real
install flow, acts as shoppers and staff in the store, reads the store back, and turns the
simulator's delivery chaos and fault injection on. Scenarios speak only this interface, so
a new platform runs every scenario by adding one harness module.

Everything is expressed in core's terms (remote ids as text, `Channel`, `ConsentState`,
`OptInLevel`); how the store says it is the harness's business.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import requests

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel


@dataclass(frozen=True)
class StoreSpec:
    """What to start: the seed data, and where patronkit listens (some platforms send
    configuration-level webhooks, fixed before any install, to the app's URL)."""

    app_url: str
    customers: int
    orders: int = 0
    seed: int = 7


@dataclass(frozen=True)
class StoreConsent:
    state: ConsentState
    opt_in_level: OptInLevel


@dataclass(frozen=True)
class StoreCustomer:
    """A customer as the store holds it, in core's terms.

    `consents` has a key for every channel this customer can hold consent on in this store;
    None means the store has no statement for it (never asked), so core must hold nothing,
    or "not subscribed", for that channel.
    """

    remote_id: str
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    consents: Mapping[Channel, StoreConsent | None] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreOrder:
    remote_id: str
    customer_remote_id: str | None  # None: a guest order
    email: str | None  # what a guest order names its buyer by


@dataclass(frozen=True)
class WebhookTally:
    """Deliveries the store made since it started (pings and handshakes left out)."""

    events: int  # first deliveries of distinct events
    duplicates: int  # extra deliveries of events already delivered
    out_of_order: int  # first deliveries that reached us after those of later events


class PlatformHarness(abc.ABC):
    platform: str
    # Whether the store tells us about changes by webhook (and so echoes our own pushes).
    sends_webhooks: bool = True

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    @abc.abstractmethod
    def running(cls, spec: StoreSpec) -> AbstractContextManager[PlatformHarness]:
        """A started simulator with `spec.customers` seeded customers (some of them with
        consents already given in the store), wrapped in a harness."""

    @abc.abstractmethod
    def app_settings(self) -> dict[str, str]:
        """The PATRONKIT_* settings that let the app (and a worker process) reach this store."""

    # -- install -----------------------------------------------------------------------

    @abc.abstractmethod
    def shop_address(self) -> str:
        """What the merchant types to name the store when installing (the ``shop``)."""

    @abc.abstractmethod
    def connection_domain(self) -> str:
        """The store's `ShopConnection.domain` in core once installed."""

    @abc.abstractmethod
    def approve_install(self, browser: requests.Session, begin_url: str, app_url: str) -> None:
        """Walk the merchant's browser from our ``/install/<platform>`` URL through the
        platform's approval and back to our admin page; fail on any other turn."""

    # -- acting in the store -------------------------------------------------------------

    @abc.abstractmethod
    def customer_ids(self) -> list[str]:
        """The store's shoppers (not staff), in a stable order."""

    @abc.abstractmethod
    def channels(self, remote_id: str) -> tuple[Channel, ...]:
        """Channels this customer can hold consent on in this store."""

    @abc.abstractmethod
    def create_customer(self, email: str, first_name: str, last_name: str) -> str:
        """A new shopper account (webhooks fire); its remote id."""

    @abc.abstractmethod
    def edit_profile(self, remote_id: str, *, first_name: str) -> None:
        """The shopper or staff edits the profile (webhooks fire)."""

    @abc.abstractmethod
    def set_consent(
        self,
        remote_id: str,
        channel: Channel,
        state: ConsentState,
        level: OptInLevel,
        *,
        notify: bool = True,
    ) -> None:
        """A consent given or withdrawn in the store, as of now. ``notify=False``: written
        the way that fires no webhook (a change patronkit can only find by reconciling)."""

    @abc.abstractmethod
    def delete_customer(self, remote_id: str) -> None:
        """Staff deletes a customer without orders (webhooks fire)."""

    @abc.abstractmethod
    def place_order(self, remote_id: str | None, *, email: str | None = None) -> str:
        """A paid order by a customer, or (`remote_id` None) a guest order naming `email`."""

    @abc.abstractmethod
    def webhooks_paused(self) -> AbstractContextManager[None]:
        """Changes made inside the block fire no webhook at all (lost or never sent)."""

    # -- reading the store -----------------------------------------------------------------

    @abc.abstractmethod
    def snapshot(self) -> dict[str, StoreCustomer]:
        """Every customer the store reports to patronkit, by remote id."""

    @abc.abstractmethod
    def orders(self) -> dict[str, StoreOrder]:
        """Every order the store reports to patronkit, by remote id."""

    @abc.abstractmethod
    def consent(self, remote_id: str, channel: Channel) -> StoreConsent | None:
        """The store's current consent for one customer and channel (None: no statement)."""

    # -- delivery and faults -------------------------------------------------------------

    @abc.abstractmethod
    def configure_webhooks(
        self,
        *,
        duplicate_rate: float,
        reorder_window_seconds: float,
        seed: int,
        delay_seconds: float = 0.0,
    ) -> None:
        """Send a share of deliveries twice, and hold each for `delay_seconds` plus a random
        time up to the window, so later events overtake earlier ones."""

    @abc.abstractmethod
    def webhooks_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the store to have sent everything queued."""

    @abc.abstractmethod
    def webhook_tally(self) -> WebhookTally: ...

    @abc.abstractmethod
    def inject_throttling(self, count: int, retry_after: float) -> None:
        """Answer the next `count` API requests 429 with Retry-After `retry_after` seconds."""

    @abc.abstractmethod
    def inject_server_errors(self, status: int, count: int) -> None:
        """Answer the next `count` API requests with `status` (a 5xx)."""

    @abc.abstractmethod
    def faults_served(self) -> dict[int, int]:
        """Injected failures answered so far, by status."""

    @abc.abstractmethod
    def limit_violations(self) -> dict[str, int]:
        """API requests made while the store had told us to wait (Retry-After, rate limit),
        by kind."""

    def server_error_statuses(self) -> tuple[int, ...]:
        """The 5xx statuses this platform's simulator can inject, most common first."""
        return (503, 500)
