from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from patronkit.core.domain.errors import DomainError, NaiveDatetime
from patronkit.core.domain.order import FinancialStatus, OrderSummary, Refund

T0 = datetime(2026, 4, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)


def order(**kwargs: object) -> OrderSummary:
    fields: dict[str, object] = {
        "merchant_id": uuid4(),
        "shop_id": uuid4(),
        "remote_id": "1001",
        "total": "59.90",
        "currency": "EUR",
        "placed_at": T0,
        "updated_at": T0,
        "financial_status": FinancialStatus.PAID,
        "paid_at": T0,
    }
    fields.update(kwargs)
    return OrderSummary(**fields)  # type: ignore[arg-type]


def test_settled_only_after_refund_window_and_without_refunds() -> None:
    paid = order()
    assert paid.total == Decimal("59.90")
    assert not paid.settled(T0 + WINDOW - timedelta(seconds=1), WINDOW)
    assert paid.settled(T0 + WINDOW, WINDOW)
    refunded = order(refunds=[Refund(Decimal("10"), T0 + timedelta(days=2))])
    assert refunded.refunded == Decimal("10")
    assert not refunded.settled(T0 + WINDOW * 2, WINDOW)
    assert not order(financial_status=FinancialStatus.PENDING).settled(T0 + WINDOW, WINDOW)
    assert not order(outstanding="5").settled(T0 + WINDOW, WINDOW)


def test_stale_snapshot_does_not_replace_newer() -> None:
    current = order(updated_at=T0 + timedelta(hours=2))
    older = order(updated_at=T0 + timedelta(hours=1), financial_status=FinancialStatus.REFUNDED)
    older.shop_id, older.remote_id = current.shop_id, current.remote_id
    assert current.replace_with(older) is False
    assert current.financial_status is FinancialStatus.PAID


@pytest.mark.parametrize(
    "kwargs",
    [{"total": 1.5}, {"total": "-1"}, {"currency": "euro"}, {"placed_at": datetime(2026, 1, 1)}],
)
def test_bad_orders_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(NaiveDatetime if "placed_at" in kwargs else DomainError):
        order(**kwargs)
