import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from patronkit.adapters.shopify.session_token import (
    SessionToken,
    SessionTokenInvalid,
    decode_session_token,
)

CLIENT_ID = "client-id"
SECRET = "client-secret-of-at-least-32-bytes-long"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "https://demo.myshopify.com/admin",
        "dest": "https://demo.myshopify.com",
        "aud": CLIENT_ID,
        "sub": "42",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": "f8912129-1af6-4cad-9ca3-76b0f7621087",
        "sid": "aaea182f2732d44c23057c0fea584021a4485b2bd25d3eb7fd349313ad24c685",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def header(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    # Raw JWS so tests can also sign claims PyJWT's encoder would refuse (a numeric iss).
    body = json.dumps(payload).encode()
    return "Bearer " + jwt.PyJWS().encode(body, secret, algorithm=algorithm)


def decode(value: str | None) -> SessionToken:
    return decode_session_token(value, client_id=CLIENT_ID, client_secret=SECRET)


def test_valid_token() -> None:
    payload = claims(dest="https://Demo.myshopify.com")
    payload["iss"] = "https://Demo.myshopify.com/admin"
    token = decode(header(payload))
    assert token == SessionToken(
        shop_domain="demo.myshopify.com",
        user_id="42",
        session_id=payload["sid"],
        expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "Basic abc",
        "Bearer ",
        "Bearer not.a.jwt",
    ],
)
def test_malformed_header(value: str | None) -> None:
    with pytest.raises(SessionTokenInvalid):
        decode(value)


def test_expired() -> None:
    now = int(time.time())
    with pytest.raises(SessionTokenInvalid, match="expired"):
        decode(header(claims(exp=now - 30, nbf=now - 90, iat=now - 90)))


def test_expired_within_leeway_is_accepted() -> None:
    now = int(time.time())
    decode(header(claims(exp=now - 3, nbf=now - 63, iat=now - 63)))


def test_missing_exp() -> None:
    payload = claims()
    del payload["exp"]
    with pytest.raises(SessionTokenInvalid):
        decode(header(payload))


def test_wrong_audience() -> None:
    with pytest.raises(SessionTokenInvalid):
        decode(header(claims(aud="another-app")))


def test_wrong_secret() -> None:
    with pytest.raises(SessionTokenInvalid):
        decode(header(claims(), secret="not-our-secret-but-also-32-bytes-long"))


def test_other_algorithm_refused() -> None:
    with pytest.raises(SessionTokenInvalid):
        decode(header(claims(), secret=SECRET * 2, algorithm="HS512"))


def test_dest_differs_from_iss() -> None:
    with pytest.raises(SessionTokenInvalid):
        decode(header(claims(dest="https://other.myshopify.com")))


@pytest.mark.parametrize(
    ("iss", "dest"),
    [
        ("https://evil.example.com/admin", "https://evil.example.com"),
        ("http://demo.myshopify.com/admin", "http://demo.myshopify.com"),
        (12, "https://demo.myshopify.com"),
        ("https://demo.myshopify.com/admin", ["https://demo.myshopify.com"]),
    ],
)
def test_bad_shop(iss: Any, dest: Any) -> None:
    with pytest.raises(SessionTokenInvalid):
        decode(header(claims(iss=iss, dest=dest)))


@pytest.mark.parametrize("missing", ["sid", "sub", "jti", "dest"])
def test_required_claims(missing: str) -> None:
    payload = claims()
    del payload[missing]
    with pytest.raises(SessionTokenInvalid):
        decode(header(payload))


def test_nbf_in_future_within_leeway() -> None:
    now = int(time.time())
    decode(header(claims(nbf=now + 5)))


def test_nbf_in_future_beyond_leeway() -> None:
    now = int(time.time())
    with pytest.raises(SessionTokenInvalid):
        decode(header(claims(nbf=now + 30)))
