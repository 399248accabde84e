"""Creating, changing and deleting webhooks, as the REST webhooks controller (v1-v3) does.

A webhook created through the REST API is always "active": the controller derives the
status from the post status it sets itself and ignores a `status` in the request (only an
update can pause or disable one). Creating it sends the ping synchronously, before the
201 response, whatever the ping's outcome.
"""

from __future__ import annotations

import secrets
import string
from typing import Any
from urllib.parse import urlsplit

from .errors import RestError, not_found
from .formats import now_utc
from .state import ADMIN_USER_ID, WEBHOOK_STATUSES, StoreState, Webhook
from .topics import is_valid_topic
from .webhooks import WebhookDispatcher

_PASSWORD_CHARS = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"


def _valid_url(url: str) -> bool:
    """wc_is_valid_url(): http(s) scheme and a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _invalid_topic(message: str) -> RestError:
    return RestError("woocommerce_rest_shop_webhook_invalid_topic", message, 400)


def _invalid_url() -> RestError:
    return RestError(
        "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        400,
    )


class WebhookAdmin:
    def __init__(self, state: StoreState, dispatcher: WebhookDispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    def get(self, webhook_id: int, status: int = 404) -> Webhook:
        webhook = self.state.webhooks.get(webhook_id)
        if webhook is None:
            message = "Invalid ID." if status == 404 else "ID is invalid."
            raise not_found("shop_webhook", message, status)
        return webhook

    def create(self, fields: dict[str, Any]) -> Webhook:
        topic = str(fields.get("topic") or "")
        if not topic or not is_valid_topic(topic.lower()):
            raise _invalid_topic("Webhook topic is required and must be valid.")
        url = str(fields.get("delivery_url") or "")
        if not url or not _valid_url(url):
            raise _invalid_url()
        now = now_utc()
        with self.state.lock:
            webhook = Webhook(
                id=self.state.next_webhook_id(),
                name=str(fields.get("name") or f"Webhook created on {now:%b %d, %Y @ %I:%M %p}"),
                status="active",
                topic=topic if is_valid_topic(topic) else "",
                delivery_url=url,
                # wp_generate_password( 50, true, true ) when no secret is given.
                secret=str(fields.get("secret") or "")
                or "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(50)),
                user_id=ADMIN_USER_ID,
                date_created=now,
                date_modified=now,
            )
            self.state.webhooks[webhook.id] = webhook
        self.dispatcher.ping(webhook)
        return webhook

    def update(self, webhook_id: int, fields: dict[str, Any]) -> Webhook:
        with self.state.lock:
            webhook = self.get(webhook_id, status=400)
            if fields.get("topic"):
                topic = str(fields["topic"])
                if not is_valid_topic(topic.lower()):
                    raise _invalid_topic("Webhook topic must be valid.")
                webhook.topic = topic if is_valid_topic(topic) else ""
            if fields.get("delivery_url"):
                if not _valid_url(str(fields["delivery_url"])):
                    raise _invalid_url()
                webhook.delivery_url = str(fields["delivery_url"])
            if fields.get("secret"):
                webhook.secret = str(fields["secret"])
            if fields.get("status"):
                status = str(fields["status"])
                if status.lower() not in WEBHOOK_STATUSES:
                    raise RestError(
                        "woocommerce_rest_shop_webhook_invalid_status",
                        "Webhook status must be valid.",
                        400,
                    )
                webhook.status = status if status in WEBHOOK_STATUSES else "disabled"
            if fields.get("name"):
                webhook.name = str(fields["name"])
            webhook.date_modified = now_utc()
            return webhook

    def delete(self, webhook_id: int, *, force: bool) -> Webhook:
        if not force:
            raise RestError(
                "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
            )
        with self.state.lock:
            webhook = self.get(webhook_id)
            del self.state.webhooks[webhook.id]
            return webhook
