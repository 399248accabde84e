"""`WooCommerceGateway`: core's `StorefrontGateway` port, spoken in WooCommerce's REST API.

A connection's domain is the store's normalized site URL (`site_url`), which is also where
its API lives. Credentials are ``{consumer_key, consumer_secret, webhook_secret}``: the key
pair WooCommerce posts at install, and the secret we generate then and give each webhook.

Transport is in `client`, the install flow in `install`, deliveries in `webhooks`, record
mapping in `mapping` and the consent meta format in `consent_meta`.

Settings (PATRONKIT_WOOCOMMERCE_<KEY>; setting any of them turns the platform on):

    APP_NAME     shown to the merchant on WooCommerce's approval page (default: patronkit)
    TIMEOUT      seconds per API call (default: 20)
    VERIFY_SSL   check store certificates (default: true; false only for local test stores)
"""

from __future__ import annotations

import logging
import random
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from patronkit.adapters.woocommerce import consent_meta, install, mapping, webhooks
from patronkit.adapters.woocommerce.client import (
    MAX_PAGE_SIZE,
    RetryPolicy,
    Sleep,
    WooCommerceAuthError,
    WooCommerceClient,
    WooCommerceRequestError,
    WooCommerceUnavailable,
)
from patronkit.adapters.woocommerce.pause import StorePauses
from patronkit.adapters.woocommerce.site_url import InvalidSiteUrl, normalize_site_url
from patronkit.core.storefront import (
    ConsentPush,
    InboundChange,
    Installation,
    InstallFlow,
    InstallRejected,
    InvalidWebhook,
    PushOutcome,
    RemoteCustomer,
    RemoteOrder,
    ShopAccess,
    StorefrontGateway,
    WebhookEnvelope,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_APP_NAME = "patronkit"
# Codes an update of a customer id the store does not have answers with (older versions
# answer 400 with these; newer ones 404).
_UNKNOWN_CUSTOMER_CODES = frozenset(
    {"woocommerce_rest_invalid_id", "woocommerce_rest_customer_invalid_id", "rest_user_invalid_id"}
)
_NUMERIC_ID = re.compile(r"[1-9][0-9]{0,18}")
# modified_after is exclusive ("after"); the port asks for changes at or after `since`.
_INCLUSIVE = timedelta(seconds=1)


class WooCommerceConfigError(ValueError):
    """The WooCommerce settings are malformed."""


class WebhookRegistrationError(WooCommerceUnavailable):
    """The store refused to create or update one of our webhooks."""


@dataclass(frozen=True)
class WooCommerceConfig:
    app_name: str = DEFAULT_APP_NAME
    timeout: float = 20.0
    verify_ssl: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class WooCommerceGateway(StorefrontGateway):
    platform = "woocommerce"
    webhook_secret_per_shop = True  # each shop's webhooks carry the secret we gave them
    install_flow = InstallFlow.SERVER_POST
    install_state_param = install.STATE_PARAM

    def __init__(
        self,
        config: WooCommerceConfig | None = None,
        *,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or WooCommerceConfig()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        # One per store: a Retry-After heard by one worker thread holds them all.
        self._pauses = StorePauses()

    def __repr__(self) -> str:
        return f"WooCommerceGateway(app_name={self.config.app_name!r})"

    def client(self, shop: ShopAccess) -> WooCommerceClient:
        credentials = shop.credentials
        key, secret = credentials.get("consumer_key"), credentials.get("consumer_secret")
        if not isinstance(key, str) or not key or not isinstance(secret, str) or not secret:
            raise WooCommerceConfigError("shop credentials hold no consumer key and secret")
        return self._client(shop.api_url or shop.domain, key, secret)

    def _client(self, site_url: str, key: str, secret: str) -> WooCommerceClient:
        site = normalize_site_url(site_url)
        return WooCommerceClient(
            site,
            key,
            secret,
            timeout=self.config.timeout,
            verify_ssl=self.config.verify_ssl,
            retry=self.config.retry,
            sleep=self._sleep,
            rng=self._rng,
            pause=self._pauses.get(site),
        )

    # -- inbound webhooks ------------------------------------------------------------------

    def is_handshake(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.is_ping(headers, body)

    def identify_webhook(self, headers: Mapping[str, str]) -> WebhookEnvelope:
        parsed = self._headers(headers)
        # WooCommerce sends no event time; ordering relies on the payload's own times.
        return WebhookEnvelope(parsed.site_url, parsed.topic)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], shop: ShopAccess) -> bool:
        return webhooks.verify_signature(body, headers, shop.credentials.get("webhook_secret"))

    def delivery_key(self, envelope: WebhookEnvelope, body: bytes) -> str:
        # Each redelivery has its own X-WC-Webhook-Delivery-ID: the content decides.
        return webhooks.delivery_key(envelope.topic, body)

    def parse_webhook(self, topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
        return mapping.changes_from_webhook(topic, payload)

    @staticmethod
    def _headers(headers: Mapping[str, str]) -> webhooks.WebhookHeaders:
        try:
            return webhooks.parse_headers(headers)
        except webhooks.WebhookHeaderError as exc:
            raise InvalidWebhook(str(exc)) from None

    # -- reading customers and orders ------------------------------------------------------

    def customers_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteCustomer]:
        """Customers have no modified_after filter (WP_User_Query), so every page is read and
        filtered here, by profile time or consent time (`mapping.changed_since`).

        ``role=all``: customer.* webhooks fire for every WordPress user, so reconcile reads
        the same population. Sorted by id, so customers added during the scan land on later
        pages instead of shifting ones already read."""
        client = self.client(shop)
        params = {"per_page": str(MAX_PAGE_SIZE), "orderby": "id", "order": "asc", "role": "all"}
        for page in client.pages("customers", params):
            for item in page:
                customer = _mapped(mapping.customer_from_rest, item, "customer")
                if customer is not None and (
                    since is None or mapping.changed_since(customer, since)
                ):
                    yield customer

    def orders_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteOrder]:
        """Orders through modified_after (GMT), sorted by id.

        Not by modification time, though newer stores accept ``orderby=modified``: paging is
        by offset, and an order modified mid-scan would jump to the end and shift every later
        order back one place, so the first order of the next page would be skipped (and, its
        own time being older than this run, never read again). Sorted by id, an order that
        starts to match mid-scan can only shift later ones forward: read twice, never
        skipped. Ids are also unique, where modification times tie and MySQL orders ties
        differently from one page's query to the next."""
        client = self.client(shop)
        params = {
            "per_page": str(MAX_PAGE_SIZE),
            "orderby": "id",
            "order": "asc",
            "dates_are_gmt": "true",
        }
        if since is not None:
            params["modified_after"] = _gmt(since - _INCLUSIVE)
        for page in client.pages("orders", params):
            for item in page:
                order = _mapped(mapping.order_from_rest, item, "order")
                if order is not None:
                    yield order

    # -- pushing consent -------------------------------------------------------------------

    def push_consent(self, shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        """Write the channel's consent meta entry. WooCommerce replaces meta by key, so a
        repeat writes the same value again. Every channel is supported: meta holds any."""
        if push.channel not in consent_meta.CHANNEL_KEYS:
            return PushOutcome.UNSUPPORTED
        if not _NUMERIC_ID.fullmatch(push.customer_remote_id):
            return PushOutcome.NOT_FOUND  # no WooCommerce customer has such an id
        body = {"meta_data": [consent_meta.meta_entry(push)]}
        try:
            self.client(shop).put(f"customers/{push.customer_remote_id}", body)
        except WooCommerceRequestError as exc:
            if exc.status == 404 or exc.code in _UNKNOWN_CUSTOMER_CODES:
                return PushOutcome.NOT_FOUND
            raise
        return PushOutcome.APPLIED

    # -- install ---------------------------------------------------------------------------

    def canonical_shop(self, shop: str) -> str:
        try:
            return normalize_site_url(shop)
        except InvalidSiteUrl as exc:
            raise InstallRejected(str(exc)) from None

    def begin_install(self, shop_domain: str, callback_url: str, state: str) -> str:
        return install.authorize_url(
            self.canonical_shop(shop_domain),
            app_name=self.config.app_name,
            callback_url=callback_url,
            state=state,
        )

    def complete_install(
        self, params: Mapping[str, str], expected_state: str | None
    ) -> Installation:
        """Accept the posted keys only once one authenticated GET to that store works with
        them (a forged post cannot plant keys that do not open the store), and give the shop
        a fresh webhook secret."""
        keys = install.read_posted_keys(params, expected_state)
        client = self._client(keys.site_url, keys.consumer_key, keys.consumer_secret)
        try:
            # Cheap, carries no personal data, and proves the right we need most (webhooks).
            client.get("webhooks", {"per_page": "1"})
        except WooCommerceAuthError:
            raise InstallRejected("the store refused the posted keys") from None
        except WooCommerceRequestError as exc:
            raise InstallRejected(
                f"the store's API refused the check (HTTP {exc.status})"
            ) from None
        except WooCommerceUnavailable:
            raise InstallRejected("the store could not be reached to check the keys") from None
        credentials = {
            "consumer_key": keys.consumer_key,
            "consumer_secret": keys.consumer_secret,
            # URL-safe characters only: WooCommerce stores the secret HTML-escaped and decodes
            # it before signing, so characters like & or < would be a needless risk.
            "webhook_secret": secrets.token_urlsafe(32),
        }
        return Installation(domain=keys.site_url, credentials=credentials, api_url=keys.site_url)

    # -- webhook subscriptions -------------------------------------------------------------

    def register_webhooks(self, shop: ShopAccess, callback_url: str) -> None:
        """Make every SUBSCRIBED_TOPICS webhook to ``callback_url`` exist, be active and carry
        the shop's secret. Idempotent: existing ones are updated in place (their secret cannot
        be read back, and a reinstall issued a new one), missing ones created, duplicates of
        ours removed. Webhooks to other URLs are left alone."""
        secret = shop.credentials.get("webhook_secret")
        if not isinstance(secret, str) or not secret:
            raise WooCommerceConfigError("shop credentials hold no webhook secret")
        client = self.client(shop)
        ours: dict[str, list[int]] = {}
        for page in client.pages("webhooks", {"per_page": str(MAX_PAGE_SIZE), "status": "all"}):
            for hook in page:
                if _same_url(hook.get("delivery_url"), callback_url) and _is_id(hook.get("id")):
                    ours.setdefault(str(hook.get("topic")), []).append(hook["id"])
        for topic in webhooks.SUBSCRIBED_TOPICS:
            existing = sorted(ours.get(topic, []))
            try:
                if existing:
                    client.put(f"webhooks/{existing[0]}", {"status": "active", "secret": secret})
                    for duplicate in existing[1:]:
                        client.delete(f"webhooks/{duplicate}", {"force": "true"})
                else:
                    client.post(
                        "webhooks",
                        {
                            "name": f"{self.config.app_name} {topic}",
                            "topic": topic,
                            "delivery_url": callback_url,
                            "secret": secret,
                            "status": "active",
                        },
                    )
            except WooCommerceRequestError as exc:
                raise WebhookRegistrationError(f"webhook {topic}: {exc}") from None


def build(options: Mapping[str, str]) -> WooCommerceGateway:
    """A gateway from plain settings: app_name, timeout, verify_ssl (see the module doc)."""
    app_name = (options.get("app_name") or "").strip() or DEFAULT_APP_NAME
    if len(app_name) > 100 or not app_name.isprintable():
        raise WooCommerceConfigError(
            "woocommerce app_name must be printable, 100 characters at most"
        )
    try:
        timeout = float((options.get("timeout") or "").strip() or 20.0)
    except ValueError:
        raise WooCommerceConfigError("woocommerce timeout must be a number of seconds") from None
    if not 0 < timeout <= 120:
        raise WooCommerceConfigError("woocommerce timeout must be between 0 and 120 seconds")
    verify = (options.get("verify_ssl") or "true").strip().lower()
    if verify not in {"true", "false", "1", "0", "yes", "no"}:
        raise WooCommerceConfigError("woocommerce verify_ssl must be true or false")
    return WooCommerceGateway(
        WooCommerceConfig(
            app_name=app_name, timeout=timeout, verify_ssl=verify in {"true", "1", "yes"}
        )
    )


# -- helpers ---------------------------------------------------------------------------------


def _mapped(
    mapper: Callable[[Mapping[str, Any]], T], item: Mapping[str, Any], kind: str
) -> T | None:
    """A record, or None (logged) when the store holds one we cannot read: one bad record
    must not stop a reconcile of all the others. The id is logged, never the content."""
    try:
        return mapper(item)
    except mapping.InvalidPayload as exc:
        logger.warning("woocommerce %s %s skipped: %s", kind, _safe_id(item.get("id")), exc)
        return None


def _safe_id(value: object) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"


def _gmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _same_url(value: object, callback_url: str) -> bool:
    return isinstance(value, str) and value.strip().rstrip("/") == callback_url.rstrip("/")


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
