"""Flask: install/auth flows, admin pages, storefront widget API, webhook endpoints."""

from patronkit.webapp.factory import create_app

__all__ = ["create_app"]
