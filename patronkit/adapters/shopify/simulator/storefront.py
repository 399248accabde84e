"""A storefront product page of the simulated shop, for browser tests and demos.

GET /products/<handle> serves a theme-like product page that includes an app's storefront
widget script from the app's own URL, as a theme app embed would: the page and the app are
different origins, so the browser enforces CORS for real. The app's URL is the Flask config
value STOREFRONT_APP_URL of the simulator's app (404 while it is unset).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request

if TYPE_CHECKING:
    from .shop import Shop

_PAGE = """<!doctype html>
<html lang="{locale}">
<head><meta charset="utf-8"><title>{product} - {shop_name}</title></head>
<body>
<header><h1>{shop_name}</h1></header>
<main>
  <h2 id="product-title">{product}</h2>
  <p>A sturdy product for the outdoors.</p>
  <button type="button">Add to cart</button>
  <section id="newsletter" aria-label="Newsletter"></section>
  <script src="{app}/static/widget/patronkit-consent.js" defer
    data-api="{app}" data-platform="shopify" data-shop="{shop_domain}" data-locale="{locale}"
    data-touchpoint="{touchpoint}" data-channels="{channels}" data-target="#newsletter"></script>
</main>
</body>
</html>
"""


def create_storefront_blueprint(shop: Shop) -> Blueprint:
    bp = Blueprint("storefront", __name__)

    @bp.get("/products/<handle>")
    def product_page(handle: str) -> Response:
        app_url = current_app.config.get("STOREFRONT_APP_URL")
        if not app_url:
            abort(404)
        html = _PAGE.format(
            app=escape(str(app_url).rstrip("/")),
            product=escape(handle.replace("-", " ").title()),
            shop_name=escape(shop.config.shop_name),
            shop_domain=escape(shop.config.shop_domain),
            locale=escape(request.args.get("locale", "en")),
            touchpoint=escape(request.args.get("touchpoint", "product_page")),
            channels=escape(request.args.get("channels", "email")),
        )
        return Response(html, mimetype="text/html")

    return bp
