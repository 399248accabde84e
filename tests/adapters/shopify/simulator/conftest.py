"""Fixtures: a running simulator, an installed app's token, and a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes

    @property
    def topic(self) -> str:
        return self.headers["X-Shopify-Topic"]

    @property
    def event_id(self) -> str:
        return self.headers["X-Shopify-Event-Id"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class WebhookReceiver:
    """A local HTTP endpoint that records webhooks and answers as told."""

    url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    # decides the status for each request, given how many times this event came before
    respond: Callable[[ReceivedWebhook, int], int] = lambda webhook, seen: 200
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        webhook = ReceivedWebhook(dict(request.headers), request.get_data())
        with self._lock:
            seen = sum(
                1
                for w in self.received
                if w.headers.get("X-Shopify-Event-Id") == webhook.headers.get("X-Shopify-Event-Id")
            )
            self.received.append(webhook)
        status = self.respond(webhook, seen)
        return Response("ok", status=status)(environ, start_response)

    def topics(self) -> list[str]:
        with self._lock:
            return [w.topic for w in self.received]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = make_server("127.0.0.1", 0, receiver.app, threaded=True, request_handler=_Quiet)
    receiver.url = f"http://127.0.0.1:{server.server_port}/webhooks"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def simulator() -> Iterator[ShopifySimulator]:
    with running_simulator(customers=60, orders=40, seed=7, bulk_duration_seconds=0.2) as sim:
        yield sim


@pytest.fixture
def token(simulator: ShopifySimulator) -> str:
    return simulator.install_app()


GraphQL = Callable[..., dict[str, Any]]


@pytest.fixture
def gql(simulator: ShopifySimulator, token: str) -> GraphQL:
    """POST a query with variables; returns the decoded JSON body (asserting HTTP 200)."""

    def run(query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        response = requests.post(
            simulator.graphql_url(),
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": kwargs.get("access_token", token)},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


def subscribe(gql: GraphQL, topic: str, url: str) -> str:
    body = gql(
        """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
             webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
               webhookSubscription {
                 id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }
               }
               userErrors { field message }
             }
           }""",
        {"topic": topic, "sub": {"callbackUrl": url, "format": "JSON"}},
    )
    payload = body["data"]["webhookSubscriptionCreate"]
    assert payload["userErrors"] == []
    assert payload["webhookSubscription"]["endpoint"]["callbackUrl"] == url
    sub_id: str = payload["webhookSubscription"]["id"]
    return sub_id
