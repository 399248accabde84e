"""Index routes and system_status: how a client finds the API and checks its keys.

The indexes answer without credentials; system_status needs a key with read access, so
a 200 there proves the keys work (a 401 says why they do not).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response

from .errors import json_response
from .rest_common import require_key

if TYPE_CHECKING:
    from .store import Store

ROUTES = (
    "customers",
    "customers/batch",
    "customers/(?P<id>[\\d]+)",
    "orders",
    "orders/(?P<id>[\\d]+)",
    "coupons",
    "coupons/(?P<id>[\\d]+)",
    "webhooks",
    "webhooks/(?P<id>[\\d]+)",
    "system_status",
)


def _gmt_offset_hours(store: Store) -> float | int:
    offset = datetime.now(store.config.zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset else 0
    return int(hours) if float(hours).is_integer() else hours


def register_root(bp: Blueprint, store: Store) -> None:
    @bp.get("/wp-json/")
    @bp.get("/wp-json")
    def site_index() -> Response:
        site = store.site_view()
        return json_response(
            {
                "name": store.config.site_name,
                "description": "",
                "url": store.home_url,
                "home": store.home_url,
                "gmt_offset": _gmt_offset_hours(store),
                "timezone_string": store.config.timezone,
                "namespaces": ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wp/v2"],
                "authentication": [],
                "routes": {"/": {"namespace": ""}},
                "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
                "site_icon_url": "",
                "rest_url": site.rest_url(""),
            }
        )


def register(bp: Blueprint, store: Store) -> None:
    @bp.get("")
    @bp.get("/")
    def namespace_index() -> Response:
        site = store.site_view()
        return json_response(
            {
                "namespace": "wc/v3",
                "routes": {
                    f"/wc/v3/{route}": {"namespace": "wc/v3", "_links": {}} for route in ROUTES
                },
                "_links": {"up": [{"href": site.rest_url("")}]},
            }
        )

    @bp.get("/system_status")
    def system_status() -> Response:
        require_key("view")
        return json_response(
            {
                "environment": {
                    "home_url": store.home_url,
                    "site_url": store.home_url,
                    "version": store.config.wc_version,
                    "wp_version": store.config.wp_version,
                    "wp_multisite": False,
                    "language": "en_US",
                    "external_object_cache": None,
                    "default_timezone": "UTC",
                },
                "settings": {
                    "api_enabled": True,
                    "force_ssl": False,
                    "currency": store.config.currency,
                    "currency_symbol": store.config.currency_symbol,
                    "currency_position": "right_space",
                    "thousand_separator": ".",
                    "decimal_separator": ",",
                    "number_of_decimals": 2,
                    "geolocation_enabled": False,
                    "woocommerce_com_connected": "no",
                },
                "security": {
                    "secure_connection": store.config.assume_https,
                    "hide_errors": True,
                },
                "active_plugins": [
                    {
                        "plugin": "woocommerce/woocommerce.php",
                        "name": "WooCommerce",
                        "version": store.config.wc_version,
                    }
                ],
                "pages": [],
            }
        )
