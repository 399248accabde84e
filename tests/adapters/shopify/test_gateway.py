"""ShopifyGateway against the Shopify simulator over loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from patronkit.adapters.shopify.gateway import (
    ConsentPushRejected,
    ShopifyAppConfig,
    ShopifyConfigError,
    ShopifyGateway,
    WebhookRegistrationError,
    build,
)
from patronkit.adapters.shopify.graphql_client import RetryPolicy
from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.adapters.shopify.simulator.actions import CustomerFields
from patronkit.adapters.shopify.simulator.state import Customer
from patronkit.adapters.shopify.webhooks import SUBSCRIBED_TOPICS, graphql_topic
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.order import FinancialStatus
from patronkit.core.storefront import (
    ChangeKind,
    ConsentPush,
    InstallRejected,
    InvalidWebhook,
    PushOutcome,
    RemoteConsent,
    RemoteCustomer,
    ShopAccess,
    StoreAccessRevoked,
    StoreUnavailable,
)

SCOPES = ("read_customers", "write_customers", "read_orders")
CALLBACK = "https://app.example/shopify/callback"


# -- fixtures --------------------------------------------------------------------------------


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.deliveries.append(Delivery(dict(request.headers), request.get_data()))
        return Response("ok")(environ, start_response)

    def of_topic(self, topic: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.headers.get("X-Shopify-Topic") == topic]


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = make_server("127.0.0.1", 0, receiver.app, threaded=True, request_handler=_Quiet)
    receiver.url = f"http://127.0.0.1:{server.server_port}/webhooks/shopify"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim() -> Iterator[ShopifySimulator]:
    with running_simulator(customers=60, orders=30, seed=11, bulk_duration_seconds=0.2) as sim:
        yield sim


@pytest.fixture
def gateway(sim: ShopifySimulator) -> Iterator[ShopifyGateway]:
    config = ShopifyAppConfig(
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        scopes=SCOPES,
        api_base_override={sim.shop_domain: sim.url},
    )
    gateway = ShopifyGateway(config, page_size=25, bulk_poll_interval=0.05)
    yield gateway
    gateway.close()


@pytest.fixture
def shop(sim: ShopifySimulator) -> ShopAccess:
    return ShopAccess(sim.shop_domain, sim.url, {"access_token": sim.install_app()})


def install_via_code_flow(gateway: ShopifyGateway, sim: ShopifySimulator) -> dict[str, str]:
    """Follow begin_install's URL to the simulator and return the callback's parameters."""
    url = gateway.begin_install(sim.shop_domain, CALLBACK, "nonce-1")
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(CALLBACK)
    return dict(parse_qsl(urlsplit(location).query))


# -- install ---------------------------------------------------------------------------------


def test_install_through_the_oauth_code_flow(
    gateway: ShopifyGateway, sim: ShopifySimulator
) -> None:
    url = gateway.begin_install(sim.shop_domain, CALLBACK, "nonce-1")
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(f"{sim.url}/admin/oauth/authorize?")
    assert query["client_id"] == sim.client_id
    assert query["scope"] == ",".join(SCOPES)
    assert query["state"] == "nonce-1"
    assert query["redirect_uri"] == CALLBACK

    installation = gateway.complete_install(install_via_code_flow(gateway, sim), "nonce-1")

    assert installation.domain == sim.shop_domain
    assert installation.api_url == sim.url
    assert installation.credentials["scope"] == ",".join(SCOPES)
    assert installation.credentials["access_token"] in sim.state.access_tokens
    assert installation.remote_shop_id == str(sim.state.shop_id)
    assert installation.name == sim.state.name
    assert "shpat_" not in repr(installation)


def test_install_for_a_real_shop_points_at_the_shop() -> None:
    gateway = ShopifyGateway(ShopifyAppConfig("id", "secret", SCOPES))
    url = gateway.begin_install("Real-Shop.myshopify.com", CALLBACK, "n")
    assert url.startswith("https://real-shop.myshopify.com/admin/oauth/authorize?")
    with pytest.raises(InstallRejected):
        gateway.begin_install("evil.example.com", CALLBACK, "n")


def test_a_shop_is_keyed_by_its_myshopify_domain_however_it_is_typed() -> None:
    gateway = ShopifyGateway(ShopifyAppConfig("id", "secret", SCOPES))
    assert gateway.canonical_shop("https://Real-Shop.myshopify.com/") == "real-shop.myshopify.com"
    with pytest.raises(InstallRejected):
        gateway.canonical_shop("evil.example.com")


def test_install_rejects_a_wrong_state(gateway: ShopifyGateway, sim: ShopifySimulator) -> None:
    params = install_via_code_flow(gateway, sim)
    with pytest.raises(InstallRejected):
        gateway.complete_install(params, "another-nonce")
    with pytest.raises(InstallRejected):
        gateway.complete_install(params, None)


def test_install_rejects_a_tampered_callback(
    gateway: ShopifyGateway, sim: ShopifySimulator
) -> None:
    params = install_via_code_flow(gateway, sim)
    params["shop"] = "other-shop.myshopify.com"
    with pytest.raises(InstallRejected):
        gateway.complete_install(params, "nonce-1")


def test_install_rejects_a_reused_code(gateway: ShopifyGateway, sim: ShopifySimulator) -> None:
    params = install_via_code_flow(gateway, sim)
    gateway.complete_install(params, "nonce-1")
    with pytest.raises(InstallRejected):
        gateway.complete_install(params, "nonce-1")


def test_install_from_a_session_token(gateway: ShopifyGateway, sim: ShopifySimulator) -> None:
    installation = gateway.install_from_session_token(f"Bearer {sim.mint_session_token()}")
    assert installation.domain == sim.shop_domain
    assert installation.api_url == sim.url
    assert installation.credentials["access_token"] in sim.state.access_tokens
    assert installation.remote_shop_id == str(sim.state.shop_id)


def test_install_from_a_forged_session_token(
    gateway: ShopifyGateway, sim: ShopifySimulator
) -> None:
    forged = sim.mint_session_token(secret="not-the-app-secret-but-long-enough-for-hs256")
    with pytest.raises(InstallRejected):
        gateway.install_from_session_token(f"Bearer {forged}")
    with pytest.raises(InstallRejected):
        gateway.install_from_session_token(None)


# -- webhook subscriptions and inbound webhooks ----------------------------------------------


def subscriptions(sim: ShopifySimulator) -> list[tuple[str, str]]:
    with sim.state.lock:
        return sorted((s.topic, s.callback_url) for s in sim.state.webhook_subscriptions.values())


def test_register_webhooks_is_idempotent(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator, receiver: Receiver
) -> None:
    gateway.register_webhooks(shop, receiver.url)
    first = subscriptions(sim)
    assert first == sorted((graphql_topic(t), receiver.url) for t in SUBSCRIBED_TOPICS)

    gateway.register_webhooks(shop, receiver.url)
    assert subscriptions(sim) == first


def test_register_webhooks_adds_only_what_is_missing(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator, receiver: Receiver
) -> None:
    gateway.register_webhooks(shop, receiver.url)
    with sim.state.lock:
        victim = next(
            key
            for key, s in sim.state.webhook_subscriptions.items()
            if s.topic == "CUSTOMERS_UPDATE"
        )
        del sim.state.webhook_subscriptions[victim]
    gateway.register_webhooks(shop, receiver.url)
    assert len(subscriptions(sim)) == len(SUBSCRIBED_TOPICS)
    assert ("CUSTOMERS_UPDATE", receiver.url) in subscriptions(sim)


def test_register_webhooks_reports_refusals(gateway: ShopifyGateway, shop: ShopAccess) -> None:
    # Shopify refuses plain http outside loopback.
    with pytest.raises(WebhookRegistrationError, match="CUSTOMERS_CREATE"):
        gateway.register_webhooks(shop, "http://app.example/webhooks")


def test_a_real_delivery_verifies_and_parses(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator, receiver: Receiver
) -> None:
    gateway.register_webhooks(shop, receiver.url)
    customer = first_customer_with(sim, lambda c: c.email is not None)
    sim.actions.update_customer(customer.id, CustomerFields(first_name="Renamed"))
    assert sim.wait_for_webhooks()
    (delivery,) = receiver.of_topic("customers/update")

    envelope = gateway.identify_webhook(delivery.headers)
    assert (envelope.shop_domain, envelope.topic) == (sim.shop_domain, "customers/update")
    assert envelope.triggered_at is not None
    assert gateway.verify_webhook(delivery.body, delivery.headers, shop)
    assert not gateway.verify_webhook(delivery.body + b" ", delivery.headers, shop)
    tampered = {**delivery.headers, "X-Shopify-Hmac-Sha256": "AAAA"}
    assert not gateway.verify_webhook(delivery.body, tampered, shop)

    key = gateway.delivery_key(envelope, delivery.body)
    assert key == f"customers/update:{delivery.headers['X-Shopify-Event-Id']}"

    (change,) = gateway.parse_webhook(envelope.topic, json.loads(delivery.body))
    assert change.kind is ChangeKind.CUSTOMER
    assert change.customer is not None
    assert change.customer.remote_id == str(customer.id)
    assert change.customer.first_name == "Renamed"


def test_delivery_key_separates_topics_and_survives_redelivery(gateway: ShopifyGateway) -> None:
    headers = {
        "X-Shopify-Topic": "customers/update",
        "X-Shopify-Shop-Domain": "a.myshopify.com",
        "X-Shopify-Webhook-Id": "w-1",
        "X-Shopify-Event-Id": "e-1",
    }
    redelivery = {**headers, "X-Shopify-Webhook-Id": "w-2"}
    other_topic = {**headers, "X-Shopify-Topic": "customers_email_marketing_consent/update"}

    def key_of(these: dict[str, str]) -> str:
        return gateway.delivery_key(gateway.identify_webhook(these), b"{}")

    key = key_of(headers)
    assert key_of(redelivery) == key
    assert key_of(other_topic) != key
    no_event = {k: v for k, v in headers.items() if k != "X-Shopify-Event-Id"}
    assert key_of(no_event) == "customers/update:w-1"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Shopify-Topic": "customers/update", "X-Shopify-Webhook-Id": "w"},
        {
            "X-Shopify-Topic": "customers/update",
            "X-Shopify-Shop-Domain": "evil.example.com",
            "X-Shopify-Webhook-Id": "w",
        },
    ],
)
def test_identify_webhook_refuses_missing_headers(
    gateway: ShopifyGateway, headers: dict[str, str]
) -> None:
    with pytest.raises(InvalidWebhook):
        gateway.identify_webhook(headers)


# -- reading customers and orders ------------------------------------------------------------

_STATE = {
    "SUBSCRIBED": ConsentState.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
    "PENDING": ConsentState.PENDING,
    "NOT_SUBSCRIBED": ConsentState.NOT_SUBSCRIBED,
}
_LEVEL = {
    "SINGLE_OPT_IN": OptInLevel.SINGLE,
    "CONFIRMED_OPT_IN": OptInLevel.CONFIRMED,
    "UNKNOWN": OptInLevel.UNKNOWN,
    None: OptInLevel.UNKNOWN,
}


def expected_customer(c: Customer) -> RemoteCustomer:
    """The simulator's record in core terms, by the rules documented in mapping.py."""
    consents = []
    for channel, consent, present in (
        (Channel.EMAIL, c.email_consent, c.email is not None),
        (Channel.SMS, c.sms_consent, c.sms_consent is not None),
    ):
        if not present or consent is None:
            continue
        if consent.consent_updated_at is None and consent.marketing_state == "NOT_SUBSCRIBED":
            continue
        consents.append(
            RemoteConsent(
                channel,
                _STATE[consent.marketing_state],
                _LEVEL[consent.opt_in_level],
                consent.consent_updated_at or c.updated_at,
            )
        )
    return RemoteCustomer(
        remote_id=str(c.id),
        updated_at=c.updated_at,
        email=c.email,
        phone=c.phone,
        first_name=c.first_name,
        last_name=c.last_name,
        consents=tuple(consents),
    )


def simulator_customers(sim: ShopifySimulator) -> dict[str, RemoteCustomer]:
    with sim.state.lock:
        return {str(c.id): expected_customer(c) for c in sim.state.customers.values()}


def first_customer_with(sim: ShopifySimulator, predicate: Any) -> Customer:
    with sim.state.lock:
        return next(c for c in sim.state.customers.values() if predicate(c))


def test_customers_by_bulk_and_by_pages_match_the_shop(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    expected = simulator_customers(sim)
    by_bulk = list(gateway.customers_updated_since(shop, None))
    by_pages = list(gateway.customers_by_pages(shop, None))

    assert len(by_bulk) == len(expected) == 60
    assert {c.remote_id: c for c in by_bulk} == expected
    assert {c.remote_id: c for c in by_pages} == expected
    # Pages come oldest change first (sortKey UPDATED_AT), so a reconcile can keep a cursor.
    stamps = [c.updated_at for c in by_pages]
    assert stamps == sorted(stamps)
    assert sim.stats()["api"]["graphql_requests"] > 60 // 25  # really paged


def test_customers_updated_since_returns_only_recent_changes(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    cutoff = datetime.now(UTC) - timedelta(seconds=5)
    changed = first_customer_with(sim, lambda c: c.email is not None)
    sim.actions.set_email_consent(changed.id, "SUBSCRIBED", "CONFIRMED_OPT_IN")
    added = sim.actions.create_customer(CustomerFields(email="new.person@example.com"))

    recent = list(gateway.customers_updated_since(shop, cutoff))

    assert sorted(c.remote_id for c in recent) == sorted([str(changed.id), str(added.id)])
    expected = simulator_customers(sim)
    for customer in recent:
        assert customer == expected[customer.remote_id]


def test_orders_by_bulk_and_by_pages_match_the_shop(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    by_bulk = {o.remote_id: o for o in gateway.orders_updated_since(shop, None)}
    by_pages = {o.remote_id: o for o in gateway.orders_by_pages(shop, None)}
    with sim.state.lock:
        orders = {str(o.id): o for o in sim.state.orders.values()}

    assert len(by_bulk) == len(orders) == 30
    assert by_bulk == by_pages
    for order_id, order in orders.items():
        mapped = by_bulk[order_id]
        assert mapped.total == order.total_price
        assert mapped.currency == order.currency
        assert mapped.customer_remote_id == str(order.customer_id)
        assert mapped.placed_at == order.processed_at
        assert mapped.updated_at == order.updated_at
        assert mapped.financial_status == FinancialStatus(order.financial_status.lower())
        assert mapped.discount_codes == tuple(order.discount_codes)
        assert mapped.outstanding == order.outstanding
        assert [r.amount for r in mapped.refunds] == [r.amount for r in order.refunds]
        assert mapped.fulfilled_at == (
            order.fulfillments[0].created_at if order.fulfillments else None
        )


def test_orders_updated_since(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    cutoff = datetime.now(UTC) - timedelta(seconds=5)
    customer = first_customer_with(sim, lambda c: True)
    order = sim.actions.create_order(customer.id, Decimal("42.50"), discount_codes=["SPRING"])
    sim.actions.refund(order.id, Decimal("2.50"))

    (mapped,) = gateway.orders_updated_since(shop, cutoff)

    assert mapped.remote_id == str(order.id)
    assert mapped.total == Decimal("42.50")
    assert mapped.discount_codes == ("SPRING",)
    assert [r.amount for r in mapped.refunds] == [Decimal("2.50")]
    assert mapped.financial_status is FinancialStatus.PARTIALLY_REFUNDED


# -- pushing consent -------------------------------------------------------------------------

PAST = datetime(2026, 1, 15, 12, 30, 45, tzinfo=UTC)


def consent_push(customer_id: int, state: ConsentState, channel: Channel = Channel.EMAIL) -> Any:
    return ConsentPush(str(customer_id), channel, state, OptInLevel.CONFIRMED, PAST)


def test_push_consent_and_read_it_back(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator, receiver: Receiver
) -> None:
    gateway.register_webhooks(shop, receiver.url)
    customer = first_customer_with(
        sim, lambda c: c.email and c.email_consent.marketing_state != "SUBSCRIBED"
    )

    outcome = gateway.push_consent(shop, consent_push(customer.id, ConsentState.SUBSCRIBED))

    assert outcome is PushOutcome.APPLIED
    with sim.state.lock:
        stored = sim.state.customers[customer.id].email_consent
    assert (stored.marketing_state, stored.opt_in_level) == ("SUBSCRIBED", "CONFIRMED_OPT_IN")
    assert stored.consent_updated_at == PAST
    read_back = {c.remote_id: c for c in gateway.customers_by_pages(shop, None)}
    assert read_back[str(customer.id)].consents[0] == RemoteConsent(
        Channel.EMAIL, ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED, PAST
    )

    # The echo webhook carries our own fact back, timestamp included.
    assert sim.wait_for_webhooks()
    (echo,) = receiver.of_topic("customers_email_marketing_consent/update")
    assert gateway.verify_webhook(echo.body, echo.headers, shop)
    (change,) = gateway.parse_webhook(
        "customers_email_marketing_consent/update", json.loads(echo.body)
    )
    assert change.customer is not None
    assert change.customer.consents == (
        RemoteConsent(Channel.EMAIL, ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED, PAST),
    )

    # Repeating the push is safe: same state, no new echo.
    assert gateway.push_consent(shop, consent_push(customer.id, ConsentState.SUBSCRIBED)) is (
        PushOutcome.APPLIED
    )
    assert sim.wait_for_webhooks()
    assert len(receiver.of_topic("customers_email_marketing_consent/update")) == 1


def test_push_sms_consent(gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator) -> None:
    customer = first_customer_with(sim, lambda c: c.sms_consent is not None)
    push = consent_push(customer.id, ConsentState.UNSUBSCRIBED, Channel.SMS)
    assert gateway.push_consent(shop, push) is PushOutcome.APPLIED
    with sim.state.lock:
        stored = sim.state.customers[customer.id].sms_consent
    assert stored is not None
    assert (stored.marketing_state, stored.consent_updated_at) == ("UNSUBSCRIBED", PAST)


def test_push_not_subscribed(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    untouched = first_customer_with(
        sim, lambda c: c.email and c.email_consent.marketing_state == "NOT_SUBSCRIBED"
    )
    subscribed = first_customer_with(
        sim, lambda c: c.email and c.email_consent.marketing_state == "SUBSCRIBED"
    )
    for customer in (untouched, subscribed):
        push = consent_push(customer.id, ConsentState.NOT_SUBSCRIBED)
        assert gateway.push_consent(shop, push) is PushOutcome.APPLIED
    with sim.state.lock:
        # A store that already does not market keeps its "never asked"...
        assert sim.state.customers[untouched.id].email_consent.marketing_state == "NOT_SUBSCRIBED"
        # ...one that does is told to stop, the only way Shopify can say it.
        assert sim.state.customers[subscribed.id].email_consent.marketing_state == "UNSUBSCRIBED"


def test_push_to_a_deleted_customer_is_not_found(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    customer = sim.actions.create_customer(CustomerFields(email="leaving@example.com"))
    sim.actions.delete_customer(customer.id)
    for state in (ConsentState.SUBSCRIBED, ConsentState.NOT_SUBSCRIBED):
        assert gateway.push_consent(shop, consent_push(customer.id, state)) is (
            PushOutcome.NOT_FOUND
        )


def test_push_to_a_customer_without_an_address_for_the_channel_is_unsupported(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    customer = sim.actions.create_customer(CustomerFields(email="no.phone@example.com"))
    for state in (ConsentState.SUBSCRIBED, ConsentState.NOT_SUBSCRIBED):
        push = consent_push(customer.id, state, Channel.SMS)
        assert gateway.push_consent(shop, push) is PushOutcome.UNSUPPORTED


def test_a_refused_push_is_a_clear_retryable_error(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    customer = first_customer_with(sim, lambda c: c.email is not None)
    # Shopify refuses consent times ahead of its clock (ours may run fast).
    ahead = ConsentPush(
        str(customer.id),
        Channel.EMAIL,
        ConsentState.SUBSCRIBED,
        OptInLevel.SINGLE,
        datetime.now(UTC) + timedelta(hours=1),
    )
    with pytest.raises(ConsentPushRejected, match="INVALID") as caught:
        gateway.push_consent(shop, ahead)
    assert isinstance(caught.value, StoreUnavailable)
    assert "customerEmailMarketingConsentUpdate" in str(caught.value)
    assert customer.email is not None
    assert customer.email not in str(caught.value)


def test_transport_failures_are_reported_in_port_terms(
    gateway: ShopifyGateway, shop: ShopAccess, sim: ShopifySimulator
) -> None:
    customer = first_customer_with(sim, lambda c: c.email is not None)
    push = consent_push(customer.id, ConsentState.SUBSCRIBED)
    revoked = ShopAccess(shop.domain, shop.api_url, {"access_token": "shpat_revoked"})
    with pytest.raises(StoreAccessRevoked):
        gateway.push_consent(revoked, push)
    with pytest.raises(StoreAccessRevoked):
        list(gateway.customers_by_pages(revoked, None))
    with pytest.raises(StoreAccessRevoked):
        gateway.register_webhooks(revoked, "https://app.example/webhooks")

    fast = ShopifyGateway(gateway.config)
    fast.client(shop)._retry = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)
    sim.inject_faults(500, count=2)
    with pytest.raises(StoreUnavailable):
        fast.push_consent(shop, push)
    fast.close()


def test_push_to_an_unsupported_channel(gateway: ShopifyGateway, shop: ShopAccess) -> None:
    push = consent_push(7400000000001, ConsentState.SUBSCRIBED, Channel.WHATSAPP)
    assert gateway.push_consent(shop, push) is PushOutcome.UNSUPPORTED


# -- clients and settings --------------------------------------------------------------------


def test_one_client_per_shop_shared_across_threads(
    gateway: ShopifyGateway, shop: ShopAccess
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(lambda _: gateway.client(shop), range(32)))
    assert all(client is clients[0] for client in clients)
    assert clients[0].endpoint.startswith(shop.api_url or "")
    assert "/admin/api/2026-10/" in clients[0].endpoint
    other = ShopAccess(shop.domain, shop.api_url, {"access_token": "shpat_other"})
    # A new token gets a new client but the same per-shop cost limiter.
    assert gateway.client(other) is not clients[0]
    assert gateway.client(other)._limiter is clients[0]._limiter


def test_real_shops_use_their_own_domain() -> None:
    gateway = ShopifyGateway(ShopifyAppConfig("id", "secret", SCOPES))
    client = gateway.client(ShopAccess("a.myshopify.com", None, {"access_token": "t"}))
    assert client.endpoint == "https://a.myshopify.com/admin/api/2026-10/graphql.json"
    with pytest.raises(ShopifyConfigError):
        gateway.client(ShopAccess("a.myshopify.com", None, {}))


def test_build_from_settings() -> None:
    gateway = build(
        {
            "client_id": "abc",
            "client_secret": "s3cret",
            "scopes": "read_customers, write_customers,,read_orders",
            "api_version": "2026-07",
            "api_base_override": "sim-shop.myshopify.com=http://127.0.0.1:9999",
        }
    )
    assert gateway.platform == "shopify"
    assert gateway.config.scopes == ("read_customers", "write_customers", "read_orders")
    assert gateway.config.api_version == "2026-07"
    assert gateway.base_url("sim-shop.myshopify.com") == "http://127.0.0.1:9999"
    assert "s3cret" not in repr(gateway) + repr(gateway.config)
    assert build({"client_id": "a", "client_secret": "b"}).config.api_version == "2026-10"


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"client_id": "abc"},
        {"client_secret": "s"},
        {"client_id": " ", "client_secret": "s"},
        {"client_id": "a", "client_secret": "b", "api_base_override": "nonsense"},
    ],
)
def test_build_refuses_incomplete_settings(options: dict[str, str]) -> None:
    with pytest.raises(ShopifyConfigError):
        build(options)
