"""The storefront side: the public consent API for the widget, the pages a shopper opens from
an email, and the widget script itself (static/widget/patronkit-consent.js)."""

from __future__ import annotations

from flask import Blueprint

from patronkit.webapp.storefront import api, pages

bp = Blueprint("storefront", __name__)
bp.register_blueprint(api.bp)
bp.register_blueprint(pages.bp)

__all__ = ["bp"]
