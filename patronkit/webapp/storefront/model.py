"""What the storefront use cases take and give: plain values, and the one refusal type.

No Flask here: the HTTP layer turns requests into these and `Refusal` into JSON or a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from patronkit.core.domain.consent import Channel, ConsentState, Evidence
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.settings import FALLBACK_LOCALE, normalize_locale
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.ports import Tenant

# Where a consent was given; the widget's data-touchpoint must be one of these.
TOUCHPOINTS = frozenset(
    {"product_page", "cart", "checkout", "order_status", "account", "footer", "popup",
     "landing_page", "other"}
)  # fmt: skip
CONFIRMATION_TOUCHPOINT = "double_opt_in_link"
PREFERENCE_PAGE_TOUCHPOINT = "preference_page"
PREFERENCE_API_TOUCHPOINT = "preference_link"
ACTOR = "shopper"

# The contact a channel needs. Postal is not offered on the storefront: no address form.
CONTACT_OF: dict[Channel, str] = {
    Channel.EMAIL: "email",
    Channel.SMS: "phone",
    Channel.WHATSAPP: "phone",
}
STOREFRONT_CHANNELS = tuple(CONTACT_OF)


class Refusal(Exception):
    """A request the storefront will not carry out; nothing was changed.

    `status` is the HTTP status the web layer answers with, `code` a stable machine name.
    """

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class Shopper:
    """Who is acting, as far as the request tells: recorded as evidence, never logged."""

    ip: str | None
    user_agent: str | None

    def evidence(self, touchpoint: str, wording: ConsentWording | None) -> Evidence:
        return Evidence(
            wording_id=wording.id if wording else None,
            wording_version=wording.version if wording else None,
            wording_sha256=wording.sha256 if wording else None,
            touchpoint=touchpoint,
            ip=self.ip,
            user_agent=self.user_agent,
            actor=ACTOR,
        )


@dataclass(frozen=True)
class SeenWording:
    """The wording version and fingerprint the shopper's page showed."""

    version: int
    sha256: str


@dataclass(frozen=True)
class ShownChannel:
    channel: Channel
    double_opt_in: bool
    wording: ConsentWording

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "contact": CONTACT_OF[self.channel],
            "double_opt_in": self.double_opt_in,
            "wording": wording_dict(self.wording),
        }


@dataclass(frozen=True)
class Submission:
    email: str | None
    phone: str | None
    choices: dict[Channel, bool]
    seen: dict[Channel, SeenWording]
    touchpoint: str
    locale: str


@dataclass(frozen=True)
class SubmitOutcome:
    status: str  # "confirmation_sent" or "subscribed"
    customer_id: UUID


@dataclass(frozen=True)
class ChannelPreference:
    channel: Channel
    state: ConsentState
    opt_in_level: str | None
    wording: ConsentWording | None  # None: the shopper can withdraw but not subscribe here

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "state": self.state.value,
            "opt_in_level": self.opt_in_level,
            "wording": wording_dict(self.wording) if self.wording else None,
        }


@dataclass(frozen=True)
class PreferenceView:
    locale: str
    texts: dict[str, str]
    channels: list[ChannelPreference] = field(default_factory=list)


class Notifier(Protocol):
    """Sends the shopper's emails (queued: never inside the request)."""

    def send_confirmation(
        self, merchant_id: UUID, customer_id: UUID, locale: str, wordings: dict[Channel, UUID]
    ) -> None: ...

    def send_preference_link(self, merchant_id: UUID, customer_id: UUID, locale: str) -> None: ...


def wording_dict(wording: ConsentWording) -> dict[str, Any]:
    return {
        "id": str(wording.id),
        "version": wording.version,
        "sha256": wording.sha256,
        "locale": wording.locale,
        "text": wording.text,
    }


def parse_locale(value: str | None) -> str:
    if value is None or value == "":
        return FALLBACK_LOCALE
    try:
        return normalize_locale(value)
    except InvalidValue:
        raise Refusal(422, "invalid_locale", "locale must look like 'en' or 'en-GB'") from None


def current_wording(tenant: Tenant, channel: Channel, locale: str) -> ConsentWording | None:
    """The newest wording for the locale, else its language, else English."""
    for candidate in dict.fromkeys([locale, locale.split("-", maxsplit=1)[0], FALLBACK_LOCALE]):
        wording = tenant.wordings.latest(channel, "marketing", candidate)
        if wording is not None:
            return wording
    return None


def check_seen(channel: Channel, seen: SeenWording | None, wording: ConsentWording | None) -> None:
    """Consent counts only for the wording that is current: refuse anything else."""
    if wording is None:
        raise Refusal(422, "channel_not_offered", f"no consent wording for {channel.value}")
    if seen is None:
        raise Refusal(
            422, "wording_missing", f"give the wording version and sha256 shown for {channel}"
        )
    if seen.version != wording.version:
        raise Refusal(
            409,
            "wording_changed",
            f"the {channel.value} wording changed: show the current one and ask again",
            current=wording_dict(wording),
        )
    if seen.sha256 != wording.sha256:
        raise Refusal(
            422,
            "wording_mismatch",
            f"the {channel.value} wording's sha256 does not match version {wording.version}",
        )


def occurred_after_current(customer: Customer, channel: Channel, now: datetime) -> datetime:
    """When a shopper's action happened: now, but after whatever decides the consent today.

    Consent times are kept to the second, and on a tie the more restrictive state wins; an
    action taken in the same second as the state it answers (a confirmation click right after
    the pending sign-up) must still come after it.
    """
    current = customer.consent(channel)
    now = now.replace(microsecond=0)
    if current is not None and current.occurred_at >= now:
        return current.occurred_at + timedelta(seconds=1)
    return now
