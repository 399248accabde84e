"""Small value rules shared by the model: emails, phones, timestamps, slugs."""

from __future__ import annotations

import functools
import random
import re
import time
from datetime import UTC, datetime
from uuid import UUID

import phonenumbers

from patronkit.core.domain.errors import InvalidEmail, InvalidPhone, InvalidValue, NaiveDatetime

# Deliberately simple: one @, a dot in the domain, no spaces. Full RFC 5322 accepts addresses
# no storefront would, and the platforms validate deliverability themselves.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_MAX_EMAIL = 254

# Providers that ignore dots in the local part; used only to flag likely duplicates.
_DOT_BLIND_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


# Pure functions called several times per record on hot paths (import, webhooks): cached.
@functools.lru_cache(maxsize=65_536)
def normalize_email(value: str) -> str:
    """Lower-case and trim an email address, or raise InvalidEmail."""
    if not isinstance(value, str):
        raise InvalidEmail(f"email must be a string, got {type(value).__name__}")
    email = value.strip().lower()
    if len(email) > _MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidEmail("not a valid email address")
    return email


@functools.lru_cache(maxsize=65_536)
def canonical_email(email: str) -> str:
    """The address with plus-tags dropped (and dots, for dot-blind providers).

    Two customers with the same canonical email are probably one person; we flag, never merge.
    """
    local, _, domain = normalize_email(email).partition("@")
    local = local.split("+", 1)[0]
    if domain in _DOT_BLIND_DOMAINS:
        domain = _DOT_BLIND_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


@functools.lru_cache(maxsize=65_536)
def normalize_phone(value: str, default_region: str | None = None) -> str:
    """E.164 form of a phone number, or raise InvalidPhone.

    Numbers without a country code need `default_region` (ISO 3166 alpha-2, e.g. "GB").
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidPhone("phone must be a non-empty string")
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    # "Possible" (right length for its country), not "valid" (in an allocated range): stores
    # validate numbers themselves, and the allocation tables lag real numbering plans.
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def require_aware(value: datetime, name: str) -> datetime:
    """The timestamp in UTC; naive timestamps are refused because they cannot be ordered."""
    if not isinstance(value, datetime):
        raise NaiveDatetime(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} has no timezone; give it one (UTC if unsure)")
    return value.astimezone(UTC)


def require_slug(value: str, name: str) -> str:
    """A short lower-case identifier such as a platform key or a consent purpose."""
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InvalidValue(f"{name} must be a lower-case identifier (a-z, 0-9, _ or -)")
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def time_ordered_uuid() -> UUID:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.

    For rows written in a stream (inbox, outbox): consecutive ids land next to each other in
    the primary-key index, so a write touches the index's last page instead of a random one.
    The random part comes from `random`, not the OS: these ids only need to be unique, and
    a system call per id showed up in the webhook endpoint's profile.
    """
    value = (time.time_ns() // 1_000_000) << 80 | random.getrandbits(80)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return UUID(int=value)
