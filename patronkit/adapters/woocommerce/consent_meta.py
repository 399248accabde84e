"""Marketing consent as patronkit keeps it in WooCommerce customer meta data.

WooCommerce has no marketing-consent field, so patronkit stores one meta entry per channel on
the customer (``meta_data`` in the REST API, user meta in WordPress):

    ========================== ==========================================================
    key                        channel
    ========================== ==========================================================
    patronkit_consent_email    email
    patronkit_consent_sms      sms
    patronkit_consent_whatsapp whatsapp
    patronkit_consent_postal   postal
    ========================== ==========================================================

Each value is an object (WordPress stores it serialized; the REST API returns it as JSON):

    {
      "state": "subscribed" | "unsubscribed" | "pending" | "not_subscribed",
      "level": "single" | "confirmed" | "unknown",
      "updated_at": "2026-08-01T12:00:00Z",   ISO 8601, UTC, ending in Z
      "wording_version": 3 | null             the consent wording shown, when known
    }

Rules, shared by every writer (patronkit's pushes, our storefront plugin, a merchant's script):

* The keys do not start with ``_``: WooCommerce hides "protected" (underscore) meta from the
  REST API, and patronkit must read these back.
* ``updated_at`` is when the person acted, not when the entry was written. It is the
  consent's time in core (`RemoteConsent.occurred_at`), so newest-action-wins works across
  stores. A writer sets it on every change.
* A customer without an entry for a channel has said nothing here about that channel: no
  entry is "not said here", never "not subscribed". Any entry present is an explicit
  statement, ``not_subscribed`` included.
* Reading is tolerant: a value may also arrive as a JSON string holding that object (written
  by a tool that does not serialize arrays). A malformed entry is ignored with a log line
  naming the key and the problem, never the value (it is personal data).
* Writing replaces the entry by key (WooCommerce's ``update_meta_data``), so a push is safe to
  repeat.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.storefront import ConsentPush, RemoteConsent

logger = logging.getLogger(__name__)

KEY_PREFIX = "patronkit_consent_"
CHANNEL_KEYS: Mapping[Channel, str] = {channel: KEY_PREFIX + channel.value for channel in Channel}
_CHANNEL_BY_KEY: Mapping[str, Channel] = {key: channel for channel, key in CHANNEL_KEYS.items()}
_MAX_JSON_TEXT = 4096  # a consent object is ~120 bytes; anything far larger is not one

E = TypeVar("E", ConsentState, OptInLevel)


class MalformedConsentMeta(ValueError):
    """A patronkit consent meta entry that cannot be read. ``str()`` names no values."""


def consents_from_meta(meta_data: object) -> tuple[RemoteConsent, ...]:
    """The consents a customer's ``meta_data`` list carries, one per channel at most.

    Entries with other keys are skipped; malformed patronkit entries are logged and skipped.
    Should a key appear twice (WordPress allows it), the newest ``updated_at`` wins.
    """
    newest: dict[Channel, RemoteConsent] = {}
    for key, value in _entries(meta_data):
        channel = _CHANNEL_BY_KEY.get(key)
        if channel is None:
            continue
        try:
            consent = parse_consent_value(channel, value)
        except MalformedConsentMeta as exc:
            logger.warning("woocommerce consent meta %s ignored: %s", key, exc)
            continue
        held = newest.get(channel)
        if held is None or consent.occurred_at > held.occurred_at:
            newest[channel] = consent
    return tuple(newest[channel] for channel in Channel if channel in newest)


def parse_consent_value(channel: Channel, value: object) -> RemoteConsent:
    """One meta value (an object, or a JSON string of one) as the channel's consent.

    ``wording_version`` is not read: the port has no place for it (evidence of wording comes
    from patronkit's own widget events, not from a store's copy)."""
    if isinstance(value, str):
        if len(value) > _MAX_JSON_TEXT:
            raise MalformedConsentMeta("value is too long")
        try:
            value = json.loads(value)
        except ValueError:
            raise MalformedConsentMeta("value is a string but not JSON") from None
    if not isinstance(value, Mapping):
        raise MalformedConsentMeta("value is not an object")
    state = _enum(ConsentState, value.get("state"), "state")
    level_value = value.get("level")
    level = OptInLevel.UNKNOWN if level_value is None else _enum(OptInLevel, level_value, "level")
    return RemoteConsent(channel, state, level, _updated_at(value.get("updated_at")))


def meta_entry(push: ConsentPush) -> dict[str, Any]:
    """The ``meta_data`` item that makes the store hold ``push`` (see the module doc)."""
    return {
        "key": CHANNEL_KEYS[push.channel],
        "value": {
            "state": push.state.value,
            "level": push.opt_in_level.value,
            "updated_at": format_time(push.occurred_at),
            # The port does not carry the wording; null says "not known here".
            "wording_version": None,
        },
    }


def latest_consent_time(consents: Iterable[RemoteConsent]) -> datetime | None:
    return max((consent.occurred_at for consent in consents), default=None)


def format_time(value: datetime) -> str:
    """ISO 8601 in UTC ending in Z, to the microsecond when there is one (exact round trip)."""
    if value.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- readers ----------------------------------------------------------------------------------


def _entries(meta_data: object) -> Iterable[tuple[str, object]]:
    if not isinstance(meta_data, list):
        return
    for item in meta_data:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            yield item["key"], item.get("value")


def _enum(kind: type[E], value: object, name: str) -> E:
    if not isinstance(value, str):
        raise MalformedConsentMeta(f"{name} is missing or not text")
    try:
        return kind(value.strip().lower())
    except ValueError:
        raise MalformedConsentMeta(f"{name} is not a known value") from None


def _updated_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise MalformedConsentMeta("updated_at is missing or not text")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise MalformedConsentMeta("updated_at is not ISO 8601") from None
    if parsed.tzinfo is None:
        # Ambiguous (site time or UTC?); the format says UTC with a Z, so refuse to guess.
        raise MalformedConsentMeta("updated_at has no time zone")
    return parsed.astimezone(UTC)
