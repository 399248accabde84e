"""Test/demo control API under /_simulator/ (not part of Shopify's API).

Acts as the merchant in the Shopify admin (firing the same webhooks Shopify would),
configures throttling, faults and webhook chaos, and exposes stats and raw state.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request, send_file

from .actions import CustomerFields, NotFound, UserErrors
from .admin_api import json_response
from .formats import gid, iso, parse_datetime, parse_gid
from .oauth import issue_offline_token, mint_session_token
from .state import Customer, EmailConsent, Order, SmsConsent
from .throttle import THROTTLE_PRESETS

if TYPE_CHECKING:
    from .shop import Shop


class BadRequest(Exception):
    pass


def customer_state(shop: Shop, customer: Customer) -> dict[str, Any]:
    """Everything the simulator knows about a customer, for assertions and support views."""
    sms = customer.sms_consent
    return {
        "id": customer.id,
        "admin_graphql_api_id": gid("Customer", customer.id),
        "email": customer.email,
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "note": customer.note,
        "tags": customer.tags,
        "state": customer.state,
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
        "email_marketing_consent": {
            "state": customer.email_consent.marketing_state,
            "opt_in_level": customer.email_consent.opt_in_level,
            "consent_updated_at": iso(customer.email_consent.consent_updated_at),
        },
        "sms_marketing_consent": (
            {
                "state": sms.marketing_state,
                "opt_in_level": sms.opt_in_level,
                "consent_updated_at": iso(sms.consent_updated_at),
                "consent_collected_from": sms.consent_collected_from,
            }
            if sms
            else None
        ),
        "order_ids": [o.id for o in shop.state.orders_of(customer.id)],
    }


def order_state(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "customer_id": order.customer_id,
        "email": order.email,
        "total_price": str(order.total_price),
        "current_total_price": str(order.current_total),
        "total_outstanding": str(order.outstanding),
        "currency": order.currency,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "discount_codes": order.discount_codes,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "cancelled_at": iso(order.cancelled_at),
        "fulfillments": [
            {
                "id": f.id,
                "created_at": iso(f.created_at),
                "delivered_at": iso(f.delivered_at),
                "status": f.status,
            }
            for f in order.fulfillments
        ],
        "refunds": [
            {"id": r.id, "created_at": iso(r.created_at), "amount": str(r.amount)}
            for r in order.refunds
        ],
    }


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _record_id(raw: str, type_name: str) -> int:
    number = int(raw) if raw.isdigit() else parse_gid(raw, type_name)
    if number is None:
        raise NotFound(f"{type_name} {raw} does not exist")
    return number


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise BadRequest(f"{name} must be a decimal amount") from error


def _consent_args(data: dict[str, Any] | None) -> tuple[str, str | None, Any] | None:
    if not data:
        return None
    when = parse_datetime(data["consent_updated_at"]) if data.get("consent_updated_at") else None
    return str(data["state"]).upper(), data.get("opt_in_level"), when


def create_control_blueprint(shop: Shop) -> Blueprint:  # noqa: PLR0915 - one route table
    bp = Blueprint("shopify_sim_control", __name__, url_prefix="/_simulator")
    actions = shop.actions

    @bp.errorhandler(NotFound)
    def not_found(error: NotFound) -> Response:
        return json_response({"error": str(error) or "not found"}, 404)

    @bp.errorhandler(UserErrors)
    def user_errors(error: UserErrors) -> Response:
        return json_response({"errors": error.errors}, 422)

    @bp.errorhandler(BadRequest)
    @bp.errorhandler(ValueError)
    @bp.errorhandler(KeyError)
    def bad_request(error: Exception) -> Response:
        return json_response({"error": str(error)}, 400)

    @bp.get("/health")
    def health() -> Response:
        return json_response({"ok": True, "shop": shop.config.shop_domain})

    @bp.get("/stats")
    def stats() -> Response:
        with shop.state.lock:
            counts = {"customers": len(shop.state.customers), "orders": len(shop.state.orders)}
        return json_response(
            {
                "api": shop.stats.snapshot(),
                "throttle": shop.bucket.status().as_extension(),
                "faults_pending": shop.faults.remaining,
                "webhooks": shop.dispatcher.stats(),
                **counts,
            }
        )

    @bp.post("/stats/reset")
    def reset_stats() -> Response:
        shop.stats.reset()
        shop.dispatcher.reset_stats()
        return json_response({"ok": True})

    @bp.post("/seed")
    def seed() -> Response:
        body = _body()
        shop.seed(int(body.get("customers", 0)), int(body.get("orders", 0)), body.get("seed"))
        return json_response(
            {"customers": len(shop.state.customers), "orders": len(shop.state.orders)}
        )

    # -- customers, as the merchant ------------------------------------------------

    @bp.get("/customers")
    def list_customers() -> Response:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 100))
        with shop.state.lock:
            records = sorted(shop.state.customers.values(), key=lambda c: c.id)[
                offset : offset + limit
            ]
            return json_response({"customers": [customer_state(shop, c) for c in records]})

    @bp.post("/customers")
    def create_customer() -> Response:
        body = _body()
        email_args = _consent_args(body.get("email_marketing_consent"))
        sms_args = _consent_args(body.get("sms_marketing_consent"))
        customer = actions.create_customer(
            CustomerFields(
                email=body.get("email"),
                phone=body.get("phone"),
                first_name=body.get("first_name"),
                last_name=body.get("last_name"),
                note=body.get("note"),
                tags=body.get("tags"),
            ),
            email_consent=EmailConsent(*email_args) if email_args else None,
            sms_consent=SmsConsent(sms_args[0], sms_args[1], sms_args[2], "SHOPIFY")
            if sms_args
            else None,
        )
        with shop.state.lock:
            return json_response(customer_state(shop, customer), 201)

    @bp.get("/customers/<raw_id>")
    def get_customer(raw_id: str) -> Response:
        with shop.state.lock:
            return json_response(
                customer_state(shop, actions.customer(_record_id(raw_id, "Customer")))
            )

    @bp.patch("/customers/<raw_id>")
    def update_customer(raw_id: str) -> Response:
        body = _body()
        fields = CustomerFields(
            **{
                k: body[k]
                for k in ("email", "phone", "first_name", "last_name", "note", "tags")
                if k in body
            }
        )
        customer = actions.update_customer(_record_id(raw_id, "Customer"), fields)
        with shop.state.lock:
            return json_response(customer_state(shop, customer))

    @bp.delete("/customers/<raw_id>")
    def delete_customer(raw_id: str) -> Response:
        actions.delete_customer(_record_id(raw_id, "Customer"))
        return json_response({"deleted": True})

    @bp.post("/customers/<raw_id>/consent")
    def set_consent(raw_id: str) -> Response:
        body = _body()
        channel = body.get("channel", "email")
        args = _consent_args(body)
        if args is None:
            raise BadRequest("state is required")
        customer_id = _record_id(raw_id, "Customer")
        if channel == "email":
            customer = actions.set_email_consent(customer_id, *args, from_admin=True)
        elif channel == "sms":
            customer = actions.set_sms_consent(customer_id, *args, from_admin=True)
        else:
            raise BadRequest("channel must be email or sms")
        with shop.state.lock:
            return json_response(customer_state(shop, customer))

    # -- orders ----------------------------------------------------------------------

    @bp.post("/orders")
    def create_order() -> Response:
        body = _body()
        raw_customer = body.get("customer_id")
        order = actions.create_order(
            _record_id(str(raw_customer), "Customer") if raw_customer is not None else None,
            _decimal(body.get("total", "10.00"), "total"),
            discount_codes=body.get("discount_codes"),
            paid=bool(body.get("paid", False)),
            currency=body.get("currency"),
            email=body.get("email"),
        )
        return json_response(order_state(order), 201)

    @bp.get("/orders/<raw_id>")
    def get_order(raw_id: str) -> Response:
        with shop.state.lock:
            return json_response(order_state(actions.order(_record_id(raw_id, "Order"))))

    @bp.post("/orders/<raw_id>/<event>")
    def order_event(raw_id: str, event: str) -> Response:
        order_id = _record_id(raw_id, "Order")
        body = _body()
        if event == "paid":
            order = actions.mark_paid(order_id)
        elif event == "fulfilled":
            order = actions.fulfill(order_id, delivered=bool(body.get("delivered", False)))
        elif event == "delivered":
            order = actions.mark_delivered(order_id)
        elif event == "refunds":
            amount = _decimal(body["amount"], "amount") if body.get("amount") is not None else None
            order = actions.refund(order_id, amount, body.get("note"))
        elif event == "cancelled":
            order = actions.cancel(order_id)
        else:
            raise NotFound(f"unknown order event {event}")
        with shop.state.lock:
            return json_response(order_state(order))

    # -- app lifecycle and privacy -------------------------------------------------

    @bp.post("/compliance/<topic>")
    def compliance(topic: str) -> Response:
        body = _body()
        if topic == "customers-data-request":
            event_id = actions.request_customer_data(
                _record_id(str(body["customer_id"]), "Customer")
            )
        elif topic == "customers-redact":
            event_id = actions.redact_customer(_record_id(str(body["customer_id"]), "Customer"))
        elif topic == "shop-redact":
            event_id = actions.redact_shop()
        else:
            raise NotFound(f"unknown compliance topic {topic}")
        return json_response({"event_id": event_id})

    @bp.post("/app/install")
    def install() -> Response:
        body = _body()
        scopes = tuple(body["scopes"]) if body.get("scopes") else shop.config.app_scopes
        token = issue_offline_token(shop, scopes)
        return json_response({"access_token": token, "scope": ",".join(scopes)})

    @bp.post("/app/uninstall")
    def uninstall() -> Response:
        return json_response({"event_id": actions.uninstall_app()})

    @bp.post("/session-token")
    def session_token() -> Response:
        body = _body()
        token = mint_session_token(
            shop,
            sub=str(body.get("sub", "42")),
            sid=body.get("sid"),
            lifetime_seconds=int(body.get("lifetime_seconds", 60)),
            issued_at=body.get("issued_at"),
            overrides=body.get("overrides"),
        )
        return json_response({"token": token})

    # -- behaviour knobs -----------------------------------------------------------

    @bp.put("/config/throttle")
    def configure_throttle() -> Response:
        body = _body()
        if "preset" in body:
            maximum, rate = THROTTLE_PRESETS[body["preset"]]
        else:
            maximum, rate = float(body["maximum_available"]), float(body["restore_rate"])
        shop.bucket.configure(maximum, rate)
        return json_response(shop.bucket.status().as_extension())

    @bp.post("/faults")
    def plan_faults() -> Response:
        body = _body()
        shop.faults.plan(
            int(body["status"]), int(body.get("count", 1)), float(body.get("retry_after", 2.0))
        )
        return json_response({"pending": shop.faults.remaining})

    @bp.delete("/faults")
    def clear_faults() -> Response:
        shop.faults.clear()
        return json_response({"pending": 0})

    @bp.put("/config/webhooks")
    def configure_webhooks() -> Response:
        shop.dispatcher.configure(_body())
        return json_response(asdict(shop.dispatcher.settings))

    @bp.put("/config/compliance")
    def configure_compliance() -> Response:
        shop.config.compliance_webhook_url = _body().get("url")
        return json_response({"url": shop.config.compliance_webhook_url})

    @bp.post("/webhooks/wait")
    def wait_for_webhooks() -> Response:
        timeout = float(_body().get("timeout", 10))
        drained = shop.dispatcher.wait_idle(min(timeout, 60))
        return json_response({"drained": drained, "pending": shop.dispatcher.pending})

    @bp.get("/webhooks/deliveries")
    def deliveries() -> Response:
        return json_response({"deliveries": [asdict(r) for r in list(shop.dispatcher.history)]})

    @bp.get("/bulk/<int:operation_id>.jsonl")
    def bulk_result(operation_id: int) -> Response:
        path = shop.bulk.file_path(operation_id)
        if path is None:
            raise NotFound("bulk result not found")
        # send_file streams the file in blocks; the result is never held in memory whole.
        return send_file(path, mimetype="application/jsonl", conditional=False)

    return bp
