"""Use cases: the operations the outer layers call, each inside a caller's unit of work.

They take a unit of work that is already open and do not commit: the caller decides where the
transaction ends, so sync can write its outbox rows in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from patronkit.core.domain.customer import (
    Customer,
    CustomerMerge,
    DuplicateFlag,
    duplicate_reason,
    merge_customers,
)
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
    flag_likely_duplicates(uow, customer)
    return customer


def flag_likely_duplicates(uow: UnitOfWork, customer: Customer) -> list[DuplicateFlag]:
    tenant = uow.tenant(customer.merchant_id)
    flags = []
    for other in tenant.customers.likely_duplicates_of(customer):
        reason = duplicate_reason(customer, other)
        if reason is not None:
            flag = DuplicateFlag(customer.merchant_id, customer.id, other.id, reason)
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
