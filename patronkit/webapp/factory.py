"""The Flask application factory (the Flask tutorial's pattern: no app at import time)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.webapp import admin, health, install, storefront, webhooks
from patronkit.webapp.sessions import CachedSessionInterface


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    overrides: dict[str, Any] | None = None,
) -> Flask:
    if runtime is None:
        runtime = build_runtime(settings or Settings.load())
    app = Flask(__name__)
    app.session_interface = CachedSessionInterface()
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        # Webhook bodies and widget submissions are small; refuse anything larger up front.
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if overrides:
        app.config.update(overrides)
    app.extensions["patronkit"] = runtime
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(install.bp)
    app.register_blueprint(storefront.bp)
    app.register_blueprint(admin.bp)
    return app
