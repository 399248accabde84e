"""Apply what a store said (an InboundChange) to core, inside the caller's unit of work.

Storefront data is dirty: an unparseable phone or email is dropped (and counted), never
allowed to stop the rest of the record. Ordering is settled by core: profiles by updated_at,
consent by the ledger's rules.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from patronkit.core import services
from patronkit.core.domain.consent import (
    ConsentEvent,
    ConsentKey,
    ConsentSource,
    Evidence,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import InvalidEmail, InvalidPhone
from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.privacy import PrivacyRequest, PrivacyRequestKind
from patronkit.core.domain.values import normalize_email, normalize_phone
from patronkit.core.ports import UnitOfWork
from patronkit.core.storefront import ChangeKind, InboundChange, RemoteCustomer, RemoteOrder

log = logging.getLogger(__name__)


@dataclass
class ApplyResult:
    """What applying did, for counters and for the corrective pushes sync must queue."""

    customers_touched: int = 0
    orders_touched: int = 0
    dropped_fields: int = 0
    ignored: int = 0
    # (customer, consent key, shop) where the store holds something other than core's answer.
    corrections: list[tuple[Customer, ConsentKey, UUID]] = field(default_factory=list)
    uninstalled: bool = False


def apply_changes(
    uow: UnitOfWork, shop: ShopConnection, changes: list[InboundChange], now: datetime
) -> ApplyResult:
    result = ApplyResult()
    remotes = [c.customer for c in changes if c.kind is ChangeKind.CUSTOMER and c.customer]
    if remotes:
        apply_customers(uow, shop, remotes, result)
    for change in changes:
        if change.kind is ChangeKind.CUSTOMER:
            continue
        elif change.kind is ChangeKind.ORDER and change.order is not None:
            apply_order(uow, shop, change.order, result)
        elif change.kind is ChangeKind.UNINSTALLED:
            shop.mark_uninstalled(now)
            result.uninstalled = True
        elif change.kind is ChangeKind.CUSTOMER_DELETED and change.remote_id:
            customers = uow.tenant(shop.merchant_id).customers
            customer = customers.by_link(shop.id, change.remote_id)
            # The store dropped its record; the person and their consent history stay in core.
            if customer is not None:
                customer.unlink(shop.id)
            # Remembered even if we never saw the record: its creation may still be on its way.
            customers.forget_in_store(shop.id, change.remote_id, now)
        elif change.kind in _PRIVACY:
            apply_privacy_request(uow, shop, change, now)
        else:
            result.ignored += 1
    return result


_PRIVACY = {
    ChangeKind.REDACT_CUSTOMER: PrivacyRequestKind.REDACT_CUSTOMER,
    ChangeKind.REDACT_SHOP: PrivacyRequestKind.REDACT_SHOP,
    ChangeKind.DATA_REQUEST: PrivacyRequestKind.DATA_REQUEST,
}


def apply_privacy_request(
    uow: UnitOfWork, shop: ShopConnection, change: InboundChange, now: datetime
) -> PrivacyRequest:
    request = PrivacyRequest(
        merchant_id=shop.merchant_id,
        kind=_PRIVACY[change.kind],
        received_at=now,
        shop_id=shop.id,
        reference=change.reference,
    )
    if request.kind is PrivacyRequestKind.REDACT_SHOP:
        return services.redact_shop(uow, request, now)
    customer = _find_requester(uow, shop, change)
    if request.kind is PrivacyRequestKind.REDACT_CUSTOMER:
        return services.redact_customer(uow, request, customer, now)
    # A data request is for the merchant to answer: record it open, with whom it concerns.
    request.customer_id = customer.id if customer else None
    uow.tenant(shop.merchant_id).audit.record_privacy_request(request)
    return request


def _find_requester(
    uow: UnitOfWork, shop: ShopConnection, change: InboundChange
) -> Customer | None:
    customers = uow.tenant(shop.merchant_id).customers
    found = customers.by_link(shop.id, change.remote_id) if change.remote_id else None
    if found is None and change.email:
        email = _clean_email(change.email, ApplyResult())
        found = customers.by_email(email) if email else None
    return found


def _clean_email(value: str | None, result: ApplyResult) -> str | None:
    if not value:
        return None
    try:
        return normalize_email(value)
    except InvalidEmail:
        result.dropped_fields += 1
        return None


def _clean_phone(value: str | None, result: ApplyResult) -> str | None:
    if not value:
        return None
    try:
        return normalize_phone(value)
    except InvalidPhone:
        result.dropped_fields += 1
        return None


def apply_customers(
    uow: UnitOfWork, shop: ShopConnection, remotes: Sequence[RemoteCustomer], result: ApplyResult
) -> list[Customer | None]:
    """Apply many customers as one store reports them, with a fixed number of queries.

    Each is found by its store link, then by email, or created; then its profile (if the
    report carries one) and its consents are applied. A report naming nobody we could ever
    reach or match (no email, no phone, unknown link) is ignored, and so is a report of a
    record the store has deleted. Returns the customers of the reports applied, in order
    (None for one ignored for naming nobody).
    """
    customers = uow.tenant(shop.merchant_id).customers
    # A report of a record the store has deleted is older than the deletion: linking it again
    # would bring back a record the store no longer has.
    deleted = customers.deleted_in_store(shop.id, [remote.remote_id for remote in remotes])
    cleaned = [
        (remote, _clean_email(remote.email, result), _clean_phone(remote.phone, result))
        for remote in remotes
        if remote.remote_id not in deleted
    ]
    result.ignored += len(remotes) - len(cleaned)
    by_remote = customers.by_links(shop.id, [remote.remote_id for remote in remotes])
    by_email = customers.by_emails(
        [email for remote, email, _ in cleaned if email and remote.remote_id not in by_remote]
    )
    created: list[Customer] = []
    newly_linked: dict[str, UUID] = {}
    applied: list[Customer | None] = []
    for remote, email, phone in cleaned:
        customer = by_remote.get(remote.remote_id) or (by_email.get(email) if email else None)
        known = customer is not None
        if customer is None:
            if not email and not phone:
                result.ignored += 1
                applied.append(None)
                continue
            customer = Customer.create(
                shop.merchant_id,
                email=email,
                phone=phone,
                first_name=remote.first_name if remote.profile_included else None,
                last_name=remote.last_name if remote.profile_included else None,
                updated_at=remote.updated_at,
            )
            customers.add(customer)
            created.append(customer)
        elif remote.profile_included:
            _update_profile(uow, customer, remote, email, phone)
        if email and customer.email == email:
            by_email[email] = customer
        joined = known and customer.link_for(shop.id) is None
        if customer.link_for(shop.id) is None:
            newly_linked[remote.remote_id] = customer.id
        customer.link(shop.id, remote.remote_id, remote.updated_at)
        by_remote[remote.remote_id] = customer
        _apply_consents(customer, shop, remote, result)
        if joined:
            _share_consents_held_elsewhere(customer, shop, remote, result)
        result.customers_touched += 1
        applied.append(customer)
    services.flag_duplicates_among(uow, shop.merchant_id, created)
    if newly_linked:
        uow.tenant(shop.merchant_id).orders.attach_waiting(shop.id, newly_linked)
    return applied


def _apply_consents(
    customer: Customer, shop: ShopConnection, remote: RemoteCustomer, result: ApplyResult
) -> None:
    source = ConsentSource(SourceKind.STORE, shop.id)
    evidence = Evidence(actor=f"store:{shop.platform}", touchpoint="store")
    for consent in remote.consents:
        customer.record_consent(
            ConsentEvent(
                merchant_id=customer.merchant_id,
                customer_id=customer.id,
                channel=consent.channel,
                state=consent.state,
                opt_in_level=consent.opt_in_level,
                source=source,
                occurred_at=consent.occurred_at,
                evidence=evidence,
            )
        )
        current = customer.consent(consent.channel)
        if current is not None and (current.state, current.opt_in_level) != (
            consent.state,
            consent.opt_in_level,
        ):
            # The store reported something core has already superseded: tell it core's answer.
            result.corrections.append((customer, ConsentKey(consent.channel), shop.id))


def _share_consents_held_elsewhere(
    customer: Customer, shop: ShopConnection, remote: RemoteCustomer, result: ApplyResult
) -> None:
    """A person core already knew (from another store, or our widget) now has a record in this
    store too. Core's consent is the merchant's truth across stores, so what the store does not
    say yet is pushed to it; what it does say was settled by `_apply_consents`."""
    stated = {ConsentKey(consent.channel) for consent in remote.consents}
    for key in customer.consents():
        if key not in stated and key == ConsentKey(key.channel):  # stores hold marketing only
            result.corrections.append((customer, key, shop.id))


def _update_profile(
    uow: UnitOfWork,
    customer: Customer,
    remote: RemoteCustomer,
    email: str | None,
    phone: str | None,
) -> None:
    fields: dict[str, str | None] = {"first_name": remote.first_name, "last_name": remote.last_name}
    if email is not None and email != customer.email:
        owner = uow.tenant(customer.merchant_id).customers.by_email(email)
        if owner is None:
            fields["email"] = email
        # else: another customer holds that address; keep ours and let support merge them.
    if phone is not None:
        fields["phone"] = phone
    if customer.update_profile(remote.updated_at, **fields) and "email" in fields:
        services.flag_likely_duplicates(uow, customer)


def apply_order(
    uow: UnitOfWork, shop: ShopConnection, remote: RemoteOrder, result: ApplyResult
) -> None:
    tenant = uow.tenant(shop.merchant_id)
    customer = None
    if remote.customer_remote_id:
        customer = tenant.customers.by_link(shop.id, remote.customer_remote_id)
    if customer is None and remote.email:
        email = _clean_email(remote.email, result)
        customer = tenant.customers.by_email(email) if email else None
    snapshot = OrderSummary(
        merchant_id=shop.merchant_id,
        shop_id=shop.id,
        remote_id=remote.remote_id,
        customer_id=customer.id if customer else None,
        customer_remote_id=remote.customer_remote_id,
        total=remote.total,
        currency=remote.currency,
        financial_status=remote.financial_status,
        placed_at=remote.placed_at,
        updated_at=remote.updated_at,
        outstanding=remote.outstanding,
        discount_codes=list(remote.discount_codes),
        refunds=list(remote.refunds),
        paid_at=remote.paid_at,
        fulfilled_at=remote.fulfilled_at,
        delivered_at=remote.delivered_at,
        cancelled_at=remote.cancelled_at,
    )
    existing = tenant.orders.by_remote_id(shop.id, remote.remote_id)
    if existing is None:
        tenant.orders.add(snapshot)
    else:
        existing.replace_with(snapshot)
    result.orders_touched += 1
