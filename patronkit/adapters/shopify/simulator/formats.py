"""Wire formats Shopify uses: global ids, timestamps, money strings, escaped JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

GID_PREFIX = "gid://shopify/"


def gid(type_name: str, numeric_id: int) -> str:
    return f"{GID_PREFIX}{type_name}/{numeric_id}"


def parse_gid(value: str, expected_type: str | None = None) -> int | None:
    """Numeric id of a gid, or None if it is malformed or of another type."""
    if not value.startswith(GID_PREFIX):
        return None
    type_name, _, rest = value[len(GID_PREFIX) :].partition("/")
    if expected_type is not None and type_name != expected_type:
        return None
    rest = rest.split("?", 1)[0]
    return int(rest) if rest.isdigit() else None


def gid_type(value: str) -> str | None:
    if not value.startswith(GID_PREFIX):
        return None
    return value[len(GID_PREFIX) :].split("/", 1)[0] or None


def now_utc() -> datetime:
    # Shopify timestamps have one-second precision; keeping ours the same means clients
    # meet the same "several changes in one second" edge cases they will meet for real.
    return datetime.now(UTC).replace(microsecond=0)


def iso(value: datetime | None) -> str | None:
    """GraphQL DateTime form: 2025-01-31T12:00:00Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rest_iso(value: datetime | None) -> str | None:
    """REST/webhook form: 2025-01-31T07:00:00-05:00 style offset; we report UTC."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_datetime(value: str) -> datetime:
    """Accepts ISO date or datetime (Z or offset); naive values are taken as UTC."""
    text = value.strip()
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def money_graphql(amount: Decimal) -> str:
    """GraphQL Decimal scalar as Shopify prints it: "25.0", "129.9", "129.95"."""
    text = format(amount.quantize(Decimal("0.01")), "f")
    if text.endswith("0"):
        text = text[:-1]
    return text


def money_rest(amount: Decimal) -> str:
    """REST/webhook money string: always two decimals, "25.00"."""
    return format(amount.quantize(Decimal("0.01")), "f")


def shopify_json_bytes(payload: Any) -> bytes:
    """Serialize like Shopify's Ruby encoder: compact, with / < > & escaped.

    The escaping matters: an app that re-serializes the parsed body before checking the
    HMAC gets different bytes and a failed check, exactly as in production.
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    text = (
        text.replace("/", "\\/")
        .replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
    )
    return text.encode("utf-8")
