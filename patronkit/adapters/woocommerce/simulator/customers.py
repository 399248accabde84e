"""Changes to customers (WordPress users) and the hooks they fire, as WC_Customer does.

Both the REST API and the control API (a shopper or the admin acting on the storefront)
go through here, so both fire the same webhooks and touch date_modified the same way.

date_modified is the `last_update` user meta. WooCommerce sets it when a profile is saved
(profile_update) and when first_name, last_name or a billing_/shipping_ meta key changes;
any other user meta key (such as patronkit's consent keys) written with update_user_meta()
leaves it alone and fires no webhook at all.
"""

from __future__ import annotations

import random
import re
from datetime import datetime
from typing import Any

from .config import SimulatorConfig
from .errors import RestError
from .formats import now_utc
from .meta import apply_meta_input, set_meta
from .state import BILLING_FIELDS, SHIPPING_FIELDS, Customer, StoreState
from .webhooks import WebhookDispatcher

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# User meta keys WooCommerce manages itself; they are not "meta_data".
INTERNAL_META_PREFIXES = ("billing_", "shipping_", "wp_", "_woocommerce")
INTERNAL_META_KEYS = ("first_name", "last_name", "last_update", "paying_customer", "nickname")


def _invalid_id() -> RestError:
    return RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)


def _clean(value: Any) -> str:
    return "" if value is None else str(value).strip()


def is_internal_meta_key(key: str) -> bool:
    return key in INTERNAL_META_KEYS or key.startswith(INTERNAL_META_PREFIXES)


class CustomerActions:
    def __init__(
        self, state: StoreState, dispatcher: WebhookDispatcher, config: SimulatorConfig
    ) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self.config = config
        # Only for the random digits WordPress appends to a taken username.
        self._rng = random.Random(config.seed)  # noqa: S311 - not security

    def get(self, customer_id: int) -> Customer:
        customer = self.state.customers.get(customer_id)
        if customer is None:
            raise _invalid_id()
        return customer

    def _username_for(self, email: str, wanted: str) -> str:
        if wanted:
            if self.state.username_taken(wanted):
                raise RestError(
                    "registration-error-username-exists",
                    "An account is already registered with that username. Please choose another.",
                    400,
                )
            return wanted
        # wc_create_new_customer_username(): the email's local part, digits if taken.
        base = re.sub(r"[^a-z0-9._-]", "", email.split("@", 1)[0].lower()) or "customer"
        username = base
        while self.state.username_taken(username):
            username = f"{base}{self._rng.randint(0, 9999):04d}"
        return username

    def register(
        self,
        email: str,
        *,
        username: str = "",
        first_name: str = "",
        last_name: str = "",
        billing: dict[str, Any] | None = None,
        shipping: dict[str, Any] | None = None,
        meta_data: Any = None,
        role: str = "customer",
        created_at: datetime | None = None,
    ) -> Customer:
        """wc_create_new_customer() and a first save: fires customer.created."""
        email = _clean(email)
        with self.state.lock:
            if not _EMAIL.match(email):
                raise RestError(
                    "registration-error-invalid-email", "Please provide a valid email address.", 400
                )
            if self.state.customer_by_email(email) is not None:
                raise RestError(
                    "registration-error-email-exists",
                    "An account is already registered with your email address. "
                    '<a href="#" class="showlogin">Please log in.</a>',
                    400,
                )
            now = created_at or now_utc()
            customer = Customer(
                id=self.state.next_user_id(),
                email=email,
                username=self._username_for(email, _clean(username)),
                role=role,
                date_created=now,
                last_update=now,
                first_name=_clean(first_name),
                last_name=_clean(last_name),
            )
            customer.display_name = customer.username
            self._apply_address(customer.billing, billing, BILLING_FIELDS)
            self._apply_address(customer.shipping, shipping, SHIPPING_FIELDS)
            if meta_data is not None:
                customer.meta, _ = apply_meta_input([], meta_data, self.state.next_meta_id)
            self.state.customers[customer.id] = customer
            self.dispatcher.fire("customer", "created", customer.id)
            return customer

    @staticmethod
    def _apply_address(
        target: dict[str, str], values: dict[str, Any] | None, fields: tuple[str, ...]
    ) -> bool:
        if values is None:
            return False
        if not isinstance(values, dict):
            raise RestError("rest_invalid_param", "Invalid parameter(s): address", 400)
        changed = False
        for name in fields:
            if name in values and values[name] is not None:
                value = str(values[name])
                if target.get(name) != value:
                    target[name] = value
                    changed = True
        return changed

    def update(self, customer_id: int, fields: dict[str, Any]) -> Customer:
        """WC_Customer::save() with REST input: fires customer.updated.

        WooCommerce fires the update hooks on every save, even when nothing changed.
        """
        with self.state.lock:
            customer = self.get(customer_id)
            email = _clean(fields.get("email"))
            if email and email.lower() != customer.email.lower():
                other = self.state.customer_by_email(email)
                if other is not None or not _EMAIL.match(email):
                    raise RestError(
                        "woocommerce_rest_customer_invalid_email", "Email address is invalid.", 400
                    )
            username = _clean(fields.get("username"))
            if username and username != customer.username:
                raise RestError(
                    "woocommerce_rest_customer_invalid_argument", "Username isn't editable.", 400
                )
            tracked = False
            if email and email != customer.email:
                customer.email, tracked = email, True
            for name in ("first_name", "last_name"):
                if fields.get(name) is not None and _clean(fields[name]) != getattr(customer, name):
                    setattr(customer, name, _clean(fields[name]))
                    tracked = True
            tracked |= self._apply_address(customer.billing, fields.get("billing"), BILLING_FIELDS)
            tracked |= self._apply_address(
                customer.shipping, fields.get("shipping"), SHIPPING_FIELDS
            )
            if fields.get("meta_data") is not None:
                customer.meta, _ = apply_meta_input(
                    customer.meta, fields["meta_data"], self.state.next_meta_id
                )
            self._saved(customer, tracked_change=tracked)
            return customer

    def _saved(self, customer: Customer, *, tracked_change: bool) -> None:
        # A real save calls wp_update_user(), whose profile_update hook sets last_update.
        # woocommerce#27991 reports that a save changing only meta_data can leave
        # date_modified unchanged; the simulator reproduces that (unless configured
        # otherwise) so a reconcile cannot rely on date_modified to find consent changes.
        if tracked_change or self.config.meta_only_update_bumps_modified:
            customer.last_update = now_utc()
        self.dispatcher.fire("customer", "updated", customer.id)

    def set_meta(self, customer_id: int, key: str, value: Any, *, via: str) -> Customer:
        """A storefront plugin writes one meta key.

        via="update_user_meta": a direct update_user_meta(); no hook, date_modified kept.
        via="wc_customer": $customer->update_meta_data() + save(); customer.updated fires,
        date_modified as for any meta-only save (see `_saved`).
        """
        if is_internal_meta_key(key):
            raise ValueError(f"{key!r} is a WooCommerce-managed key, not meta_data")
        if via not in ("update_user_meta", "wc_customer"):
            raise ValueError("via must be update_user_meta or wc_customer")
        with self.state.lock:
            customer = self.get(customer_id)
            set_meta(customer.meta, key, value, self.state.next_meta_id)
            if via == "wc_customer":
                self._saved(customer, tracked_change=False)
            return customer

    def mark_paying(self, customer: Customer) -> None:
        """wc_paying_customer(): the first paid order flips the flag and saves the customer."""
        if customer.is_paying_customer:
            return
        customer.is_paying_customer = True
        self._saved(customer, tracked_change=True)

    def delete(self, customer_id: int) -> Customer:
        """wp_delete_user(): delete_user fires first (customer.deleted, customers only)."""
        with self.state.lock:
            customer = self.get(customer_id)
            if customer.role not in ("customer", "subscriber"):
                raise RestError(
                    "woocommerce_rest_cannot_delete",
                    f"Sorry, users with {customer.role} role cannot be deleted via this "
                    "endpoint. Allowed roles: customer, subscriber",
                    401,
                )
            if customer.role == "customer":
                self.dispatcher.fire("customer", "deleted", customer.id)
            del self.state.customers[customer.id]
            # WooCommerce turns the user's orders into guest orders with a direct update:
            # no order hook runs and their date_modified stays as it was.
            for order in self.state.orders_of(customer.id):
                order.customer_id = 0
            return customer
