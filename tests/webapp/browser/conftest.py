"""The admin over real HTTP (waitress on loopback, in a thread) in Debian's Chromium, driven
by Playwright. Chromium is launched exactly as /work/shared/ENVIRONMENT.md says; no browser
is ever downloaded (scripts/test installs Debian's `chromium`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from waitress.server import create_server

from patronkit.adapters.shopify.gateway import ShopifyAppConfig, ShopifyGateway
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.webapp import create_app
from tests.sync.fakes import FakeGateway
from tests.webapp.admin.support import CLIENT_ID, CLIENT_SECRET, Seeded, seed_merchant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[3]


@dataclass
class Live:
    url: str
    runtime: Runtime
    store: FakeGateway


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(settings: Settings, clean_db: object) -> Iterator[Live]:
    store = FakeGateway()
    runtime = build_runtime(
        settings,
        gateways={
            "shopify": ShopifyGateway(ShopifyAppConfig(CLIENT_ID, CLIENT_SECRET, scopes=())),
            "teststore": store,
        },
        immediate=True,
    )
    server = create_server(create_app(runtime=runtime), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="admin-browser-server", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.effective_port}", runtime, store)
    finally:
        # Closed from the server's own loop, which then has nothing left to wait on and ends;
        # closing the socket from here would leave the loop selecting on a closed descriptor.
        server.trigger.pull_trigger(lambda: (server.close(), server.trigger.close()))
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        runtime.close()


@pytest.fixture
def alpha(live: Live) -> Seeded:
    return seed_merchant(live.runtime, "alpha")


@pytest.fixture
def screenshots() -> Path:
    """Where screenshots go (git-ignored): PATRONKIT_SCREENSHOT_DIR, or test-artifacts/."""
    folder = Path(os.environ.get("PATRONKIT_SCREENSHOT_DIR", REPO / "test-artifacts/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
