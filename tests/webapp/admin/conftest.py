"""Fixtures for the admin tests: an app with the Shopify gateway (for session tokens) and a
fake store platform (where seeded customers live and consent is pushed), two merchants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from patronkit.adapters.shopify.gateway import ShopifyAppConfig, ShopifyGateway
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.webapp import create_app
from tests.sync.fakes import FakeGateway
from tests.webapp.admin.support import CLIENT_ID, CLIENT_SECRET, Seeded, seed_merchant


@pytest.fixture
def shopify() -> ShopifyGateway:
    return ShopifyGateway(ShopifyAppConfig(CLIENT_ID, CLIENT_SECRET, scopes=()))


@pytest.fixture
def fake_store() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def runtime(
    settings: Settings, clean_db: object, shopify: ShopifyGateway, fake_store: FakeGateway
) -> Iterator[Runtime]:
    run = build_runtime(
        settings, gateways={"shopify": shopify, "teststore": fake_store}, immediate=True
    )
    yield run
    run.close()


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def alpha(runtime: Runtime) -> Seeded:
    return seed_merchant(runtime, "alpha")


@pytest.fixture
def beta(runtime: Runtime) -> Seeded:
    return seed_merchant(runtime, "beta")
