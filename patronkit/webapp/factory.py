"""The Flask application factory (the Flask tutorial's pattern: no app at import time)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from patronkit.config import Settings
from patronkit.webapp import health
from patronkit.webapp.services import Services


def create_app(settings: Settings | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    settings = settings or Settings.load()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Webhook bodies and widget submissions are small; refuse anything larger up front.
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    if overrides:
        app.config.update(overrides)
    services = Services.build(settings)
    app.extensions["patronkit"] = services
    app.register_blueprint(health.bp)
    return app
