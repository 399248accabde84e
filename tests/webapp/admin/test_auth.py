"""The admin session: from the platform's token on page load, carried by links and forms,
refreshed only by a new platform token; and the headers that keep the pages framed by the
store's admin only."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import itsdangerous
import pytest
from flask.testing import FlaskClient

from patronkit.adapters.shopify.gateway import ShopifyGateway
from patronkit.core.storefront import AdminAuthRejected, AdminIdentity
from patronkit.webapp.admin.auth import SESSION_LIFETIME
from tests.sync.fakes import FakeGateway
from tests.webapp.admin.support import (
    CLIENT_SECRET,
    OTHER_SECRET,
    Seeded,
    bearer,
    login,
    meta_session,
    platform_token,
)


def embedded_load(client: FlaskClient, seeded: Seeded, path: str = "/admin") -> str:
    """The page as Shopify's admin loads it: ?shop=&host=&id_token=."""
    response = client.get(
        path,
        query_string={
            "platform": "shopify",
            "shop": seeded.admin_domain,
            "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWxwaGE",
            "embedded": "1",
            "session": "shopify-own-session-hash",  # Shopify's, not ours: ignored
            "id_token": platform_token(seeded.admin_domain),
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def test_the_gateway_verifies_app_bridge_tokens(shopify: ShopifyGateway) -> None:
    identity = shopify.authenticate_admin(f"Bearer {platform_token('alpha.myshopify.com')}")
    assert identity == AdminIdentity("alpha.myshopify.com", "4242")
    for bad in (
        None,
        "",
        "Bearer ",
        f"Bearer {platform_token('alpha.myshopify.com', secret=OTHER_SECRET)}",
        f"Bearer {platform_token('alpha.myshopify.com', lifetime=-60)}",
        f"Bearer {platform_token('alpha.myshopify.com', aud='other')}",
        f"Bearer {platform_token('alpha.myshopify.com', dest='https://beta.myshopify.com')}",
        f"Bearer {platform_token('evil.example.com')}",
    ):
        with pytest.raises(AdminAuthRejected):
            shopify.authenticate_admin(bad)


def test_a_platform_without_an_embedded_admin_refuses() -> None:
    with pytest.raises(AdminAuthRejected, match="no embedded admin"):
        FakeGateway().authenticate_admin("Bearer anything")
    assert FakeGateway().admin_embedding("x.example").frame_ancestors == ()


def test_the_embedded_page_load_hands_the_page_a_session(
    client: FlaskClient, alpha: Seeded
) -> None:
    html = embedded_load(client, alpha)
    session = meta_session(html)
    # Links and forms carry it: no cookie is set (an iframe would lose it).
    links = re.findall(r'href="(/admin/(?!static/)[^"]*)"', html)
    assert links and all(f"pk_session={session.session}" in link for link in links)
    customers = next(link for link in links if link.startswith("/admin/customers?"))
    response = client.get(customers.replace("&amp;", "&"))
    assert response.status_code == 200 and alpha.marker in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("session") is None


def test_the_session_is_signed_for_its_store_and_user(client: FlaskClient, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    payload = session.session.split(".")[0]
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    forged = ".".join([tampered, *session.session.split(".")[1:]])
    assert client.get("/admin", query_string={"pk_session": forged}).status_code == 401


def test_a_session_lasts_its_lifetime_and_no_longer(
    client: FlaskClient, alpha: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = login(client, alpha.admin_domain)
    assert client.get("/admin", query_string=session.query()).status_code == 200
    later = time.time() + SESSION_LIFETIME.total_seconds() + 5
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = client.get("/admin", query_string=session.query())
    assert response.status_code == 401
    assert "expired" in response.get_data(as_text=True)


def test_only_a_platform_token_refreshes_the_session(client: FlaskClient, alpha: Seeded) -> None:
    first = login(client, alpha.admin_domain)
    # Using our own session to get a new one would let a session live forever.
    again = client.post("/admin/session", headers=bearer(first.session))
    assert again.status_code == 401 and again.get_json()["error"] == "unauthorized"
    fresh = client.post("/admin/session", headers=bearer(platform_token(alpha.admin_domain)))
    body = fresh.get_json()
    assert fresh.status_code == 200 and body["session"] != first.session
    assert body["csrf_token"] != first.csrf_token
    assert body["expires_at"] == pytest.approx(time.time() + SESSION_LIFETIME.total_seconds(), 5)


def test_a_refused_page_offers_the_way_back_and_a_single_retry(
    client: FlaskClient, alpha: Seeded
) -> None:
    response = client.get(
        "/admin/customers", query_string={"platform": "shopify", "shop": alpha.admin_domain}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert f'href="https://{alpha.admin_domain}/admin/apps/' in html
    assert 'data-retry-param="id_token"' in html  # the script asks App Bridge for a token
    # Its script and App Bridge load; there is nothing inline for the policy to block.
    assert "/admin/static/admin.js" in html and "<script>" not in html and "style=" not in html
    # A forged shop name gets no link.
    forged = client.get("/admin", query_string={"platform": "shopify", "shop": "evil.com"})
    assert "/admin/apps/" not in forged.get_data(as_text=True)
    # A refused form post is explained, not retried (it would lose the form).
    posted = client.post("/admin/settings/origins", data={"origins": ""})
    assert posted.status_code == 401
    assert "data-retry-param" not in posted.get_data(as_text=True)


def csp(response_headers: dict[str, str]) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response_headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_pages_are_framed_only_by_their_stores_admin(client: FlaskClient, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    response = client.get("/admin", query_string=session.query())
    policy = csp(dict(response.headers))
    assert policy["frame-ancestors"] == [
        f"https://{alpha.admin_domain}",
        "https://admin.shopify.com",
    ]
    assert policy["script-src"] == ["'self'", "https://cdn.shopify.com"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "X-Frame-Options" not in response.headers  # it would forbid the admin's frame
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    html = response.get_data(as_text=True)
    # App Bridge first, reading the app's client id; nothing else from another origin.
    head = html.split("</head>")[0]
    scripts = re.findall(r'<script src="([^"]+)"', head)
    assert scripts[0] == "https://cdn.shopify.com/shopifycloud/app-bridge.js"
    assert all(s.startswith("/admin/static/") for s in scripts[1:])
    assert re.findall(r'(?:href|src)="(https?://[^"]+)"', head) == [scripts[0]]
    assert '<meta name="shopify-api-key" content="patronkit-admin-test-client">' in head


def test_a_refusal_may_be_framed_by_any_store_admin_of_the_platform(client: FlaskClient) -> None:
    response = client.get("/admin")
    assert csp(dict(response.headers))["frame-ancestors"] == [
        "https://*.myshopify.com",
        "https://admin.shopify.com",
    ]


def test_static_files_need_no_session(client: FlaskClient) -> None:
    for name in ("admin.css", "admin.js"):
        response = client.get(f"/admin/static/{name}")
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_names_the_staff_member_as_actor(
    client: FlaskClient, alpha: Seeded, runtime: object
) -> None:
    token = platform_token(alpha.admin_domain, sub="777")
    response = client.post("/admin/session", headers=bearer(token))
    session = response.get_json()["session"]
    page = client.get(
        f"/admin/customers/{alpha.customer_id('cat')}", query_string={"pk_session": session}
    )
    csrf = meta_session(page.get_data(as_text=True)).csrf_token
    posted = client.post(
        f"/admin/customers/{alpha.customer_id('cat')}/consent",
        data={"pk_session": session, "csrf_token": csrf, "channel": "email", "state": "subscribed"},
    )
    assert posted.status_code == 303
    location = urlsplit(posted.headers["Location"])
    assert parse_qs(location.query)["notice"] == ["consent-saved"]
    shown = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "admin:777" in shown


def test_the_app_secret_is_never_in_a_page(client: FlaskClient, alpha: Seeded) -> None:
    html = embedded_load(client, alpha)
    assert CLIENT_SECRET not in html
