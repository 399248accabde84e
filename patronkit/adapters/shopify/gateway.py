"""`ShopifyGateway`: core's `StorefrontGateway` port, spoken in Shopify's GraphQL Admin API.

Transport lives in the sibling modules (oauth, webhooks, graphql_client, bulk); record
mapping in `mapping`. This module wires them per shop and owns one GraphQL client per shop,
so every caller of one shop in this process shares its cost limiter.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from patronkit.adapters.shopify import bulk, mapping, oauth, queries, session_token, webhooks
from patronkit.adapters.shopify.graphql_client import (
    DEFAULT_API_VERSION,
    LimiterRegistry,
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLClient,
    ShopifyGraphQLError,
    ShopifyRequestError,
    ShopifyUnavailable,
)
from patronkit.adapters.shopify.shop_domain import InvalidShopDomain, normalize_shop_domain
from patronkit.core.domain.consent import ConsentState
from patronkit.core.storefront import (
    AdminAuthRejected,
    AdminEmbedding,
    AdminIdentity,
    ConsentPush,
    InboundChange,
    Installation,
    InstallRejected,
    InvalidWebhook,
    PushOutcome,
    RemoteCustomer,
    RemoteOrder,
    ShopAccess,
    StoreAccessRevoked,
    StorefrontGateway,
    StoreUnavailable,
    WebhookEnvelope,
)

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 250  # Shopify's maximum; the requested cost stays far below 1,000
# Embedded apps: the admin that frames us, and App Bridge, which Shopify serves only from its
# CDN (it must be the first script of every embedded page).
ADMIN_ORIGIN = "https://admin.shopify.com"
APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
_MAX_CACHED_CLIENTS = 1024

# Cheap (cost 1) identity lookup right after install. TODO(lead): move to queries.py.
SHOP_IDENTITY = """
query PatronkitShopIdentity {
  shop { id name }
}
"""

_CONSENT_MUTATIONS = {
    "emailMarketingConsent": (
        "customerEmailMarketingConsentUpdate",
        queries.CUSTOMER_EMAIL_MARKETING_CONSENT_UPDATE,
    ),
    "smsMarketingConsent": (
        "customerSmsMarketingConsentUpdate",
        queries.CUSTOMER_SMS_MARKETING_CONSENT_UPDATE,
    ),
}


class ShopifyConfigError(ValueError):
    """The Shopify app settings are incomplete or malformed."""


class ConsentPushRejected(ShopifyError, StoreUnavailable):
    """Shopify refused a consent update for a customer who exists and has an address for the
    channel (e.g. a consent time ahead of Shopify's clock). A `StoreUnavailable`, so the
    outbox retries with backoff and records the codes if it never succeeds. ``str()`` holds
    only error codes and fields, never messages (they may echo input)."""

    def __init__(self, message: str, user_errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(message)
        self.user_errors = tuple(user_errors)


class WebhookRegistrationError(ShopifyError, StoreUnavailable):
    """One or more webhook subscriptions could not be created."""


@contextmanager
def _in_port_terms() -> Iterator[None]:
    """Re-raise transport failures as the port's errors, which sync knows how to handle."""
    try:
        yield
    except ShopifyAuthError as exc:
        raise StoreAccessRevoked(str(exc)) from exc
    except (ShopifyUnavailable, ShopifyRequestError, bulk.BulkOperationError) as exc:
        raise StoreUnavailable(str(exc)) from exc


def _streamed_in_port_terms(records: Iterable[Any]) -> Iterator[Any]:
    with _in_port_terms():
        yield from records


@dataclass(frozen=True)
class ShopifyAppConfig:
    """The app's identity in the Shopify Partner dashboard, plus where to reach shops.

    ``api_base_override`` maps a shop domain to a base URL (the simulator's
    ``http://127.0.0.1:PORT``) for the install flows, which run before any `ShopAccess`
    exists. Development and tests only: a real shop is always ``https://{domain}``.
    """

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]
    api_version: str = DEFAULT_API_VERSION
    api_base_override: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ShopifyConfigError("Shopify client id and client secret are required")


class ShopifyGateway(StorefrontGateway):
    platform = "shopify"
    webhook_secret_per_shop = False  # every shop's webhooks are signed with the app secret

    def __init__(
        self,
        config: ShopifyAppConfig,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        bulk_poll_interval: float = 1.0,
        bulk_timeout_seconds: float = bulk.DEFAULT_WAIT_TIMEOUT_SECONDS,
    ) -> None:
        self.config = config
        self.page_size = page_size
        self._bulk_poll_interval = bulk_poll_interval
        self._bulk_timeout = bulk_timeout_seconds
        self._limiters = LimiterRegistry()
        self._clients: OrderedDict[tuple[str, str, str], ShopifyGraphQLClient] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ShopifyGateway(client_id={self.config.client_id!r})"

    # -- clients -------------------------------------------------------------------------

    def base_url(self, domain: str, api_url: str | None = None) -> str:
        """Where a shop's Admin API lives: its stored api_url, an override, or https://domain."""
        if api_url:
            return api_url.rstrip("/")
        override = (self.config.api_base_override or {}).get(domain)
        return override.rstrip("/") if override else f"https://{domain}"

    def client(self, shop: ShopAccess) -> ShopifyGraphQLClient:
        """The shop's cached client (thread-safe); one cost limiter per shop domain."""
        token = shop.credentials.get("access_token")
        if not isinstance(token, str) or not token:
            raise ShopifyConfigError("shop credentials hold no access_token")
        base = self.base_url(shop.domain, shop.api_url)
        # The token is part of the key (a reinstall brings a new one) but only as a digest.
        key = (shop.domain, base, hashlib.sha256(token.encode()).hexdigest())
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = ShopifyGraphQLClient(
                    base,
                    token,
                    api_version=self.config.api_version,
                    limiter=self._limiters.get(shop.domain),
                )
                self._clients[key] = client
                while len(self._clients) > _MAX_CACHED_CLIENTS:
                    # Not closed: another thread may still be using it; GC closes the pool.
                    self._clients.popitem(last=False)
            self._clients.move_to_end(key)
            return client

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    # -- inbound webhooks ----------------------------------------------------------------

    def identify_webhook(self, headers: Mapping[str, str]) -> WebhookEnvelope:
        parsed = self._headers(headers)
        # Redeliveries of one event keep X-Shopify-Event-Id, but one event can fan out to
        # several topics (a consent change fires customers/update and
        # customers_email_marketing_consent/update with the same event id): the default
        # delivery key, topic and event id, tells them apart. Webhook id is the fallback when
        # no event id is sent.
        return WebhookEnvelope(
            parsed.shop_domain, parsed.topic, parsed.triggered_at, event_id=parsed.dedupe_key
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], shop: ShopAccess) -> bool:
        # One app, one secret: every shop's webhooks are signed with the app's client secret.
        signature = next(
            (v for k, v in headers.items() if k.lower() == webhooks.HMAC_HEADER.lower()), None
        )
        return webhooks.verify_webhook(body, signature, self.config.client_secret)

    def parse_webhook(self, topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
        return mapping.changes_from_webhook(topic, payload)

    @staticmethod
    def _headers(headers: Mapping[str, str]) -> webhooks.WebhookHeaders:
        try:
            return webhooks.parse_headers(headers)
        except webhooks.WebhookHeaderError as exc:
            raise InvalidWebhook(str(exc)) from None

    # -- reading customers and orders ----------------------------------------------------

    def customers_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteCustomer]:
        """All customers through a bulk operation (import), else the paged query (reconcile)."""
        if since is None:
            return self.customers_by_bulk(shop)
        return self.customers_by_pages(shop, since)

    def customers_by_bulk(self, shop: ShopAccess) -> Iterator[RemoteCustomer]:
        lines = self._bulk_lines(shop, queries.BULK_CUSTOMERS)
        return map(mapping.customer_from_graphql, _streamed_in_port_terms(lines))

    def customers_by_pages(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteCustomer]:
        nodes = self._pages(shop, queries.CUSTOMERS_PAGE, "customers", since)
        return map(mapping.customer_from_graphql, _streamed_in_port_terms(nodes))

    def orders_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteOrder]:
        if since is None:
            return self.orders_by_bulk(shop)
        return self.orders_by_pages(shop, since)

    def orders_by_bulk(self, shop: ShopAccess) -> Iterator[RemoteOrder]:
        lines = self._bulk_lines(shop, queries.BULK_ORDERS)
        return map(mapping.order_from_graphql, _streamed_in_port_terms(lines))

    def orders_by_pages(self, shop: ShopAccess, since: datetime | None) -> Iterator[RemoteOrder]:
        nodes = self._pages(shop, queries.ORDERS_PAGE, "orders", since)
        return map(mapping.order_from_graphql, _streamed_in_port_terms(nodes))

    def _pages(
        self, shop: ShopAccess, query: str, connection: str, since: datetime | None
    ) -> Iterator[dict[str, Any]]:
        # Sorted by UPDATED_AT: a record changed mid-scan moves behind the cursor and is
        # seen again later, never skipped.
        variables = {
            "first": self.page_size,
            "query": queries.updated_since_filter(since) if since is not None else None,
        }
        return self.client(shop).paginate(query, variables, connection)

    def _bulk_lines(self, shop: ShopAccess, query: str) -> Iterator[dict[str, Any]]:
        # The pieces of bulk.run_bulk_query, to choose the first poll interval.
        client = self.client(shop)
        started = bulk.start_bulk_query(client, query)
        done = bulk.wait_for_bulk_operation(
            client,
            started.id,
            timeout_seconds=self._bulk_timeout,
            initial_interval=self._bulk_poll_interval,
        )
        if done.url is not None:  # no file when nothing matched
            yield from bulk.stream_jsonl(done.url)

    # -- pushing consent -----------------------------------------------------------------

    def push_consent(self, shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        """Run the channel's consent mutation. When Shopify says no, one read of the customer
        decides what that meant (userError wording varies by API version, existence does not):
        gone → NOT_FOUND; no address for the channel (an SMS consent without a phone) →
        UNSUPPORTED, as nothing can be held there; otherwise `ConsentPushRejected`."""
        if push.channel not in mapping.SUPPORTED_CHANNELS:
            return PushOutcome.UNSUPPORTED
        key = mapping.CONSENT_INPUT_KEYS[push.channel]
        client = self.client(shop)
        with _in_port_terms():
            if push.state is ConsentState.NOT_SUBSCRIBED:
                # Shopify can only say UNSUBSCRIBED (a withdrawal). If the store already does
                # not market to this person, leave its "never asked" alone.
                current = self._current_customer(client, push.customer_remote_id)
                if current is None:
                    return PushOutcome.NOT_FOUND
                consent = current.get(key)
                if not isinstance(consent, Mapping):
                    return PushOutcome.UNSUPPORTED
                if not mapping.is_marketable(consent.get("marketingState")):
                    return PushOutcome.APPLIED
            field_name, document = _CONSENT_MUTATIONS[key]
            try:
                result = client.execute(document, mapping.consent_update_variables(push))
            except ShopifyGraphQLError:
                # Some versions answer an unknown id with a top-level error, not userErrors.
                if self._current_customer(client, push.customer_remote_id) is None:
                    return PushOutcome.NOT_FOUND
                raise
            errors = result.user_errors(field_name)
            if not errors:
                return PushOutcome.APPLIED
            current = self._current_customer(client, push.customer_remote_id)
            if current is None:
                return PushOutcome.NOT_FOUND
            if not isinstance(current.get(key), Mapping):
                return PushOutcome.UNSUPPORTED
            raise ConsentPushRejected(
                f"{field_name} rejected: {mapping.user_error_summary(errors)}", errors
            )

    @staticmethod
    def _current_customer(
        client: ShopifyGraphQLClient, customer_remote_id: str
    ) -> Mapping[str, Any] | None:
        data = client.execute(
            queries.CUSTOMER_BY_ID, {"id": mapping.to_gid(customer_remote_id, "Customer")}
        ).data
        customer = data.get("customer")
        return customer if isinstance(customer, Mapping) else None

    # -- install -------------------------------------------------------------------------

    def canonical_shop(self, shop: str) -> str:
        """``name.myshopify.com``, however the merchant typed it (what connections key on)."""
        try:
            return normalize_shop_domain(shop)
        except InvalidShopDomain as exc:
            raise InstallRejected(str(exc)) from None

    def begin_install(self, shop_domain: str, callback_url: str, state: str) -> str:
        try:
            url = oauth.build_authorize_url(
                shop_domain,
                client_id=self.config.client_id,
                scopes=self.config.scopes,
                redirect_uri=callback_url,
                state=state,
            )
        except oauth.InvalidShop as exc:
            raise InstallRejected(str(exc)) from None
        domain = normalize_shop_domain(shop_domain)
        base = self.base_url(domain)
        # The simulator serves /admin/oauth/authorize itself.
        return url.replace(f"https://{domain}", base, 1)

    def complete_install(
        self, params: Mapping[str, str], expected_state: str | None
    ) -> Installation:
        try:
            callback = oauth.verify_callback(
                params, client_secret=self.config.client_secret, expected_state=expected_state
            )
            api_url = self._override(callback.shop_domain)
            token = oauth.exchange_code(
                callback.shop_domain,
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
                code=callback.code,
                base_url=api_url,
            )
        except oauth.OAuthError as exc:
            # Includes an unreachable token endpoint: the code is single-use, so the
            # merchant has to start the install again either way.
            raise InstallRejected(f"install rejected: {exc}") from None
        return self._installation(callback.shop_domain, token, api_url)

    def install_from_session_token(
        self, authorization_header: str | None, api_url: str | None = None
    ) -> Installation:
        """Token exchange for an embedded app: App Bridge's session token → offline token."""
        try:
            claims = session_token.decode_session_token(
                authorization_header,
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
            )
        except session_token.SessionTokenInvalid as exc:
            raise InstallRejected(str(exc)) from None
        assert authorization_header is not None  # decode_session_token refuses None
        raw_token = authorization_header.strip().split(" ", 1)[-1].strip()
        base = api_url or self._override(claims.shop_domain)
        try:
            token = oauth.exchange_session_token(
                claims.shop_domain,
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
                session_token=raw_token,
                base_url=base,
            )
        except oauth.OAuthError as exc:
            raise InstallRejected(f"token exchange rejected: {exc}") from None
        return self._installation(claims.shop_domain, token, base)

    def _override(self, domain: str) -> str | None:
        override = (self.config.api_base_override or {}).get(domain)
        return override.rstrip("/") if override else None

    def _installation(
        self, domain: str, token: oauth.AccessToken, api_url: str | None
    ) -> Installation:
        credentials = {"access_token": token.access_token, "scope": ",".join(token.scopes)}
        shop_id: str | None = None
        name: str | None = None
        try:
            data = self.client(ShopAccess(domain, api_url, credentials)).execute(SHOP_IDENTITY).data
            shop = data.get("shop") or {}
            shop_id = mapping.remote_id(shop.get("id"), "Shop")
            name = shop.get("name") if isinstance(shop.get("name"), str) else None
        except (ShopifyError, ValueError) as exc:
            # Nice to have: the install stands without it.
            logger.warning("shopify install: shop identity unavailable (%s)", type(exc).__name__)
        return Installation(domain, credentials, api_url, remote_shop_id=shop_id, name=name)

    # -- embedded admin ------------------------------------------------------------------

    def authenticate_admin(self, authorization: str | None) -> AdminIdentity:
        """App Bridge's session token (``Bearer <jwt>``): HS256 with our client secret, for
        our client id, unexpired, issued by the shop it names."""
        try:
            claims = session_token.decode_session_token(
                authorization,
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
            )
        except session_token.SessionTokenInvalid as exc:
            raise AdminAuthRejected(str(exc)) from None
        return AdminIdentity(shop_domain=claims.shop_domain, user_id=claims.user_id)

    def admin_embedding(self, shop_domain: str | None) -> AdminEmbedding:
        """The store's admin frames us from admin.shopify.com (or its own legacy /admin);
        App Bridge loads from Shopify's CDN and reads our client id from a meta tag."""
        if shop_domain is None:
            ancestors: tuple[str, ...] = ("https://*.myshopify.com", ADMIN_ORIGIN)
            entry = None
        else:
            domain = normalize_shop_domain(shop_domain)
            ancestors = (f"https://{domain}", ADMIN_ORIGIN)
            entry = f"https://{domain}/admin/apps/{self.config.client_id}"
        return AdminEmbedding(
            frame_ancestors=ancestors,
            script_urls=(APP_BRIDGE_URL,),
            meta={"shopify-api-key": self.config.client_id},
            entry_url=entry,
        )

    def customer_admin_url(self, shop_domain: str, remote_id: str) -> str | None:
        if not remote_id.isdigit():
            return None
        return f"https://{normalize_shop_domain(shop_domain)}/admin/customers/{remote_id}"

    # -- webhook subscriptions -----------------------------------------------------------

    def register_webhooks(self, shop: ShopAccess, callback_url: str) -> None:
        """Create each SUBSCRIBED_TOPICS subscription to ``callback_url`` that is missing.

        Subscriptions to other URLs are left alone (another deployment may own them).
        """
        with _in_port_terms():
            self._register_webhooks(self.client(shop), callback_url)

    def _register_webhooks(self, client: ShopifyGraphQLClient, callback_url: str) -> None:
        present = self._subscriptions(client, callback_url)
        failed: dict[str, list[dict[str, Any]]] = {}
        for topic in webhooks.SUBSCRIBED_TOPICS:
            enum = webhooks.graphql_topic(topic)
            if enum in present:
                continue
            result = client.execute(
                queries.WEBHOOK_SUBSCRIPTION_CREATE,
                {"topic": enum, "webhookSubscription": {"uri": callback_url, "format": "JSON"}},
            )
            errors = result.user_errors("webhookSubscriptionCreate")
            if errors:
                failed[enum] = errors
        if failed:
            # A concurrent registration may have won the race ("already taken"): look again.
            present = self._subscriptions(client, callback_url)
            missing = sorted(set(failed) - present)
            if missing:
                raise WebhookRegistrationError(
                    "webhook subscriptions not created: "
                    + "; ".join(f"{t} ({mapping.user_error_summary(failed[t])})" for t in missing)
                )

    @staticmethod
    def _subscriptions(client: ShopifyGraphQLClient, callback_url: str) -> set[str]:
        nodes = client.paginate(
            queries.WEBHOOK_SUBSCRIPTIONS, {"first": DEFAULT_PAGE_SIZE}, "webhookSubscriptions"
        )
        return {
            str(node.get("topic"))
            for node in nodes
            if (node.get("uri") or node.get("callbackUrl")) == callback_url
        }


def build(options: Mapping[str, str]) -> ShopifyGateway:
    """A gateway from plain settings: client_id, client_secret, scopes (comma list),
    api_version, and optionally api_base_override (``domain=url,domain=url``)."""
    client_id = (options.get("client_id") or "").strip()
    client_secret = (options.get("client_secret") or "").strip()
    missing = [
        name
        for name, value in (("client_id", client_id), ("client_secret", client_secret))
        if not value
    ]
    if missing:
        raise ShopifyConfigError(f"Shopify settings missing: {', '.join(missing)}")
    scopes = tuple(s.strip() for s in (options.get("scopes") or "").split(",") if s.strip())
    return ShopifyGateway(
        ShopifyAppConfig(
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            api_version=(options.get("api_version") or "").strip() or DEFAULT_API_VERSION,
            api_base_override=_parse_overrides(options.get("api_base_override") or ""),
        )
    )


def _parse_overrides(text: str) -> dict[str, str] | None:
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        domain, sep, url = item.partition("=")
        if not sep or not url.strip().startswith(("http://", "https://")):
            raise ShopifyConfigError("api_base_override must be domain=url pairs")
        try:
            overrides[normalize_shop_domain(domain)] = url.strip()
        except InvalidShopDomain as exc:
            raise ShopifyConfigError(str(exc)) from None
    return overrides or None
