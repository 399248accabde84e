"""OrderSummary: what attribution, customer value and review timing need from an order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import UUID, uuid4

from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import require_aware

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    UNKNOWN = "unknown"


def money(value: Decimal | str | int, name: str) -> Decimal:
    """An exact, non-negative amount; floats are refused because they are not exact."""
    if isinstance(value, float | bool):
        raise InvalidValue(f"{name} must be a Decimal or a string, not {type(value).__name__}")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        raise InvalidValue(f"{name} is not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidValue(f"{name} must be a finite amount of zero or more")
    return amount


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", money(self.amount, "refund amount"))
        object.__setattr__(self, "created_at", require_aware(self.created_at, "refund created_at"))


@dataclass(eq=False)
class OrderSummary:
    merchant_id: UUID
    shop_id: UUID
    remote_id: str
    total: Decimal
    currency: str
    placed_at: datetime
    updated_at: datetime
    customer_id: UUID | None = None  # None for a guest order we could not match to a person
    # The store's id of the buyer, kept so an order that arrives before its customer can be
    # attached when the customer does.
    customer_remote_id: str | None = None
    financial_status: FinancialStatus = FinancialStatus.UNKNOWN
    outstanding: Decimal = Decimal(0)
    discount_codes: list[str] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        if not self.remote_id:
            raise InvalidValue("an order needs its id in the store")
        self.total = money(self.total, "total")
        self.outstanding = money(self.outstanding, "outstanding")
        if not isinstance(self.currency, str) or not _CURRENCY.match(self.currency):
            raise InvalidValue("currency must be an ISO 4217 code such as EUR")
        self.financial_status = FinancialStatus(self.financial_status)
        self.placed_at = require_aware(self.placed_at, "placed_at")
        self.updated_at = require_aware(self.updated_at, "updated_at")
        for name in ("paid_at", "fulfilled_at", "delivered_at", "cancelled_at"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, require_aware(value, name))
        self.discount_codes = [code.strip() for code in self.discount_codes if code.strip()]

    @property
    def refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal(0))

    def replace_with(self, newer: OrderSummary) -> bool:
        """Take the fields of a newer snapshot of this order; False (and no change) if stale."""
        if newer.remote_id != self.remote_id or newer.shop_id != self.shop_id:
            raise InvalidValue("that snapshot is of another order")
        if newer.updated_at <= self.updated_at:
            return False
        for name in (
            "total",
            "currency",
            "placed_at",
            "updated_at",
            "customer_id",
            "financial_status",
            "outstanding",
            "discount_codes",
            "refunds",
            "paid_at",
            "fulfilled_at",
            "delivered_at",
            "cancelled_at",
        ):
            setattr(self, name, getattr(newer, name))
        return True

    def settled(self, now: datetime, refund_window: timedelta) -> bool:
        """Paid in full, not cancelled or refunded, and past the refund window: safe to reward."""
        now = require_aware(now, "now")
        if self.cancelled_at is not None or self.outstanding > 0:
            return False
        if self.financial_status is not FinancialStatus.PAID or self.refunded > 0:
            return False
        paid_at = self.paid_at or self.placed_at
        return now >= paid_at + refund_window
