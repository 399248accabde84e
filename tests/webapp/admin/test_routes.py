"""Every admin endpoint, from one route table: it works for its own merchant, refuses every
request without a valid session (401), never reaches another merchant's data, and refuses a
POST without the session's CSRF token (403).

The table is checked against the app's URL map, so a new admin endpoint fails here until it
is listed (and so tested).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import itsdangerous
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from patronkit.bootstrap import Runtime
from patronkit.core.store import tables as t
from patronkit.webapp.admin.auth import SESSION_LIFETIME, SESSION_SALT
from patronkit.webapp.signing import sign
from tests.webapp.admin.support import (
    OTHER_SECRET,
    Login,
    Seeded,
    bearer,
    login,
    platform_token,
)


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str  # {customer}, {wording}, {campaign}: ids of the merchant under test
    form: dict[str, str] = field(default_factory=dict)

    @property
    def names_an_object(self) -> bool:
        return "{" in self.path

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/admin/api/") or self.endpoint == "admin.refresh_session"

    def url(self, seeded: Seeded) -> str:
        return self.path.format(
            customer=seeded.customer_id("ann"),
            wording=seeded.wording_v2.id,
            campaign=seeded.campaign_id,
        )


ROUTES = [
    Route("admin.dashboard", "GET", "/admin"),
    Route("admin.refresh_session", "POST", "/admin/session"),
    Route("admin.customers", "GET", "/admin/customers"),
    Route("admin.customer", "GET", "/admin/customers/{customer}"),
    Route(
        "admin.change_consent",
        "POST",
        "/admin/customers/{customer}/consent",
        {"channel": "email", "state": "unsubscribed", "purpose": "marketing"},
    ),
    Route("admin.wordings", "GET", "/admin/wordings"),
    Route(
        "admin.create_wording",
        "POST",
        "/admin/wordings",
        {"channel": "email", "purpose": "marketing", "locale": "en", "text": "Changed text"},
    ),
    Route("admin.wording", "GET", "/admin/wordings/{wording}"),
    Route("admin.ask_reconsent", "POST", "/admin/wordings/{wording}/reconsent"),
    Route("admin.campaign", "GET", "/admin/reconsent/{campaign}"),
    Route("admin.settings", "GET", "/admin/settings"),
    Route(
        "admin.save_double_opt_in",
        "POST",
        "/admin/settings/double-opt-in",
        {"double_opt_in.sms": "on"},
    ),
    Route(
        "admin.save_texts",
        "POST",
        "/admin/settings/texts",
        {"locale": "en", "text.title": "Changed title"},
    ),
    Route(
        "admin.save_origins",
        "POST",
        "/admin/settings/origins",
        {"origins": "https://changed.example"},
    ),
    Route("admin.api_insights", "GET", "/admin/api/insights"),
    Route("admin.api_customer", "GET", "/admin/api/customers/{customer}"),
]
BY_ID = {f"{r.method} {r.endpoint}": r for r in ROUTES}
FORMS = [r for r in ROUTES if r.method == "POST" and r.endpoint != "admin.refresh_session"]
# Static CSS and JS hold no data and are loaded by <link>/<script>, which send no token.
PUBLIC = {"admin.static"}


def route_ids(routes: list[Route]) -> list[str]:
    return [f"{r.method} {r.endpoint}" for r in routes]


def test_the_table_lists_every_admin_endpoint(app: Flask) -> None:
    served = {
        (method, rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and rule.endpoint not in PUBLIC
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    listed = {(r.method, r.endpoint, _rule(r.path)) for r in ROUTES}
    assert served == listed


def _rule(path: str) -> str:
    return (
        path.replace("{customer}", "<uuid:customer_id>")
        .replace("{wording}", "<uuid:wording_id>")
        .replace("{campaign}", "<uuid:campaign_id>")
    )


# -- helpers -------------------------------------------------------------------------------


def call(
    client: FlaskClient,
    route: Route,
    url: str,
    *,
    session: Login | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> TestResponse:
    """Send the route's request the way the page would: a GET link carries the session in
    its query, a form in its fields."""
    if route.method == "GET":
        return client.get(
            url,
            query_string={**(session.query() if session else {}), **(query or {})},
            headers=headers,
        )
    data = dict(route.form) if form is None else form
    if session is not None:
        data = session.form(**data)
    return client.post(url, data=data, headers=headers, query_string=query)


def owner_call(client: FlaskClient, route: Route, seeded: Seeded) -> TestResponse:
    if route.endpoint == "admin.refresh_session":
        return client.post(route.path, headers=bearer(platform_token(seeded.admin_domain)))
    return call(client, route, route.url(seeded), session=login(client, seeded.admin_domain))


def marks(seeded: Seeded, *, with_domain: bool = True) -> list[str]:
    """Text by which a page shows one merchant's data (and, by default, its store's name,
    which every page of its own shows in the header)."""
    return [
        *([seeded.admin_domain] if with_domain else []),
        seeded.marker,
        seeded.wording_v1.text,
        str(seeded.wording_v1.id),
        str(seeded.wording_v2.id),
        f"{seeded.name} newsletter",
        *(str(c.id) for c in seeded.customers.values()),
    ]


def snapshot(run: Runtime, seeded: Seeded) -> dict[str, Any]:
    """Everything of one merchant that an admin request could change or show."""
    m = seeded.merchant_id
    with run.engine.connect() as connection:

        def rows(table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
            query = sa.select(*(table.c[c] for c in columns)).where(table.c.merchant_id == m)
            return sorted(tuple(str(v) for v in row) for row in connection.execute(query))

        return {
            "events": rows(t.consent_events, "id", "customer_id", "state", "actor"),
            "wordings": rows(t.consent_wordings, "id", "version", "text", "material"),
            "campaigns": rows(t.reconsent_campaigns, "id", "wording_id", "target_count"),
            "targets": rows(t.reconsent_targets, "campaign_id", "customer_id"),
            "settings": rows(
                t.merchant_settings, "double_opt_in", "widget_texts", "storefront_origins"
            ),
        }


# -- it works for the owner (so a refusal below is the guard's doing) ---------------------


@pytest.mark.parametrize("route", ROUTES, ids=route_ids(ROUTES))
def test_the_owner_is_served(client: FlaskClient, alpha: Seeded, route: Route) -> None:
    response = owner_call(client, route, alpha)
    expected = 303 if route in FORMS else 200
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]
    if route.method == "GET":
        body = response.get_data(as_text=True)
        assert any(mark in body for mark in marks(alpha, with_domain=False)), "shows no data"


# -- no valid session: 401 -----------------------------------------------------------------


def _forged_session(app: Flask, domain: str, *, key: str | None = None, salt: str = SESSION_SALT,
                    age: float = 0.0) -> str:  # fmt: skip
    payload = {"p": "shopify", "d": domain, "u": "4242", "n": "nonce", "x": 2**31}
    if key is not None:
        return itsdangerous.URLSafeTimedSerializer(key, salt=salt).dumps(payload)

    class Backdated(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    with app.test_request_context():
        if not age:
            return sign(salt, payload)
        serializer = itsdangerous.URLSafeTimedSerializer(
            app.secret_key, salt=salt, signer=Backdated
        )
        return serializer.dumps(payload)


def bad_credentials(app: Flask, seeded: Seeded) -> dict[str, Callable[[Route], dict[str, Any]]]:
    """Ways to fail to prove a connected store, each as call() keyword arguments."""
    domain = seeded.admin_domain
    old = SESSION_LIFETIME.total_seconds() + 5

    def platform(token: str) -> Callable[[Route], dict[str, Any]]:
        def deliver(route: Route) -> dict[str, Any]:
            if route.method == "GET" and not route.is_api:
                return {"query": {"id_token": token}}  # the embedded page load
            return {"headers": bearer(token)}

        return deliver

    def ours(token: str) -> Callable[[Route], dict[str, Any]]:
        def deliver(route: Route) -> dict[str, Any]:
            session = Login(token, "irrelevant")
            if route.endpoint == "admin.refresh_session":
                return {"headers": bearer(token)}
            return {"session": session}

        return deliver

    return {
        "nothing": lambda route: {},
        "another app's secret": platform(platform_token(domain, secret=OTHER_SECRET)),
        "expired": platform(platform_token(domain, issued_at=time.time() - 3600)),
        "another app's audience": platform(platform_token(domain, aud="another-app")),
        "issuer and destination differ": platform(
            platform_token(domain, iss="https://evil.myshopify.com/admin")
        ),
        "a store that is not connected": platform(platform_token("gamma.myshopify.com")),
        "not a token": platform("not-a-jwt"),
        "basic auth": lambda route: {"headers": {"Authorization": "Basic YWRtaW46YWRtaW4="}},
        "session signed with another key": ours(_forged_session(app, domain, key="x" * 32)),
        "session under another salt": ours(
            _forged_session(app, domain, salt="patronkit.install-state")
        ),
        "expired session": ours(_forged_session(app, domain, age=old)),
    }


@pytest.mark.parametrize("route", ROUTES, ids=route_ids(ROUTES))
def test_no_valid_session_is_refused(
    app: Flask, client: FlaskClient, runtime: Runtime, alpha: Seeded, route: Route
) -> None:
    before = snapshot(runtime, alpha)
    failures = []
    for name, credential in bad_credentials(app, alpha).items():
        response = call(client, route, route.url(alpha), **credential(route))
        if response.status_code != 401:
            failures.append(f"{name}: {response.status_code}")
            continue
        assert "frame-ancestors" in response.headers["Content-Security-Policy"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        if route.is_api:
            assert response.get_json()["error"] == "unauthorized", name
        else:
            body = response.get_data(as_text=True)
            assert "Sign-in needed" in body and alpha.marker not in body, name
    assert failures == []
    assert snapshot(runtime, alpha) == before


def test_a_valid_session_of_a_since_uninstalled_store_is_refused(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    assert client.get("/admin", query_string=session.query()).status_code == 200
    with runtime.unit_of_work() as uow:
        shop = uow.merchants.shop_by_domain("shopify", alpha.admin_domain)
        assert shop is not None
        shop.mark_uninstalled(shop.installed_at)
        uow.commit()
    assert client.get("/admin", query_string=session.query()).status_code == 401
    token = platform_token(alpha.admin_domain)
    assert client.get("/admin", query_string={"id_token": token}).status_code == 401


# -- across merchants ------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=route_ids(ROUTES))
def test_a_session_for_one_store_never_reaches_another_merchant(
    client: FlaskClient, runtime: Runtime, alpha: Seeded, beta: Seeded, route: Route
) -> None:
    """Alpha's staff aim at beta's objects (or at pages that list data): beta's data is
    neither shown nor changed."""
    before = snapshot(runtime, beta)
    session = login(client, alpha.admin_domain)
    if route.endpoint == "admin.refresh_session":
        response = client.post(route.path, headers=bearer(platform_token(alpha.admin_domain)))
        assert response.get_json()["shop"] == alpha.admin_domain
    else:
        response = call(client, route, route.url(beta), session=session)
    body = response.get_data(as_text=True)
    if route.names_an_object:
        assert response.status_code == 404, body[:2000]
    else:
        assert response.status_code in {200, 303}, body[:2000]
    assert [mark for mark in marks(beta) if mark in body] == []
    assert snapshot(runtime, beta) == before


def test_a_platform_token_for_one_store_shows_only_its_merchant(
    client: FlaskClient, alpha: Seeded, beta: Seeded
) -> None:
    for seeded, other in ((alpha, beta), (beta, alpha)):
        token = platform_token(seeded.admin_domain)
        body = client.get("/admin/customers", query_string={"id_token": token}).get_data(
            as_text=True
        )
        assert seeded.marker in body and other.marker not in body


# -- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", FORMS, ids=route_ids(FORMS))
def test_a_post_without_this_sessions_csrf_token_is_refused(
    client: FlaskClient, runtime: Runtime, alpha: Seeded, route: Route
) -> None:
    before = snapshot(runtime, alpha)
    session = login(client, alpha.admin_domain)
    other = login(client, alpha.admin_domain)  # same store and user, another session
    url = route.url(alpha)
    attempts = {
        "no token": {"pk_session": session.session, **route.form},
        "empty token": {"pk_session": session.session, "csrf_token": "", **route.form},
        "another session's token": {
            "pk_session": session.session,
            "csrf_token": other.csrf_token,
            **route.form,
        },
        "a forged token": {"pk_session": session.session, "csrf_token": "x" * 40, **route.form},
    }
    for name, data in attempts.items():
        response = client.post(url, data=data)
        assert response.status_code == 403, name
        assert "expired" in response.get_data(as_text=True), name
    # A fresh platform token proves the store, but a form needs the session that rendered it.
    fresh = client.post(url, data=route.form, headers=bearer(platform_token(alpha.admin_domain)))
    assert fresh.status_code == 403
    assert snapshot(runtime, alpha) == before


def test_scripts_may_post_with_the_session_and_csrf_in_headers(
    client: FlaskClient, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    response = client.post(
        "/admin/settings/origins",
        data={"origins": "https://shop.alpha.example"},
        headers={**bearer(session.session), "X-CSRF-Token": session.csrf_token},
    )
    assert response.status_code == 303
