"""Changes to coupons and the hooks they fire, as WC_Coupon and its CPT data store do.

The coupon post (and so date_modified) is rewritten only when the code, description or a
date changes; other fields are post meta, so changing only the amount leaves
date_modified as it was (woocommerce#23987) while coupon.updated still fires. Deleting
without force moves the coupon to the trash, which fires coupon.deleted; a forced delete
removes it without any webhook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .config import SimulatorConfig
from .errors import RestError, invalid_param, not_found
from .formats import decimal_amount, is_rfc3339, now_utc
from .meta import apply_meta_input
from .state import DISCOUNT_TYPES, Coupon, StoreState
from .webhooks import WebhookDispatcher

POST_FIELDS = ("code", "description", "date_expires")
_BOOLS = ("individual_use", "free_shipping", "exclude_sale_items")
_OPTIONAL_INTS = ("usage_limit", "usage_limit_per_user", "limit_usage_to_x_items")
_ID_LISTS = (
    "product_ids",
    "excluded_product_ids",
    "product_categories",
    "excluded_product_categories",
)


class CouponActions:
    def __init__(
        self, state: StoreState, dispatcher: WebhookDispatcher, config: SimulatorConfig
    ) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self.config = config

    def get(self, coupon_id: int, status: int = 404) -> Coupon:
        coupon = self.state.coupons.get(coupon_id)
        if coupon is None:
            raise not_found("shop_coupon", status=status)
        return coupon

    def _expiry(self, fields: dict[str, Any]) -> datetime | None:
        gmt = fields.get("date_expires_gmt")
        local = fields.get("date_expires")
        raw, zone = (gmt, UTC) if gmt else (local, self.config.zone)
        if not raw:
            return None
        if not is_rfc3339(str(raw)):
            name = "date_expires_gmt" if gmt else "date_expires"
            raise invalid_param(name, f"{name} is not a valid date.", "rest_invalid_date")
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(UTC)

    def _apply(self, coupon: Coupon, fields: dict[str, Any]) -> set[str]:
        changed: set[str] = set()

        def put(name: str, value: Any) -> None:
            if getattr(coupon, name) != value:
                setattr(coupon, name, value)
                changed.add(name)

        if fields.get("code") is not None:
            code = str(fields["code"]).strip().lower()  # wc_format_coupon_code()
            if self.state.coupon_by_code(code, exclude_id=coupon.id) is not None:
                raise RestError(
                    "woocommerce_rest_coupon_code_already_exists",
                    "The coupon code already exists",
                    400,
                )
            put("code", code)
        if fields.get("discount_type") is not None:
            if fields["discount_type"] not in DISCOUNT_TYPES:
                raise invalid_param(
                    "discount_type",
                    f"discount_type is not one of {', '.join(DISCOUNT_TYPES)}.",
                    "rest_not_in_enum",
                )
            put("discount_type", fields["discount_type"])
        for name in ("amount", "minimum_amount", "maximum_amount"):
            if fields.get(name) is not None:
                put(name, decimal_amount(fields[name]))
        if fields.get("description") is not None:
            put("description", str(fields["description"]))
        if "date_expires" in fields or "date_expires_gmt" in fields:
            put("date_expires", self._expiry(fields))
        for name in _BOOLS:
            if fields.get(name) is not None:
                put(name, bool(fields[name]))
        for name in _OPTIONAL_INTS:
            if name in fields:
                put(name, int(fields[name]) if fields[name] not in (None, "", 0) else None)
        for name in _ID_LISTS:
            if fields.get(name) is not None:
                put(name, [int(v) for v in fields[name]])
        if fields.get("email_restrictions") is not None:
            put(
                "email_restrictions", [str(v).strip().lower() for v in fields["email_restrictions"]]
            )
        if fields.get("meta_data") is not None:
            coupon.meta, meta_changed = apply_meta_input(
                coupon.meta, fields["meta_data"], self.state.next_meta_id
            )
            if meta_changed:
                changed.add("meta_data")
        return changed

    def create(self, fields: dict[str, Any]) -> Coupon:
        with self.state.lock:
            if not str(fields.get("code") or "").strip():
                raise RestError(
                    "rest_missing_callback_param",
                    "Missing parameter(s): code",
                    400,
                    {"params": ["code"]},
                )
            now = now_utc()
            coupon = Coupon(
                id=self.state.next_post_id(),
                code="",
                amount=decimal_amount("0"),
                discount_type="fixed_cart",
                date_created=now,
                date_modified=now,
            )
            self._apply(coupon, fields)
            self.state.coupons[coupon.id] = coupon
            self.dispatcher.fire("coupon", "created", coupon.id)
            return coupon

    def update(self, coupon_id: int, fields: dict[str, Any]) -> Coupon:
        with self.state.lock:
            coupon = self.get(coupon_id, status=400)
            changed = self._apply(coupon, fields)
            if changed & set(POST_FIELDS):
                coupon.date_modified = now_utc()
            self.dispatcher.fire("coupon", "updated", coupon.id)
            return coupon

    def delete(self, coupon_id: int, *, force: bool) -> Coupon:
        with self.state.lock:
            coupon = self.get(coupon_id)
            if force:
                del self.state.coupons[coupon.id]
                return coupon
            if coupon.post_status == "trash":
                raise RestError(
                    "woocommerce_rest_already_trashed",
                    "The shop_coupon has already been deleted.",
                    410,
                )
            coupon.post_status = "trash"
            coupon.date_modified = now_utc()
            self.dispatcher.fire("coupon", "deleted", coupon.id)
            return coupon
