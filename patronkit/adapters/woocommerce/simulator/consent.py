"""patronkit's consent as customer meta: one meta key per channel, an object as the value.

WooCommerce has no marketing-consent field, so patronkit's storefront plugin keeps it in
user meta, e.g. `patronkit_consent_email` = {"state": "subscribed", "level": "confirmed",
"updated_at": "2025-06-01T12:00:00Z", "wording_version": 3}. The simulator stores meta
generically; this module only knows the key names and the value's shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

META_PREFIX = "patronkit_consent_"
CHANNELS = ("email", "sms", "whatsapp", "postal")
STATES = ("subscribed", "unsubscribed", "pending", "not_subscribed")
LEVELS = ("single", "confirmed", "unknown")


def meta_key(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    return META_PREFIX + channel


def utc_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def consent_value(
    state: str,
    level: str = "unknown",
    updated_at: datetime | str | None = None,
    wording_version: int | None = None,
) -> dict[str, Any]:
    """The meta value for one channel; raises ValueError on anything outside the format."""
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    if wording_version is not None and (
        isinstance(wording_version, bool) or not isinstance(wording_version, int)
    ):
        raise ValueError("wording_version must be an integer or null")
    if updated_at is None:
        when = datetime.now(UTC).replace(microsecond=0)
    elif isinstance(updated_at, datetime):
        when = updated_at
    else:
        when = datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError("updated_at needs a zone (use Z for UTC)")
    return {
        "state": state,
        "level": level,
        "updated_at": utc_z(when),
        "wording_version": wording_version,
    }


def read_consent(meta: list[tuple[str, Any]]) -> dict[str, Any]:
    """Channel -> stored value (or None) from (key, value) meta pairs; first key wins."""
    found: dict[str, Any] = dict.fromkeys(CHANNELS)
    for key, value in meta:
        if key.startswith(META_PREFIX):
            channel = key[len(META_PREFIX) :]
            if channel in found and found[channel] is None:
                found[channel] = value
    return found
