"""/wp-json/wc/v3/customers, as WC_REST_Customers_Controller (over WP_User_Query) does it.

There is no modified_after (nor any date filter) on customers: WP_User_Query has none,
and unknown parameters are ignored, so a client asking for "customers modified since"
silently gets all of them. The default role filter is "customer" (other users, such as
the admin, appear only with role=all), default order is by display name, ascending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response

from .batch import check_batch_limit, run_batch
from .errors import RestError, json_response
from .pagination import page_args, paginate
from .payloads import customer_json
from .rest_common import (
    bool_param,
    collection_response,
    enum_param,
    id_list,
    params,
    require_key,
    required_param,
)
from .state import Customer

if TYPE_CHECKING:
    from .store import Store

ROLES = (
    "all",
    "administrator",
    "editor",
    "author",
    "contributor",
    "subscriber",
    "customer",
    "shop_manager",
)
ORDERBY = ("id", "include", "name", "registered_date")


def _matches_search(customer: Customer, term: str) -> bool:
    """WP_User_Query's "*term*" search; the columns depend on what the term looks like."""
    wanted = term.strip("*").lower()
    if "@" in wanted:
        columns = [customer.email]
    elif wanted.isdigit():
        columns = [customer.username, str(customer.id)]
    else:
        columns = [customer.username, customer.email, customer.display_name]
    return any(wanted in column.lower() for column in columns)


def _listing(store: Store, values: dict[str, Any]) -> list[Customer]:
    role = enum_param(values, "role", ROLES, "customer")
    order = enum_param(values, "order", ("asc", "desc"), "asc")
    orderby = enum_param(values, "orderby", ORDERBY, "name")
    include, exclude = id_list(values, "include"), id_list(values, "exclude")
    email = str(values.get("email") or "").strip().lower()
    search = str(values.get("search") or "").strip()
    with store.state.lock:
        found = [
            c
            for c in store.state.customers.values()
            if role in ("all", c.role)
            and (not include or c.id in include)
            and c.id not in exclude
            and (not email or c.email.lower() == email)
            and (email or not search or _matches_search(c, search))
        ]
    if orderby == "include" and include:
        found.sort(key=lambda c: include.index(c.id))
        return found
    keys = {
        "id": lambda c: (c.id,),
        "include": lambda c: (c.id,),
        "name": lambda c: (c.display_name.lower(), c.id),
        "registered_date": lambda c: (c.date_created, c.id),
    }
    found.sort(key=keys[orderby], reverse=order == "desc")
    return found


def register(bp: Blueprint, store: Store) -> None:
    actions = store.customers

    def show(customer: Customer) -> dict[str, Any]:
        return customer_json(customer, store.site_view())

    def create(values: dict[str, Any]) -> dict[str, Any]:
        customer = actions.register(
            required_param(values, "email"),
            username=str(values.get("username") or ""),
            first_name=str(values.get("first_name") or ""),
            last_name=str(values.get("last_name") or ""),
            billing=values.get("billing"),
            shipping=values.get("shipping"),
            meta_data=values.get("meta_data"),
        )
        return show(customer)

    def update(customer_id: int, values: dict[str, Any]) -> dict[str, Any]:
        return show(actions.update(customer_id, values))

    def delete(customer_id: int) -> dict[str, Any]:
        with store.state.lock:
            body = show(actions.get(customer_id))
            actions.delete(customer_id)
        return body

    @bp.get("/customers")
    def list_customers() -> Response:
        values = params()
        args = page_args(values)
        found = _listing(store, values)
        require_key("list")
        result = paginate(found, args)
        with store.state.lock:
            items = [show(c) for c in result.items]
        return collection_response(store, "wc/v3/customers", result, items)

    @bp.post("/customers")
    def create_customer() -> Response:
        values = params()
        required_param(values, "email")  # argument validation precedes the permission check
        require_key("create")
        with store.dispatcher.request_scope():
            body = create(values)
        location = store.site_view().rest_url(f"wc/v3/customers/{body['id']}")
        return json_response(body, 201, {"Location": location})

    @bp.get("/customers/<int:customer_id>")
    def get_customer(customer_id: int) -> Response:
        with store.state.lock:
            customer = actions.get(customer_id)
            require_key("view")
            return json_response(show(customer))

    @bp.route("/customers/<int:customer_id>", methods=["POST", "PUT", "PATCH"])
    def update_customer(customer_id: int) -> Response:
        values = params()
        with store.state.lock:
            actions.get(customer_id)
        require_key("edit")
        with store.dispatcher.request_scope():
            return json_response(update(customer_id, values))

    @bp.delete("/customers/<int:customer_id>")
    def delete_customer(customer_id: int) -> Response:
        values = params()
        force = bool_param(values, "force")
        with store.state.lock:
            actions.get(customer_id)
        require_key("delete")
        if not force:
            raise RestError(
                "woocommerce_rest_trash_not_supported", "Customers do not support trashing.", 501
            )
        with store.dispatcher.request_scope():
            return json_response(delete(customer_id))

    @bp.route("/customers/batch", methods=["POST", "PUT", "PATCH"])
    def batch_customers() -> Response:
        values = params()
        require_key("batch")
        check_batch_limit(values, store.stats)
        with store.dispatcher.request_scope():
            return json_response(
                run_batch(
                    values,
                    create=create,
                    update=update,
                    delete=delete,
                    invalid_id=lambda: RestError(
                        "woocommerce_rest_invalid_id", "Invalid resource ID.", 400
                    ),
                )
            )
