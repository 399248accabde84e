"""/wp-json/wc/v3/orders: list (with modified_after), get, create, update.

Guest orders have customer_id 0; `customer=N` filters by registered customer only, so a
guest order placed with a customer's email address is found only through billing.email.
Orders carry no product catalogue here: line items bring their price (`subtotal`/`total`,
or `price` times `quantity`), a simulator extension to the real API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response

from .errors import invalid_param, json_response
from .pagination import int_param, page_args, paginate
from .payloads import order_json
from .post_query import date_filter, sort_key
from .rest_common import collection_response, enum_param, id_list, params, require_key
from .state import ORDER_STATUSES, Order

if TYPE_CHECKING:
    from .store import Store

ORDERBY = ("date", "id", "include", "title", "slug", "modified")
STATUS_FILTERS = ("any", *ORDER_STATUSES, "checkout-draft")


def _statuses(values: dict[str, Any]) -> list[str]:
    raw = values.get("status")
    if raw is None or raw == "":
        return ["any"]
    items = (
        list(raw.values())
        if isinstance(raw, dict)
        else raw
        if isinstance(raw, list)
        else str(raw).split(",")
    )
    statuses = [str(item).strip() for item in items if str(item).strip()]
    for status in statuses:
        if status not in STATUS_FILTERS:
            raise invalid_param(
                "status",
                f"status[0] is not one of {', '.join(STATUS_FILTERS)}.",
                "rest_not_in_enum",
            )
    return statuses


def _listing(store: Store, values: dict[str, Any]) -> list[Order]:
    order_dir = enum_param(values, "order", ("asc", "desc"), "desc")
    orderby = enum_param(values, "orderby", ORDERBY, "date")
    statuses = _statuses(values)
    dates = date_filter(values, store.config.zone)
    include, exclude = id_list(values, "include"), id_list(values, "exclude")
    customer = int_param(values, "customer", None)
    search = str(values.get("search") or "").strip().lower()
    with store.state.lock:
        found = [
            o
            for o in store.state.orders.values()
            if (("any" in statuses and o.status != "trash") or o.status in statuses)
            and (not include or o.id in include)
            and o.id not in exclude
            and (customer is None or o.customer_id == customer)
            and dates(o.date_created, o.date_modified)
            and (not search or any(search in str(v).lower() for v in (*o.billing.values(), o.id)))
        ]
    if orderby == "include" and include:
        found.sort(key=lambda o: include.index(o.id))
    else:
        found.sort(key=sort_key(orderby), reverse=order_dir == "desc")
    return found


def register(bp: Blueprint, store: Store) -> None:
    actions = store.orders

    def show(order: Order) -> dict[str, Any]:
        return order_json(order, store.site_view())

    @bp.get("/orders")
    def list_orders() -> Response:
        values = params()
        args = page_args(values)
        found = _listing(store, values)
        require_key("list")
        result = paginate(found, args)
        with store.state.lock:
            items = [show(o) for o in result.items]
        return collection_response(store, "wc/v3/orders", result, items)

    @bp.post("/orders")
    def create_order() -> Response:
        values = params()
        require_key("create")
        with store.dispatcher.request_scope(), store.state.lock:
            body = show(actions.create(values, created_via="rest-api"))
        location = store.site_view().rest_url(f"wc/v3/orders/{body['id']}")
        return json_response(body, 201, {"Location": location})

    @bp.get("/orders/<int:order_id>")
    def get_order(order_id: int) -> Response:
        with store.state.lock:
            order = actions.get(order_id)
            require_key("view")
            return json_response(show(order))

    @bp.route("/orders/<int:order_id>", methods=["POST", "PUT", "PATCH"])
    def update_order(order_id: int) -> Response:
        values = params()
        if order_id in store.state.orders:  # a missing order fails later, with 400
            require_key("edit")
        with store.dispatcher.request_scope(), store.state.lock:
            return json_response(show(actions.update(order_id, values)))
