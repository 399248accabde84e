"""Rows ↔ domain objects, by hand: the domain classes stay plain Python.

Loading restores objects without re-running their validation (the row was valid when it was
written); writing turns an object back into the row it should be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.domain.consent import Channel, ConsentEvent, ConsentSource, Evidence
from patronkit.core.domain.customer import Customer, CustomerMerge, DuplicateFlag, StoreLink
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.privacy import PrivacyRequest
from patronkit.core.domain.referral import ReferralCode
from patronkit.core.domain.settings import MerchantSettings, default_double_opt_in
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store import tables

T = TypeVar("T")
Row = dict[str, Any]


def restore(cls: type[T], fields: Mapping[Any, Any]) -> T:
    """An instance with exactly these attributes, bypassing __init__ and its checks."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


class Mapper(Generic[T]):
    """One class ↔ one table whose column names are the attribute names."""

    def __init__(self, cls: type[T], table: sa.Table) -> None:
        self.cls = cls
        self.table = table
        self.columns = tuple(column.name for column in table.columns)

    def to_row(self, obj: T) -> Row:
        return {name: getattr(obj, name) for name in self.columns}

    def from_row(self, row: Mapping[Any, Any]) -> T:
        return restore(self.cls, {name: row[name] for name in self.columns})

    @staticmethod
    def key(obj: Any) -> UUID:
        key: UUID = obj.id
        return key


class StoreLinkMapper(Mapper[StoreLink]):
    """A link row also names its customer, which the link object does not hold."""

    def __init__(self) -> None:
        super().__init__(StoreLink, tables.store_links)

    def to_row_of(self, link: StoreLink, customer_id: UUID) -> Row:
        return {
            "id": link.id,
            "customer_id": customer_id,
            "shop_id": link.shop_id,
            "remote_id": link.remote_id,
            "remote_updated_at": link.remote_updated_at,
        }

    def from_row(self, row: Mapping[Any, Any]) -> StoreLink:
        return restore(
            StoreLink,
            {
                "id": row["id"],
                "shop_id": row["shop_id"],
                "remote_id": row["remote_id"],
                "remote_updated_at": row["remote_updated_at"],
            },
        )


_EVIDENCE = (
    "wording_id", "wording_version", "wording_sha256", "touchpoint", "ip", "user_agent", "actor",
)  # fmt: skip


class ConsentEventMapper(Mapper[ConsentEvent]):
    """Source and evidence are value objects spread over several columns."""

    def __init__(self) -> None:
        super().__init__(ConsentEvent, tables.consent_events)

    def to_row(self, event: ConsentEvent) -> Row:
        evidence = event.evidence
        return {
            "id": event.id,
            "merchant_id": event.merchant_id,
            "customer_id": event.customer_id,
            "channel": event.channel,
            "purpose": event.purpose,
            "state": event.state,
            "opt_in_level": event.opt_in_level,
            "source_kind": event.source.kind,
            "source_shop_id": event.source.shop_id,
            "occurred_at": event.occurred_at,
            "recorded_at": event.recorded_at,
            **{name: getattr(evidence, name) for name in _EVIDENCE},
        }

    def from_row(self, row: Mapping[Any, Any]) -> ConsentEvent:
        return restore(
            ConsentEvent,
            {
                "id": row["id"],
                "merchant_id": row["merchant_id"],
                "customer_id": row["customer_id"],
                "channel": row["channel"],
                "purpose": row["purpose"],
                "state": row["state"],
                "opt_in_level": row["opt_in_level"],
                "source": restore(
                    ConsentSource, {"kind": row["source_kind"], "shop_id": row["source_shop_id"]}
                ),
                "occurred_at": row["occurred_at"],
                "recorded_at": row["recorded_at"],
                "evidence": restore(Evidence, {name: row[name] for name in _EVIDENCE}),
            },
        )


class CustomerMapper(Mapper[Customer]):
    """The customer row only; links and events are mapped by their own mappers."""

    def __init__(self) -> None:
        super().__init__(Customer, tables.customers)

    def from_row(self, row: Mapping[Any, Any]) -> Customer:
        customer = super().from_row(row)
        customer.links = []
        customer.consent_events = []
        customer.events = []
        return customer


class MerchantSettingsMapper(Mapper[MerchantSettings]):
    """Channel keys and the origin tuple become plain JSON (strings, a list), and back."""

    def __init__(self) -> None:
        super().__init__(MerchantSettings, tables.merchant_settings)

    def to_row(self, settings: MerchantSettings) -> Row:
        return {
            "id": settings.id,
            "merchant_id": settings.merchant_id,
            "double_opt_in": {str(k): v for k, v in sorted(settings.double_opt_in.items())},
            "widget_texts": {k: dict(v) for k, v in settings.widget_texts.items()},
            "storefront_origins": list(settings.storefront_origins),
            "updated_at": settings.updated_at,
        }

    def from_row(self, row: Mapping[Any, Any]) -> MerchantSettings:
        double_opt_in = {
            Channel(k): bool(v) for k, v in row["double_opt_in"].items() if k in set(Channel)
        }
        return restore(
            MerchantSettings,
            {
                "id": row["id"],
                "merchant_id": row["merchant_id"],
                # Channels added since the row was written get their default.
                "double_opt_in": {**default_double_opt_in(), **double_opt_in},
                "widget_texts": {k: dict(v) for k, v in row["widget_texts"].items()},
                "storefront_origins": tuple(row["storefront_origins"]),
                "updated_at": row["updated_at"],
            },
        )


MERCHANTS = Mapper(Merchant, tables.merchants)
SHOPS = Mapper(ShopConnection, tables.shop_connections)
CUSTOMERS = CustomerMapper()
LINKS = StoreLinkMapper()
CONSENT_EVENTS = ConsentEventMapper()
WORDINGS = Mapper(ConsentWording, tables.consent_wordings)
REFERRAL_CODES = Mapper(ReferralCode, tables.referral_codes)
ORDERS = Mapper(OrderSummary, tables.orders)
DUPLICATE_FLAGS = Mapper(DuplicateFlag, tables.duplicate_flags)
MERGES = Mapper(CustomerMerge, tables.customer_merges)
PRIVACY_REQUESTS = Mapper(PrivacyRequest, tables.privacy_requests)
MERCHANT_SETTINGS = MerchantSettingsMapper()
