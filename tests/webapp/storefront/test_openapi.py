"""The storefront's OpenAPI document and its routes agree, both ways."""

from __future__ import annotations

import json
import re
from importlib import resources

from flask import Flask

from tests.webapp.storefront.conftest import Shop

STOREFRONT_ENDPOINTS = ("storefront.",)
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def documented() -> dict[str, set[str]]:
    spec = json.loads(
        resources.files("patronkit.webapp").joinpath("static/storefront-openapi.json").read_text()
    )
    assert spec["openapi"].startswith("3.")
    return {path: set(item) & HTTP_METHODS for path, item in spec["paths"].items()}


def routed(app: Flask) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(STOREFRONT_ENDPOINTS):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods or ()} & HTTP_METHODS
        routes.setdefault(path, set()).update(methods)
    return routes


def test_every_route_is_documented_and_every_documented_path_exists(shop: Shop) -> None:
    routes = routed(shop.app)
    assert routes, "no storefront routes registered"
    assert routes == documented()


def test_the_document_is_served(shop: Shop) -> None:
    answer = shop.client.get("/storefront/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json()["paths"].keys() == documented().keys()


def test_the_widget_script_is_served_and_packaged(shop: Shop) -> None:
    answer = shop.client.get("/static/widget/patronkit-consent.js")
    assert answer.status_code == 200
    script = answer.get_data(as_text=True)
    assert "textContent" in script and "innerHTML" not in script.replace("never innerHTML", "")
