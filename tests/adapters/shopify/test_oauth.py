import hashlib
import hmac
import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import shopify

from patronkit.adapters.shopify import oauth
from patronkit.adapters.shopify.oauth import (
    AccessToken,
    AmbiguousParameter,
    InvalidHmac,
    InvalidShop,
    MissingParameter,
    StaleRequest,
    StateMismatch,
    TokenEndpointUnavailable,
    TokenRequestRejected,
    build_authorize_url,
    calculate_hmac,
    exchange_code,
    exchange_session_token,
    new_state_nonce,
    verify_callback,
    verify_hmac,
)

SECRET = "hush"
NOW = 1_700_000_000
NONCE = "a" * 64


def sign(params: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    """Independent implementation of the documented rule for simple values."""
    message = "&".join(f"{key}={value}" for key, value in sorted(params.items()))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {**params, "hmac": digest}


def callback(**overrides: str) -> dict[str, str]:
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw",
        "shop": "demo.myshopify.com",
        "state": NONCE,
        "timestamp": str(NOW),
    }
    params.update(overrides)
    return sign(params)


@pytest.fixture
def library_session() -> Iterator[None]:
    """ShopifyAPI keeps the secret on the class; restore it after the cross-check."""
    saved = (shopify.Session.api_key, shopify.Session.secret)
    shopify.Session.setup(api_key="client-id", secret=SECRET)
    yield
    shopify.Session.setup(api_key=saved[0], secret=saved[1])


def test_known_vector() -> None:
    # Published example (hexdocs shopify_oauth): secret "hush".
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    expected = "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
    assert calculate_hmac(params, "hush") == expected
    assert verify_hmac({**params, "hmac": expected}, "hush")


@pytest.mark.parametrize(
    "params",
    [
        {"shop": "demo.myshopify.com", "timestamp": "1", "code": "x"},
        {"shop": "demo.myshopify.com", "weird": "a&b=c%d", "k=ey": "v", "per%cent": "1"},
        {"shop": "demo.myshopify.com", "ids[]": ["1", "2", "3"], "timestamp": "2"},
        {"shop": "demo.myshopify.com", "hmac": "anything", "host": "aGVsbG8="},
    ],
)
def test_matches_shopify_library(library_session: None, params: dict[str, object]) -> None:
    assert calculate_hmac(params, SECRET) == shopify.Session.calculate_hmac(params)  # type: ignore[arg-type]


def test_signature_param_is_ignored() -> None:
    params = callback()
    assert verify_hmac({**params, "signature": "whatever"}, SECRET)


def test_escaping_prevents_splicing() -> None:
    # "a=1&b=2" as one value must not sign the same as two parameters a=1, b=2.
    assert calculate_hmac({"a": "1&b=2"}, SECRET) != calculate_hmac({"a": "1", "b": "2"}, SECRET)


def test_new_state_nonce() -> None:
    first, second = new_state_nonce(), new_state_nonce()
    assert len(first) == 64
    bytes.fromhex(first)
    assert first != second


def test_build_authorize_url() -> None:
    url = build_authorize_url(
        "https://Demo.myshopify.com/",
        client_id="client-id",
        scopes=["read_customers", "write_customers"],
        redirect_uri="https://app.example.com/auth/callback",
        state=NONCE,
        grant_options=["per-user"],
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "demo.myshopify.com",
        "/admin/oauth/authorize",
    )
    assert parse_qs(parts.query) == {
        "client_id": ["client-id"],
        "scope": ["read_customers,write_customers"],
        "redirect_uri": ["https://app.example.com/auth/callback"],
        "state": [NONCE],
        "grant_options[]": ["per-user"],
    }
    plain = build_authorize_url(
        "demo.myshopify.com", client_id="c", scopes=["read_customers"], redirect_uri="r", state="s"
    )
    assert "grant_options" not in plain


def test_build_authorize_url_rejects_bad_shop() -> None:
    with pytest.raises(InvalidShop):
        build_authorize_url("evil.com", client_id="c", scopes=[], redirect_uri="r", state="s")


def verify(params: dict[str, str], **kwargs: object) -> oauth.OAuthCallback:
    options: dict[str, object] = {
        "client_secret": SECRET,
        "expected_state": NONCE,
        "clock": lambda: float(NOW),
    }
    options.update(kwargs)
    return verify_callback(params, **options)  # type: ignore[arg-type]


def test_verify_callback_ok() -> None:
    result = verify(callback(shop="Demo.myshopify.com"))
    assert result.shop_domain == "demo.myshopify.com"
    assert result.code == "0907a61c0c8d55e99db179b68161bc00"
    assert result.host == "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"
    assert result.timestamp.timestamp() == NOW


def test_verify_callback_accepts_list_values() -> None:
    params = {key: [value] for key, value in callback().items()}
    assert verify(params).shop_domain == "demo.myshopify.com"  # type: ignore[arg-type]


def test_tampered_value_fails() -> None:
    params = callback()
    params["shop"] = "other.myshopify.com"
    with pytest.raises(InvalidHmac):
        verify(params)


def test_wrong_secret_fails() -> None:
    with pytest.raises(InvalidHmac):
        verify(callback(), client_secret="other")


@pytest.mark.parametrize("name", ["hmac", "shop", "code", "state", "timestamp"])
def test_missing_parameter(name: str) -> None:
    params = callback()
    del params[name]
    with pytest.raises(MissingParameter):
        verify(params)


def test_repeated_parameter_is_refused() -> None:
    params: dict[str, object] = dict(callback())
    params["code"] = ["a", "b"]
    with pytest.raises(InvalidHmac):
        verify(params)  # type: ignore[arg-type]
    with pytest.raises(AmbiguousParameter):
        calculate_hmac(params, SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "ok"), [(0, True), (90, True), (-90, True), (91, False), (-91, False)]
)
def test_timestamp_window(offset: int, ok: bool) -> None:
    params = callback(timestamp=str(NOW + offset))
    if ok:
        verify(params)
    else:
        with pytest.raises(StaleRequest):
            verify(params)


def test_timestamp_window_is_configurable() -> None:
    params = callback(timestamp=str(NOW - 200))
    verify(params, tolerance_seconds=300)
    with pytest.raises(StaleRequest):
        verify(callback(timestamp="soon"))


def test_invalid_shop_even_when_signed() -> None:
    with pytest.raises(InvalidShop):
        verify(callback(shop="evil.example.com"))


@pytest.mark.parametrize("expected_state", [None, "", "b" * 64])
def test_state_mismatch(expected_state: str | None) -> None:
    with pytest.raises(StateMismatch):
        verify(callback(), expected_state=expected_state)


@responses.activate
def test_exchange_code() -> None:
    responses.post(
        "https://demo.myshopify.com/admin/oauth/access_token",
        json={"access_token": "shpat_123", "scope": "read_customers,write_customers"},
        match=[
            responses.matchers.json_params_matcher(
                {"client_id": "cid", "client_secret": "csecret", "code": "the-code"}
            )
        ],
    )
    token = exchange_code(
        "demo.myshopify.com", client_id="cid", client_secret="csecret", code="the-code"
    )
    assert token == AccessToken("shpat_123", ("read_customers", "write_customers"))
    assert "shpat_123" not in repr(token)
    assert responses.calls[0].request.req_kwargs["timeout"] == oauth.DEFAULT_TIMEOUT  # type: ignore[attr-defined]


@responses.activate
def test_exchange_session_token_against_base_url() -> None:
    responses.post(
        "http://127.0.0.1:8765/admin/oauth/access_token",
        json={"access_token": "shpat_x", "scope": "read_customers", "expires_in": 3600},
        match=[
            responses.matchers.json_params_matcher(
                {
                    "client_id": "cid",
                    "client_secret": "csecret",
                    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                    "subject_token": "jwt.value.here",
                    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                    # literal on purpose: the constant itself is under test
                    "requested_token_type": "urn:shopify:params:oauth:token-type:"
                    "offline-access-token",
                }
            )
        ],
    )
    token = exchange_session_token(
        "demo.myshopify.com",
        client_id="cid",
        client_secret="csecret",
        session_token="jwt.value.here",
        base_url="http://127.0.0.1:8765/",
    )
    assert token.access_token == "shpat_x"
    assert token.expires_in == 3600


@responses.activate
def test_online_token_exchange_type() -> None:
    responses.post(
        "https://demo.myshopify.com/admin/oauth/access_token",
        json={"access_token": "t", "scope": ""},
    )
    exchange_session_token(
        "demo.myshopify.com", client_id="c", client_secret="s", session_token="j", online=True
    )
    body = json.loads(responses.calls[0].request.body or b"")
    assert body["requested_token_type"] == "urn:shopify:params:oauth:token-type:online-access-token"


@responses.activate
def test_rejected_exchange() -> None:
    responses.post(
        "https://demo.myshopify.com/admin/oauth/access_token",
        status=400,
        json={"error": "invalid_subject_token", "error_description": "bad"},
    )
    with pytest.raises(TokenRequestRejected) as info:
        exchange_session_token(
            "demo.myshopify.com", client_id="c", client_secret="s", session_token="j"
        )
    assert info.value.status == 400
    assert info.value.error == "invalid_subject_token"
    assert "s" not in str(info.value).split()  # no secret in the message


@responses.activate
@pytest.mark.parametrize(
    "reply",
    [
        {"status": 502, "body": "bad gateway"},
        {"body": requests.ConnectionError("boom")},
        {"body": requests.Timeout("slow")},
        {"status": 200, "json": {"scope": "read_customers"}},
    ],
)
def test_unavailable_exchange(reply: dict[str, object]) -> None:
    responses.post("https://demo.myshopify.com/admin/oauth/access_token", **reply)
    with pytest.raises(TokenEndpointUnavailable):
        exchange_code("demo.myshopify.com", client_id="c", client_secret="s", code="x")


def test_exchange_rejects_bad_shop_before_any_request() -> None:
    with pytest.raises(InvalidShop):
        exchange_code("evil.example.com", client_id="c", client_secret="s", code="x")
