"""Short-lived values kept in signed cookies (itsdangerous, keyed by the app's SECRET_KEY).

Each use has its own salt, so a value signed for one purpose is worthless for another.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


def serializer(salt: str) -> URLSafeTimedSerializer:
    key = current_app.secret_key
    if not key:  # an empty key would make every signature forgeable
        raise RuntimeError("SECRET_KEY is not set")
    return URLSafeTimedSerializer(key, salt=salt)


def sign(salt: str, value: Any) -> str:
    """`value` (JSON-serialisable) signed and time-stamped, safe to put in a cookie."""
    return serializer(salt).dumps(value)


def unsign(salt: str, token: str | None, max_age_seconds: int) -> Any | None:
    """The value `sign` produced, or None if absent, tampered with or older than allowed."""
    if not token:
        return None
    try:
        return serializer(salt).loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a subclass
        return None
