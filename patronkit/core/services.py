"""Use cases: the operations the outer layers call, each inside a caller's unit of work.

They take a unit of work that is already open and do not commit: the caller decides where the
transaction ends, so sync can write its outbox rows in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from patronkit.core.domain.customer import (
    Customer,
    CustomerMerge,
    DuplicateFlag,
    duplicate_reason,
    merge_customers,
)
from patronkit.core.domain.privacy import PrivacyRequest
from patronkit.core.ports import UnitOfWork


def register_customer(
    uow: UnitOfWork,
    merchant_id: UUID,
    *,
    email: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    updated_at: datetime | None = None,
) -> Customer:
    """Create a customer and flag the existing ones that are probably the same person."""
    tenant = uow.tenant(merchant_id)
    customer = Customer.create(
        merchant_id,
        email=email,
        phone=phone,
        first_name=first_name,
        last_name=last_name,
        updated_at=updated_at,
    )
    tenant.customers.add(customer)
    flag_duplicates_among(uow, merchant_id, [customer])
    return customer


def flag_likely_duplicates(uow: UnitOfWork, customer: Customer) -> list[DuplicateFlag]:
    return flag_duplicates_among(uow, customer.merchant_id, [customer])


def flag_duplicates_among(
    uow: UnitOfWork, merchant_id: UUID, customers: Sequence[Customer]
) -> list[DuplicateFlag]:
    """Flag, once per pair, every customer that is probably the same person as one given."""
    if not customers:
        return []
    tenant = uow.tenant(merchant_id)
    flags: list[DuplicateFlag] = []
    flagged: set[frozenset[UUID]] = set()
    given = {customer.id: customer for customer in customers}
    for customer_id, others in tenant.customers.likely_duplicates_among(customers).items():
        customer = given[customer_id]
        for other in others:
            pair = frozenset((customer.id, other.id))
            reason = duplicate_reason(customer, other)
            if reason is None or pair in flagged:
                continue
            flagged.add(pair)
            flag = DuplicateFlag(merchant_id, customer.id, other.id, reason)
            tenant.audit.flag(flag)
            flags.append(flag)
    return flags


def merge(
    uow: UnitOfWork,
    merchant_id: UUID,
    survivor_id: UUID,
    absorbed_id: UUID,
    *,
    actor: str,
    now: datetime,
) -> CustomerMerge:
    """Merge two customers of one merchant and keep the audit record."""
    tenant = uow.tenant(merchant_id)
    record = merge_customers(
        tenant.customers.get(survivor_id), tenant.customers.get(absorbed_id), actor, now
    )
    tenant.audit.record_merge(record)
    return record


def redact_customer(
    uow: UnitOfWork, request: PrivacyRequest, customer: Customer | None, now: datetime
) -> PrivacyRequest:
    """Erase a person's data in core and keep the record of having done it."""
    tenant = uow.tenant(request.merchant_id)
    if customer is None:
        request.complete(now, found=False)
    else:
        erased = customer.redact(now)
        detached = tenant.orders.detach_customer(customer.id)
        request.customer_id = customer.id
        request.complete(now, found=True, orders_detached=detached, **erased)
    tenant.audit.record_privacy_request(request)
    return request


def redact_shop(uow: UnitOfWork, request: PrivacyRequest, now: datetime) -> PrivacyRequest:
    """Forget what one store told us: its orders and store links; people known only through
    that store are erased too."""
    assert request.shop_id is not None
    tenant = uow.tenant(request.merchant_id)
    orders = tenant.orders.delete_for_shop(request.shop_id)
    unlinked = erased = 0
    for customer in tenant.customers.linked_in(request.shop_id):
        customer.unlink(request.shop_id)
        unlinked += 1
        if not customer.links and _known_only_through(customer, request.shop_id):
            customer.redact(now)
            erased += 1
    request.complete(now, orders_deleted=orders, links_removed=unlinked, customers_erased=erased)
    tenant.audit.record_privacy_request(request)
    return request


def _known_only_through(customer: Customer, shop_id: UUID) -> bool:
    return all(event.source.shop_id == shop_id for event in customer.consent_events)
