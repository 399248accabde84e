"""Test/demo control API under /_simulator/ (not part of WooCommerce).

Acts on the storefront (a shopper registers, edits their account, checks out, a consent
plugin writes meta) and in wp-admin (edit or delete a customer, refund an order, create a
coupon), firing the hooks WooCommerce would. Also seeds data, mints API keys, injects
faults, tunes webhook delivery, and exposes counters and raw state.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from .consent import consent_value, meta_key, read_consent
from .errors import RestError, json_response
from .formats import decimal_amount, gmt_date
from .payloads import customer_json, order_json
from .state import Customer

if TYPE_CHECKING:
    from .store import Store

CONFIG_SWITCHES = (
    "assume_https",
    "callback_requires_https",
    "block_unsafe_urls",
    "auto_approve",
    "meta_only_update_bumps_modified",
)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def customer_state(store: Store, customer: Customer) -> dict[str, Any]:
    """The REST view plus what the REST API does not show, for assertions."""
    with store.state.lock:
        data = customer_json(customer, store.site_view())
        data["last_update_gmt"] = gmt_date(customer.last_update)
        data["order_ids"] = sorted(o.id for o in store.state.orders_of(customer.id))
        data["consent"] = read_consent([(m.key, m.value) for m in customer.meta])
        return data


def create_control_blueprint(store: Store) -> Blueprint:  # noqa: PLR0915 - one route table
    bp = Blueprint("woocommerce_sim_control", __name__, url_prefix="/_simulator")

    @bp.errorhandler(RestError)
    def rest_error(error: RestError) -> Response:
        return json_response(error.body(), error.status)

    @bp.errorhandler(ValueError)
    @bp.errorhandler(KeyError)
    @bp.errorhandler(TypeError)
    def bad_request(error: Exception) -> Response:
        return json_response({"error": str(error)}, 400)

    @bp.before_request
    def count() -> None:
        store.stats.count("requests")

    @bp.get("/health")
    def health() -> Response:
        return json_response({"ok": True, "home_url": store.home_url})

    @bp.get("/stats")
    def stats() -> Response:
        with store.state.lock:
            counts = {
                "customers": sum(1 for c in store.state.customers.values() if c.role == "customer"),
                "orders": len(store.state.orders),
                "coupons": len(store.state.coupons),
                "webhooks": len(store.state.webhooks),
            }
        return json_response(
            {
                "api": store.stats.snapshot(),
                "faults_pending": store.faults.remaining,
                "deliveries": store.dispatcher.stats(),
                **counts,
            }
        )

    @bp.post("/stats/reset")
    def reset_stats() -> Response:
        store.stats.reset()
        store.dispatcher.reset_stats()
        return json_response({"ok": True})

    @bp.post("/reset")
    def reset() -> Response:
        body = _body()
        store.reset(int(body.get("customers", 0)), int(body.get("orders", 0)), body.get("seed"))
        return json_response({"ok": True})

    @bp.post("/seed")
    def seed() -> Response:
        body = _body()
        store.seed(int(body.get("customers", 0)), int(body.get("orders", 0)), body.get("seed"))
        with store.state.lock:
            return json_response(
                {"customers": len(store.state.customers) - 1, "orders": len(store.state.orders)}
            )

    @bp.get("/config")
    def get_config() -> Response:
        return json_response({name: getattr(store.config, name) for name in CONFIG_SWITCHES})

    @bp.put("/config")
    def put_config() -> Response:
        for name, value in _body().items():
            if name not in CONFIG_SWITCHES:
                raise ValueError(f"unknown setting {name!r}; one of {CONFIG_SWITCHES}")
            setattr(store.config, name, bool(value))
        return get_config()

    @bp.post("/api-keys")
    def api_keys() -> Response:
        body = _body()
        key = store.create_api_key(
            str(body.get("permissions", "read_write")), str(body.get("description", ""))
        )
        return json_response(key, 201)

    # -- customers ---------------------------------------------------------------------

    @bp.get("/customers")
    def list_customers() -> Response:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 100))
        with store.state.lock:
            records = sorted(
                (c for c in store.state.customers.values() if c.role == "customer"),
                key=lambda c: c.id,
            )[offset : offset + limit]
            return json_response({"customers": [customer_state(store, c) for c in records]})

    @bp.post("/customers")
    def register_customer() -> Response:
        """A shopper creates an account (or the admin adds a customer)."""
        body = _body()
        with store.dispatcher.request_scope():
            customer = store.customers.register(
                str(body.get("email", "")),
                username=str(body.get("username", "")),
                first_name=str(body.get("first_name", "")),
                last_name=str(body.get("last_name", "")),
                billing=body.get("billing"),
                shipping=body.get("shipping"),
                meta_data=body.get("meta_data"),
            )
        return json_response(customer_state(store, customer), 201)

    @bp.get("/customers/<int:customer_id>")
    def get_customer(customer_id: int) -> Response:
        with store.state.lock:
            return json_response(customer_state(store, store.customers.get(customer_id)))

    @bp.patch("/customers/<int:customer_id>")
    def edit_customer(customer_id: int) -> Response:
        """The shopper edits My Account, or the admin the user profile: a full save."""
        with store.dispatcher.request_scope():
            customer = store.customers.update(customer_id, _body())
        return json_response(customer_state(store, customer))

    @bp.delete("/customers/<int:customer_id>")
    def delete_customer(customer_id: int) -> Response:
        with store.dispatcher.request_scope():
            store.customers.delete(customer_id)
        return json_response({"deleted": True})

    @bp.put("/customers/<int:customer_id>/meta")
    def put_meta(customer_id: int) -> Response:
        body = _body()
        with store.dispatcher.request_scope():
            customer = store.customers.set_meta(
                customer_id,
                str(body["key"]),
                body.get("value"),
                via=str(body.get("via", "update_user_meta")),
            )
        return json_response(customer_state(store, customer))

    @bp.post("/customers/<int:customer_id>/consent")
    def set_consent(customer_id: int) -> Response:
        """patronkit's storefront plugin records consent: a meta-only change."""
        body = _body()
        value = consent_value(
            str(body["state"]),
            str(body.get("level", "unknown")),
            body.get("updated_at"),
            body.get("wording_version"),
        )
        with store.dispatcher.request_scope():
            customer = store.customers.set_meta(
                customer_id,
                meta_key(str(body.get("channel", "email"))),
                value,
                via=str(body.get("via", "wc_customer")),
            )
        return json_response(customer_state(store, customer))

    @bp.get("/customers/<int:customer_id>/consent")
    def get_consent(customer_id: int) -> Response:
        with store.state.lock:
            customer = store.customers.get(customer_id)
            return json_response(read_consent([(m.key, m.value) for m in customer.meta]))

    # -- orders and coupons ------------------------------------------------------------

    @bp.post("/orders")
    def place_order() -> Response:
        """Checkout: a registered customer (customer_id) or a guest (customer_id 0 + email)."""
        body = _body()
        customer_id = int(body.get("customer_id") or 0)
        billing: dict[str, Any] = dict(body.get("billing") or {})
        with store.state.lock:
            if customer_id:
                customer = store.customers.get(customer_id)
                billing = {**customer.billing, **billing}
                billing["email"] = billing.get("email") or customer.email
            elif body.get("email"):
                billing["email"] = str(body["email"])
            if not billing.get("email"):
                raise ValueError("a guest order needs an email")
            items = body.get("line_items") or [
                {"name": "Item", "quantity": 1, "total": str(body.get("total", "25.00"))}
            ]
            fields = {
                "customer_id": customer_id,
                "billing": billing,
                "line_items": items,
                "coupon_lines": [{"code": code} for code in body.get("coupon_codes") or []],
                "currency": body.get("currency"),
                "payment_method": "stripe",
                "payment_method_title": "Credit card",
                "set_paid": bool(body.get("paid", True)),
            }
            with store.dispatcher.request_scope():
                order = store.orders.create(fields, created_via="checkout")
            return json_response(order_json(order, store.site_view()), 201)

    @bp.get("/orders/<int:order_id>")
    def get_order(order_id: int) -> Response:
        with store.state.lock:
            return json_response(order_json(store.orders.get(order_id), store.site_view()))

    @bp.post("/orders/<int:order_id>/status")
    def order_status(order_id: int) -> Response:
        with store.dispatcher.request_scope(), store.state.lock:
            order = store.orders.set_status(order_id, str(_body()["status"]))
            return json_response(order_json(order, store.site_view()))

    @bp.post("/orders/<int:order_id>/refunds")
    def refund(order_id: int) -> Response:
        body = _body()
        amount = decimal_amount(body["amount"]) if body.get("amount") is not None else None
        with store.dispatcher.request_scope(), store.state.lock:
            order = store.orders.refund(order_id, amount, str(body.get("reason", "")))
            return json_response(order_json(order, store.site_view()))

    @bp.post("/coupons")
    def create_coupon() -> Response:
        with store.dispatcher.request_scope(), store.state.lock:
            coupon = store.coupons.create(_body())
            return json_response({"id": coupon.id, "code": coupon.code}, 201)

    # -- faults and webhooks -----------------------------------------------------------

    @bp.post("/faults")
    def plan_faults() -> Response:
        body = _body()
        store.faults.plan(
            int(body["status"]), int(body.get("count", 1)), float(body.get("retry_after", 2.0))
        )
        return json_response({"pending": store.faults.remaining})

    @bp.delete("/faults")
    def clear_faults() -> Response:
        store.faults.clear()
        return json_response({"pending": 0})

    @bp.put("/config/webhooks")
    def configure_webhooks() -> Response:
        store.dispatcher.configure(_body())
        return json_response(asdict(store.dispatcher.settings))

    @bp.get("/webhooks")
    def webhooks() -> Response:
        with store.state.lock:
            rows = [
                {f.name: getattr(w, f.name) for f in fields(w) if f.name != "secret"}
                for w in store.state.webhooks.values()
            ]
        for row in rows:
            row["date_created"] = gmt_date(row["date_created"])
            row["date_modified"] = gmt_date(row["date_modified"])
        return json_response({"webhooks": rows})

    @bp.post("/webhooks/wait")
    def wait_for_webhooks() -> Response:
        timeout = float(_body().get("timeout", 10))
        drained = store.dispatcher.wait_idle(min(timeout, 60))
        return json_response({"drained": drained, "pending": store.dispatcher.pending})

    @bp.get("/webhooks/deliveries")
    def deliveries() -> Response:
        return json_response({"deliveries": [asdict(r) for r in store.dispatcher.records()]})

    @bp.post("/webhooks/redeliver")
    def redeliver() -> Response:
        if not store.dispatcher.redeliver(int(_body()["seq"])):
            raise RestError("unknown_delivery", "no such delivery", 404)
        return json_response({"queued": True})

    return bp
