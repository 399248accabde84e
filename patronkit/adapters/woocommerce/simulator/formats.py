"""Wire formats WordPress and WooCommerce use: dates, money strings, PHP's JSON encoding."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

# rest_parse_date() accepts RFC 3339 date-times only (with "T" or a space, zone optional).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|z|[+-]\d{2}(?::\d{2})?)?$"
)


def now_utc() -> datetime:
    # WordPress stores dates with one-second precision (MySQL DATETIME, gmdate('U')), so
    # several changes within one second share a timestamp, as they do on a real store.
    return datetime.now(UTC).replace(microsecond=0)


def local_date(value: datetime | None, site_zone: ZoneInfo) -> str | None:
    """The non-_gmt field: site-local wall time with no zone designator, as WordPress sends."""
    if value is None:
        return None
    return value.astimezone(site_zone).strftime("%Y-%m-%dT%H:%M:%S")


def gmt_date(value: datetime | None) -> str | None:
    """The _gmt field: UTC wall time, also without a zone designator."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def is_rfc3339(value: str) -> bool:
    return bool(_RFC3339.match(value))


def query_wall_time(value: str, site_zone: ZoneInfo) -> datetime:
    """A date filter value as WP_Date_Query::build_mysql_datetime() turns it into SQL:
    a value with a zone is converted to the site's wall time, one without is taken as is.
    The result (naive) is compared with the wall time of the queried column."""
    parsed = datetime.fromisoformat(value.strip().replace("z", "Z").replace(" ", "T", 1))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(site_zone).replace(tzinfo=None)
    return parsed


def wall_time(value: datetime, zone: ZoneInfo | None) -> datetime:
    """A stored instant as the naive wall time of a local (zone) or GMT (None) column."""
    return value.astimezone(zone or UTC).replace(tzinfo=None)


def decimal_amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip() or "0")
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not a number") from error


def money(amount: Decimal, decimals: int = 2) -> str:
    """wc_format_decimal( $value, 2 ): a string with two decimals, "59.90"."""
    quantum = Decimal(1).scaleb(-decimals)
    return format(amount.quantize(quantum), "f")


def php_json(payload: Any) -> str:
    """wp_json_encode() with default flags: compact, "/" escaped as "\\/", non-ASCII as \\uXXXX.

    Webhook signatures cover these exact bytes, so a receiver that re-serializes the parsed
    body before checking the signature fails here as it would against a real store.
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/")
