"""An app on the test database with jobs run in the request's thread (Huey immediate mode),
a merchant with a Shopify shop and consent wordings, and helpers to look at what changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.domain.consent import Channel
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.settings import MerchantSettings
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store import tables
from patronkit.sync.tables import outbox
from patronkit.webapp import create_app

SHOP_DOMAIN = "acme.myshopify.com"
SHOP_ORIGIN = f"https://{SHOP_DOMAIN}"
EMAIL_TEXT = "Email me news and offers. Unsubscribe at any time."
EMAIL_TEXT_DE = "Schicken Sie mir Neuigkeiten per E-Mail."
SMS_TEXT = "Text me offers. Reply STOP to stop."


@dataclass
class Shop:
    """The test merchant as the storefront sees it, and what the test can inspect."""

    runtime: Runtime
    app: Flask
    client: FlaskClient
    merchant_id: UUID
    shop_id: UUID
    wordings: dict[str, ConsentWording]
    outbox_folder: Path

    @property
    def base(self) -> str:
        return f"/storefront/v1/shops/shopify/{SHOP_DOMAIN}"

    def submission(self, **overrides: Any) -> dict[str, Any]:
        email = self.wordings["email"]
        body: dict[str, Any] = {
            "email": "new.shopper@example.com",
            "channels": {
                "email": {
                    "consent": True,
                    "wording_version": email.version,
                    "wording_sha256": email.sha256,
                }
            },
            "touchpoint": "product_page",
            "locale": "en",
        }
        body.update(overrides)
        return body

    def customers(self) -> list[Customer]:
        with self.runtime.unit_of_work(read_only=True) as uow:
            ids = uow.connection.scalars(
                sa.select(tables.customers.c.id).where(
                    tables.customers.c.merchant_id == self.merchant_id
                )
            ).all()
            return [uow.tenant(self.merchant_id).customers.get(i) for i in ids]

    def customer(self, email: str) -> Customer:
        with self.runtime.unit_of_work(read_only=True) as uow:
            found = uow.tenant(self.merchant_id).customers.by_email(email)
        assert found is not None
        return found

    def mails(self) -> list[Path]:
        if not self.outbox_folder.exists():
            return []
        return sorted(self.outbox_folder.glob("*.eml"))

    def state(self) -> tuple[int, int, int, int]:
        """Customers, consent events, outbox rows and mails: what a refused request must
        leave as it was."""
        with self.runtime.engine.connect() as connection:
            counts = [
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in (tables.customers, tables.consent_events, outbox)
            ]
        return (counts[0], counts[1], counts[2], len(self.mails()))

    def settings(self, change: Callable[[MerchantSettings], None]) -> None:
        with self.runtime.unit_of_work() as uow:
            repo = uow.tenant(self.merchant_id).settings
            settings = repo.get()
            change(settings)
            repo.save(settings)
            uow.commit()


def add_wordings(runtime: Runtime, merchant_id: UUID) -> dict[str, ConsentWording]:
    wordings = {
        "email": ConsentWording(merchant_id, Channel.EMAIL, "en", 1, "Old email wording."),
        "email_de": ConsentWording(merchant_id, Channel.EMAIL, "de", 1, EMAIL_TEXT_DE),
        "sms": ConsentWording(merchant_id, Channel.SMS, "en", 1, SMS_TEXT),
    }
    wordings["email"] = wordings["email"].next_version(EMAIL_TEXT, material=True)
    with runtime.unit_of_work() as uow:
        repo = uow.tenant(merchant_id).wordings
        first = ConsentWording(merchant_id, Channel.EMAIL, "en", 1, "Old email wording.")
        wordings["email_v1"] = first
        repo.add(first)
        for key in ("email", "email_de", "sms"):
            repo.add(wordings[key])
        uow.commit()
    return wordings


def make_shop(
    database_url: str, tmp_path: Path, overrides: dict[str, Any] | None = None, **env: str
) -> Shop:
    settings = Settings.load(
        {
            "PATRONKIT_DATA_DIR": str(tmp_path / "data"),
            "PATRONKIT_DATABASE_URL": database_url,
            "PATRONKIT_PUBLIC_URL": "http://app.test",
            **env,
        }
    )
    runtime = build_runtime(settings, gateways={}, immediate=True)
    app = create_app(runtime=runtime, overrides={"TESTING": True, **(overrides or {})})
    merchant = Merchant(name="Acme Outdoor")
    shop = ShopConnection(merchant_id=merchant.id, platform="shopify", domain=SHOP_DOMAIN)
    with runtime.unit_of_work() as uow:
        uow.merchants.add(merchant)
        uow.tenant(merchant.id).shops.add(shop)
        uow.commit()
    wordings = add_wordings(runtime, merchant.id)
    return Shop(
        runtime,
        app,
        app.test_client(),
        merchant.id,
        shop.id,
        wordings,
        tmp_path / "data" / "outbox",
    )


@pytest.fixture
def make(database_url: str, tmp_path: Path, clean_db: sa.Engine) -> Iterator[Callable[..., Shop]]:
    made: list[Shop] = []

    def factory(overrides: dict[str, Any] | None = None, **env: str) -> Shop:
        shop = make_shop(database_url, tmp_path / f"app{len(made)}", overrides, **env)
        made.append(shop)
        return shop

    yield factory
    for shop in made:
        shop.runtime.close()


@pytest.fixture
def shop(make: Callable[..., Shop]) -> Shop:
    return make()
