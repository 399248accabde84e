"""The cached session interface opens the same sessions Flask's own would."""

from __future__ import annotations

from flask import Flask, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from patronkit.webapp.sessions import CachedSessionInterface


def make_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "test-secret"
    app.session_interface = CachedSessionInterface()

    @app.get("/remember/<value>")
    def remember(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/recall")
    def recall() -> str:
        return str(session.get("value", "-"))

    return app


def test_a_request_without_a_cookie_gets_an_empty_cookie_session() -> None:
    app = make_app()
    with app.test_request_context("/recall") as context:
        opened = app.session_interface.open_session(app, context.request)
    assert isinstance(opened, SecureCookieSession)
    assert dict(opened) == {}


def test_a_session_written_by_one_request_is_read_by_the_next() -> None:
    client = make_app().test_client()
    assert client.get("/recall").text == "-"
    client.get("/remember/42")
    assert client.get("/recall").text == "42"


def test_a_cookie_signed_with_another_key_opens_an_empty_session() -> None:
    other = make_app()
    other.secret_key = "another-secret"
    other.session_interface = SecureCookieSessionInterface()
    writer = other.test_client()
    writer.get("/remember/42")
    cookie = writer.get_cookie("session")
    assert cookie is not None
    reader = make_app().test_client()
    reader.set_cookie("session", cookie.value)
    assert reader.get("/recall").text == "-"


def test_a_rotated_key_takes_effect_at_once() -> None:
    app = make_app()
    client = app.test_client()
    client.get("/remember/42")
    app.secret_key = "rotated"
    assert client.get("/recall").text == "-"
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret"]
    assert client.get("/recall").text == "42"
