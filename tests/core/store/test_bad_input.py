"""Bad input raises a clear domain error inside a unit of work, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from patronkit.core.domain.consent import (
    ConsentEvent,
    ConsentSource,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import (
    DomainError,
    InvalidEmail,
    NaiveDatetime,
    UnknownChannel,
    UnknownConsentState,
)
from patronkit.core.domain.merchant import Merchant
from patronkit.core.store import tables
from patronkit.core.store.unit_of_work import SqlUnitOfWork

Uow = Callable[[], SqlUnitOfWork]
GOOD: dict[str, Any] = {
    "channel": "email",
    "state": "subscribed",
    "opt_in_level": "single",
    "occurred_at": datetime(2026, 2, 2, tzinfo=UTC),
}


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in tables.metadata.tables.items()
        }


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("channel", "fax", UnknownChannel),
        ("state", "subscribed-ish", UnknownConsentState),
        ("occurred_at", datetime(2026, 2, 2), NaiveDatetime),
    ],
)
def test_bad_consent_writes_nothing(
    uow: Uow,
    engine: sa.Engine,
    merchant: Merchant,
    field: str,
    value: object,
    error: type[DomainError],
) -> None:
    before = _counts(engine)
    with pytest.raises(error), uow() as work:
        customer = Customer.create(merchant.id, email="ok@example.com")
        work.tenant(merchant.id).customers.add(customer)
        customer.record_consent(
            ConsentEvent(
                merchant_id=merchant.id,
                customer_id=customer.id,
                source=ConsentSource(SourceKind.WIDGET),
                **{**GOOD, field: value},
            )
        )
        work.commit()
    assert _counts(engine) == before


def test_invalid_email_writes_nothing(uow: Uow, engine: sa.Engine, merchant: Merchant) -> None:
    before = _counts(engine)
    with pytest.raises(InvalidEmail, match="not a valid email"), uow() as work:
        work.tenant(merchant.id).customers.add(Customer.create(merchant.id, email="ana@"))
        work.commit()
    assert _counts(engine) == before


def test_leaving_without_commit_rolls_back(uow: Uow, engine: sa.Engine, merchant: Merchant) -> None:
    before = _counts(engine)
    with uow() as work:
        work.tenant(merchant.id).customers.add(Customer.create(merchant.id, email="a@example.com"))
    assert _counts(engine) == before


def test_a_flush_is_inside_the_transaction(uow: Uow, engine: sa.Engine, merchant: Merchant) -> None:
    """Flushing first thing in a unit of work (no query before it) still only writes at commit."""
    before = _counts(engine)
    with uow() as work:
        work.tenant(merchant.id).customers.add(Customer.create(merchant.id, email="f@example.com"))
        work.flush()
        work.rollback()
    assert _counts(engine) == before
