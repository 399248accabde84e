"""/wp-json/wc/v3/webhooks: list, create (with its synchronous ping), get, update, delete."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response

from .errors import RestError, invalid_param, json_response
from .formats import is_rfc3339, query_wall_time, wall_time
from .pagination import page_args, paginate
from .payloads import webhook_json
from .rest_common import (
    bool_param,
    collection_response,
    enum_param,
    id_list,
    params,
    require_key,
)
from .state import Webhook

if TYPE_CHECKING:
    from .store import Store


def _created_bounds(store: Store, values: dict[str, Any]) -> dict[str, datetime]:
    bounds = {}
    for name in ("after", "before"):
        raw = values.get(name)
        if raw:
            if not is_rfc3339(str(raw)):
                raise invalid_param(name, "Invalid date.", "rest_invalid_date")
            bounds[name] = query_wall_time(str(raw), store.config.zone)
    return bounds


def _listing(store: Store, values: dict[str, Any]) -> list[Webhook]:
    status = enum_param(values, "status", ("all", "active", "paused", "disabled"), "all")
    order = enum_param(values, "order", ("asc", "desc"), "desc")
    orderby = enum_param(values, "orderby", ("date", "id", "title"), "date")
    include, exclude = id_list(values, "include"), id_list(values, "exclude")
    search = str(values.get("search") or "").strip().lower()
    bounds = _created_bounds(store, values)
    zone = store.config.zone
    with store.state.lock:
        found = [
            w
            for w in store.state.webhooks.values()
            if status in ("all", w.status)
            and (not include or w.id in include)
            and w.id not in exclude
            and (not search or search in w.name.lower())
            and ("after" not in bounds or wall_time(w.date_created, zone) > bounds["after"])
            and ("before" not in bounds or wall_time(w.date_created, zone) < bounds["before"])
        ]
    keys = {
        "date": lambda w: (w.date_created, w.id),
        "id": lambda w: (w.id,),
        "title": lambda w: (w.name.lower(), w.id),
    }
    found.sort(key=keys[orderby], reverse=order == "desc")
    return found


def register(bp: Blueprint, store: Store) -> None:
    admin = store.webhooks

    def show(webhook: Webhook, *, edit: bool) -> dict[str, Any]:
        return webhook_json(webhook, store.site_view(), edit=edit)

    @bp.get("/webhooks")
    def list_webhooks() -> Response:
        values = params()
        args = page_args(values)
        found = _listing(store, values)
        require_key("list")
        result = paginate(found, args)
        with store.state.lock:
            items = [show(w, edit=False) for w in result.items]
        return collection_response(store, "wc/v3/webhooks", result, items)

    @bp.post("/webhooks")
    def create_webhook() -> Response:
        values = params()
        missing = [name for name in ("topic", "delivery_url") if not values.get(name)]
        if missing:
            raise RestError(
                "rest_missing_callback_param",
                f"Missing parameter(s): {', '.join(missing)}",
                400,
                {"params": missing},
            )
        require_key("create")
        webhook = admin.create(values)  # pings before answering, as WooCommerce does
        with store.state.lock:
            body = show(webhook, edit=True)
        location = store.site_view().rest_url(f"wc/v3/webhooks/{webhook.id}")
        return json_response(body, 201, {"Location": location})

    @bp.get("/webhooks/<int:webhook_id>")
    def get_webhook(webhook_id: int) -> Response:
        require_key("view")
        with store.state.lock:
            return json_response(show(admin.get(webhook_id, status=400), edit=False))

    @bp.route("/webhooks/<int:webhook_id>", methods=["POST", "PUT", "PATCH"])
    def update_webhook(webhook_id: int) -> Response:
        values = params()
        require_key("edit")
        with store.state.lock:
            return json_response(show(admin.update(webhook_id, values), edit=True))

    @bp.delete("/webhooks/<int:webhook_id>")
    def delete_webhook(webhook_id: int) -> Response:
        values = params()
        require_key("delete")
        with store.state.lock:
            webhook = admin.delete(webhook_id, force=bool_param(values, "force"))
            return json_response(show(webhook, edit=True))
