"""A minimal in-memory platform behind the storefront port, for testing sync on its own.

Its webhook format is deliberately simple JSON; its signature is HMAC-SHA256 hex of the body
with the shop's `webhook_secret` credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.order import FinancialStatus
from patronkit.core.storefront import (
    ChangeKind,
    ConsentPush,
    InboundChange,
    Installation,
    InvalidWebhook,
    PushOutcome,
    RemoteConsent,
    RemoteCustomer,
    RemoteOrder,
    ShopAccess,
    StorefrontGateway,
    StoreUnavailable,
    WebhookEnvelope,
)

SECRET = "fake-webhook-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def customer_payload(
    remote_id: str,
    updated_at: datetime,
    *,
    email: str | None = None,
    consent: tuple[str, str, datetime] | None = None,
    **profile: str,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": remote_id,
        "updated_at": updated_at.isoformat(),
        "email": email,
    }
    payload.update(profile)
    if consent:
        state, level, at = consent
        payload["email_consent"] = {"state": state, "level": level, "at": at.isoformat()}
    return payload


@dataclass
class FakeGateway(StorefrontGateway):
    platform: str = "teststore"
    pushes: list[tuple[str, ConsentPush]] = field(default_factory=list)
    failures_left: int = 0  # the next N pushes raise StoreUnavailable
    missing_customers: set[str] = field(default_factory=set)
    # What customers_updated_since reads, per shop domain.
    customers_in_store: dict[str, list[RemoteCustomer]] = field(default_factory=dict)

    def identify_webhook(self, headers: Mapping[str, str]) -> WebhookEnvelope:
        lowered = {k.lower(): v for k, v in headers.items()}
        if "x-test-shop" not in lowered or "x-test-topic" not in lowered:
            raise InvalidWebhook("missing X-Test-Shop or X-Test-Topic")
        return WebhookEnvelope(
            lowered["x-test-shop"], lowered["x-test-topic"], event_id=lowered.get("x-test-event")
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], shop: ShopAccess) -> bool:
        given = {k.lower(): v for k, v in headers.items()}.get("x-test-signature", "")
        return hmac.compare_digest(given, sign(body, shop.credentials.get("webhook_secret", "")))

    def delivery_key(self, envelope: WebhookEnvelope, body: bytes) -> str:
        return envelope.event_id or ""

    def parse_webhook(self, topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
        if topic == "customer":
            return [InboundChange(ChangeKind.CUSTOMER, customer=self.to_remote(payload))]
        if topic == "uninstalled":
            return [InboundChange(ChangeKind.UNINSTALLED)]
        if topic == "order":
            at = datetime.fromisoformat(payload["updated_at"])
            order = RemoteOrder(
                remote_id=str(payload["id"]),
                updated_at=at,
                placed_at=at,
                total=Decimal(payload["total"]),
                currency="EUR",
                financial_status=FinancialStatus.PAID,
                customer_remote_id=payload.get("customer_id"),
            )
            return [InboundChange(ChangeKind.ORDER, order=order)]
        if topic in {"redact_customer", "data_request", "customer_deleted", "redact_shop"}:
            return [
                InboundChange(
                    ChangeKind(topic),
                    remote_id=payload.get("id"),
                    email=payload.get("email"),
                    reference=payload.get("request"),
                )
            ]
        raise ValueError(f"unknown topic {topic}")

    @staticmethod
    def to_remote(payload: Mapping[str, Any]) -> RemoteCustomer:
        try:
            consents = ()
            if payload.get("email_consent"):
                c = payload["email_consent"]
                consents = (
                    RemoteConsent(
                        Channel.EMAIL,
                        ConsentState(c["state"]),
                        OptInLevel(c["level"]),
                        datetime.fromisoformat(c["at"]),
                    ),
                )
            return RemoteCustomer(
                remote_id=str(payload["id"]),
                updated_at=datetime.fromisoformat(payload["updated_at"]),
                email=payload.get("email"),
                first_name=payload.get("first_name"),
                consents=consents,
            )
        except KeyError as exc:
            raise ValueError(f"payload lacks {exc}") from None

    def customers_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteCustomer]:
        held = self.customers_in_store.get(shop.domain, [])
        return iter([c for c in held if since is None or c.updated_at >= since])

    def orders_updated_since(
        self, shop: ShopAccess, since: datetime | None
    ) -> Iterator[RemoteOrder]:
        return iter(())

    def push_consent(self, shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        if self.failures_left:
            self.failures_left -= 1
            raise StoreUnavailable("simulated outage")
        if push.customer_remote_id in self.missing_customers:
            return PushOutcome.NOT_FOUND
        self.pushes.append((shop.domain, push))
        return PushOutcome.APPLIED

    def begin_install(self, shop_domain: str, callback_url: str, state: str) -> str:
        return f"https://{shop_domain}/approve?state={state}"

    def complete_install(
        self, params: Mapping[str, str], expected_state: str | None
    ) -> Installation:
        return Installation(domain=params["shop"], credentials={"webhook_secret": SECRET})

    def register_webhooks(self, shop: ShopAccess, callback_url: str) -> None:
        return None


def webhook(
    shop: str, topic: str, event: str, payload: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = {
        "X-Test-Shop": shop,
        "X-Test-Topic": topic,
        "X-Test-Event": event,
        "X-Test-Signature": sign(body),
    }
    return body, headers
