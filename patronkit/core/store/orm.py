"""Imperative mapping of the domain classes onto the tables (the domain never imports this)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import composite, registry, relationship

from patronkit.core.domain.consent import ConsentEvent, ConsentSource, Evidence
from patronkit.core.domain.customer import Customer, CustomerMerge, DuplicateFlag, StoreLink
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.privacy import PrivacyRequest
from patronkit.core.domain.referral import ReferralCode
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store import tables

mapper_registry = registry(metadata=tables.metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes once per process (idempotent)."""
    global _mapped  # noqa: PLW0603 - SQLAlchemy's class mapping is process-global by nature
    if _mapped:
        return
    mapper_registry.map_imperatively(Merchant, tables.merchants)
    mapper_registry.map_imperatively(ShopConnection, tables.shop_connections)
    mapper_registry.map_imperatively(StoreLink, tables.store_links)
    c = tables.consent_events.c
    mapper_registry.map_imperatively(
        ConsentEvent,
        tables.consent_events,
        properties={
            "source": composite(ConsentSource, c.source_kind, c.source_shop_id),
            "evidence": composite(
                Evidence,
                c.wording_id,
                c.wording_version,
                c.wording_sha256,
                c.touchpoint,
                c.ip,
                c.user_agent,
                c.actor,
            ),
        },
    )
    mapper_registry.map_imperatively(
        Customer,
        tables.customers,
        properties={
            "links": relationship(
                StoreLink,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=tables.store_links.c.shop_id,
            ),
            "consent_events": relationship(
                ConsentEvent,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=(tables.consent_events.c.occurred_at, tables.consent_events.c.id),
            ),
        },
    )
    mapper_registry.map_imperatively(ConsentWording, tables.consent_wordings)
    mapper_registry.map_imperatively(ReferralCode, tables.referral_codes)
    mapper_registry.map_imperatively(OrderSummary, tables.orders)
    mapper_registry.map_imperatively(DuplicateFlag, tables.duplicate_flags)
    mapper_registry.map_imperatively(CustomerMerge, tables.customer_merges)
    mapper_registry.map_imperatively(PrivacyRequest, tables.privacy_requests)
    event.listen(Customer, "load", _init_domain_events)
    _mapped = True


def _init_domain_events(customer: Customer, _context: Any) -> None:
    # Loading bypasses __init__, where the event list is made.
    customer.events = []
