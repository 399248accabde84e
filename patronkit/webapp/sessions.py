"""Flask's cookie session, with its signing serializer built once per key set.

Flask builds a new serializer on every request, for every endpoint, whether or not the
view touches the session; on the webhook endpoint that was a tenth of the request's cost.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._cached: tuple[tuple[object, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Keyed on the keys themselves, so a rotated SECRET_KEY takes effect at once.
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._cached
        if cached is None or cached[0] != keys:
            cached = self._cached = (keys, super().get_signing_serializer(app))
        return cached[1]
