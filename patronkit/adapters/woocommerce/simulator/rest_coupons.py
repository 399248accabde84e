"""/wp-json/wc/v3/coupons: list (with modified_after and code), get, create, update, delete.

Trashed coupons drop out of the list (post_status "any" excludes trash) but can still be
fetched by id. See coupons.py for when date_modified moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response

from .errors import json_response
from .pagination import page_args, paginate
from .payloads import coupon_json
from .post_query import date_filter, sort_key
from .rest_common import (
    bool_param,
    collection_response,
    enum_param,
    id_list,
    params,
    require_key,
    required_param,
)
from .state import Coupon

if TYPE_CHECKING:
    from .store import Store

ORDERBY = ("date", "id", "include", "title", "slug", "modified")


def _listing(store: Store, values: dict[str, Any]) -> list[Coupon]:
    order_dir = enum_param(values, "order", ("asc", "desc"), "desc")
    orderby = enum_param(values, "orderby", ORDERBY, "date")
    dates = date_filter(values, store.config.zone)
    include, exclude = id_list(values, "include"), id_list(values, "exclude")
    code = str(values.get("code") or "").strip().lower()
    search = str(values.get("search") or "").strip().lower()
    with store.state.lock:
        found = [
            c
            for c in store.state.coupons.values()
            if c.post_status != "trash"
            and (not include or c.id in include)
            and c.id not in exclude
            and (not code or c.code == code)
            and (not search or search in c.code or search in c.description.lower())
            and dates(c.date_created, c.date_modified)
        ]
    if orderby == "include" and include:
        found.sort(key=lambda c: include.index(c.id))
    elif orderby == "title":
        found.sort(key=lambda c: (c.code, c.id), reverse=order_dir == "desc")
    else:
        found.sort(key=sort_key(orderby), reverse=order_dir == "desc")
    return found


def register(bp: Blueprint, store: Store) -> None:
    actions = store.coupons

    def show(coupon: Coupon) -> dict[str, Any]:
        return coupon_json(coupon, store.site_view())

    @bp.get("/coupons")
    def list_coupons() -> Response:
        values = params()
        args = page_args(values)
        found = _listing(store, values)
        require_key("list")
        result = paginate(found, args)
        with store.state.lock:
            items = [show(c) for c in result.items]
        return collection_response(store, "wc/v3/coupons", result, items)

    @bp.post("/coupons")
    def create_coupon() -> Response:
        values = params()
        required_param(values, "code")
        require_key("create")
        with store.dispatcher.request_scope(), store.state.lock:
            body = show(actions.create(values))
        location = store.site_view().rest_url(f"wc/v3/coupons/{body['id']}")
        return json_response(body, 201, {"Location": location})

    @bp.get("/coupons/<int:coupon_id>")
    def get_coupon(coupon_id: int) -> Response:
        with store.state.lock:
            coupon = actions.get(coupon_id)
            require_key("view")
            return json_response(show(coupon))

    @bp.route("/coupons/<int:coupon_id>", methods=["POST", "PUT", "PATCH"])
    def update_coupon(coupon_id: int) -> Response:
        values = params()
        if coupon_id in store.state.coupons:  # a missing coupon fails later, with 400
            require_key("edit")
        with store.dispatcher.request_scope(), store.state.lock:
            return json_response(show(actions.update(coupon_id, values)))

    @bp.delete("/coupons/<int:coupon_id>")
    def delete_coupon(coupon_id: int) -> Response:
        values = params()
        force = bool_param(values, "force")
        with store.state.lock:
            actions.get(coupon_id)
        require_key("delete")
        with store.dispatcher.request_scope(), store.state.lock:
            body = show(actions.get(coupon_id))
            coupon = actions.delete(coupon_id, force=force)
            if not force:
                return json_response(show(coupon))
            return json_response(body)
