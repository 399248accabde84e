"""Signed links for shoppers: the preference link, the double opt-in link, the form token.

Each kind has its own salt, so a token made for one is worthless as another. Tokens carry
ids only (no email address), signed and time-stamped with the app's secret (itsdangerous).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from itsdangerous import BadSignature, SignatureExpired

from patronkit.core.domain.consent import Channel
from patronkit.webapp.signing import serializer

PREFERENCE_SALT = "patronkit.storefront.preferences"
CONFIRMATION_SALT = "patronkit.storefront.double-opt-in"
FORM_SALT = "patronkit.storefront.preference-form"

# In every email, so it must outlive old mails in an inbox; unsubscribing must keep working.
PREFERENCE_MAX_AGE = timedelta(days=730)
CONFIRMATION_MAX_AGE = timedelta(days=7)
# How long a preference page may stay open before its form must be reloaded.
FORM_MAX_AGE = timedelta(hours=2)


class LinkRefused(Exception):
    """The token is not valid: `expired` is True when it was genuine but too old."""

    def __init__(self, expired: bool) -> None:
        super().__init__("link expired" if expired else "link invalid")
        self.expired = expired


@dataclass(frozen=True)
class PreferenceClaim:
    merchant_id: UUID
    customer_id: UUID
    locale: str


@dataclass(frozen=True)
class ConfirmationClaim:
    merchant_id: UUID
    customer_id: UUID
    locale: str
    wordings: dict[Channel, UUID]  # what the shopper saw, per channel to confirm


def _load(salt: str, token: str, max_age: timedelta) -> dict[str, Any]:
    try:
        value = serializer(salt).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise LinkRefused(expired=True) from None
    except BadSignature:
        raise LinkRefused(expired=False) from None
    if not isinstance(value, dict):
        raise LinkRefused(expired=False)
    return value


def preference_token(merchant_id: UUID, customer_id: UUID, locale: str) -> str:
    return str(
        serializer(PREFERENCE_SALT).dumps(
            {"m": str(merchant_id), "c": str(customer_id), "l": locale}
        )
    )


def read_preference_token(token: str) -> PreferenceClaim:
    value = _load(PREFERENCE_SALT, token, PREFERENCE_MAX_AGE)
    try:
        return PreferenceClaim(UUID(value["m"]), UUID(value["c"]), str(value["l"]))
    except (KeyError, ValueError, TypeError):
        raise LinkRefused(expired=False) from None


def confirmation_token(
    merchant_id: UUID, customer_id: UUID, locale: str, wordings: dict[Channel, UUID]
) -> str:
    payload = {
        "m": str(merchant_id),
        "c": str(customer_id),
        "l": locale,
        "w": {channel.value: str(wording_id) for channel, wording_id in wordings.items()},
    }
    return str(serializer(CONFIRMATION_SALT).dumps(payload))


def read_confirmation_token(token: str) -> ConfirmationClaim:
    value = _load(CONFIRMATION_SALT, token, CONFIRMATION_MAX_AGE)
    try:
        wordings = {Channel(k): UUID(v) for k, v in value["w"].items()}
        return ConfirmationClaim(UUID(value["m"]), UUID(value["c"]), str(value["l"]), wordings)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise LinkRefused(expired=False) from None


def form_token(claim: PreferenceClaim) -> str:
    """Posted back by the preference page's form: proof the form came from our page."""
    return str(
        serializer(FORM_SALT).dumps({"m": str(claim.merchant_id), "c": str(claim.customer_id)})
    )


def check_form_token(token: str | None, claim: PreferenceClaim) -> None:
    """Raises LinkRefused unless `token` was made by our page for this same person."""
    value = _load(FORM_SALT, token or "", FORM_MAX_AGE)
    if value.get("m") != str(claim.merchant_id) or value.get("c") != str(claim.customer_id):
        raise LinkRefused(expired=False)
