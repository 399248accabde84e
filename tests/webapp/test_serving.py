"""The web app's server: waitress on the given address, with the startup heap frozen."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from patronkit.webapp.serving import THREADS, make_server


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # give the rest of the suite its collector back


def test_the_server_answers_on_loopback_and_freezes_what_startup_built(unfrozen: None) -> None:
    app = Flask(__name__)
    app.add_url_rule("/ping", "ping", lambda: "pong")
    assert gc.get_freeze_count() == 0

    server = make_server(app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        port = server.effective_port
        assert requests.get(f"http://127.0.0.1:{port}/ping", timeout=5).text == "pong"
    finally:
        server.close()
        thread.join(5)
    # The app and everything imported before are out of the collector's reach.
    assert gc.get_freeze_count() > 10_000
    assert server.adj.threads == THREADS
    assert server.adj.clear_untrusted_proxy_headers  # forwarded headers only when trusted
