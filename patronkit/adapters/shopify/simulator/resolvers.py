"""Root Query and Mutation resolvers of the simulated Admin API."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlsplit

from graphql import GraphQLError

from . import search_query
from .actions import CustomerFields, NotFound, UserErrors
from .context import Info, RequestContext, context_of, require_scope
from .formats import gid, gid_type, now_utc, parse_datetime, parse_gid
from .index import RecordIndexes, StaleIndex, epoch_seconds, window
from .pagination import SortValue, check_page_arguments, connection, decode_cursor
from .state import (
    Customer,
    DiscountCode,
    EmailConsent,
    Order,
    SmsConsent,
    WebhookSubscription,
    id_key,
    processed_at_key,
    updated_at_key,
)
from .views import (
    bulk_operation_view,
    customer_view,
    discount_node_view,
    order_view,
    shop_view,
    webhook_subscription_view,
)
from .webhooks import SUBSCRIBABLE_TOPICS

Resolver = Callable[..., Any]
R = TypeVar("R")


def _page_arguments(info: Info, args: dict[str, Any]) -> dict[str, Any]:
    """first/last/after/before, replaced while a bulk operation drives the query."""
    bulk = context_of(info).bulk
    if bulk is not None:
        if info.path.prev is None:  # the root connection is paged by the bulk runner
            return {"first": bulk.page_size, "after": bulk.after}
        return {"first": None}  # nested connections: everything
    check_page_arguments(args.get("first"), args.get("last"))
    return {key: args.get(key) for key in ("first", "last", "after", "before")}


def _finish_page(info: Info, page: dict[str, Any]) -> dict[str, Any]:
    """Tell a running bulk operation where the root connection's page ended."""
    bulk = context_of(info).bulk
    if bulk is not None and info.path.prev is None:
        bulk.end_cursor = page["pageInfo"]["endCursor"]
        bulk.has_next_page = page["pageInfo"]["hasNextPage"]
    return page


def _record_search(
    context: RequestContext, info: Info, query: str, parsed: search_query.ParsedQuery
) -> None:
    if parsed.warnings:
        context.search_extensions.append(
            {"path": list(info.path.as_list()), "query": query, "warnings": parsed.warnings}
        )


def _id_range(value: str) -> tuple[int, int]:
    number = int(value)
    return number, number


def _epoch_range(value: str) -> tuple[int, int]:
    # Conservative by a second each way: the filter compares datetimes, the index whole
    # seconds, and the filter still checks every record in range.
    stamp = parse_datetime(value).timestamp()
    return math.floor(stamp) - 1, math.ceil(stamp) + 1


@dataclass(frozen=True)
class IndexedSort:
    """A sort key served by the ShopState index `index` (built with the same key
    function), and the search field whose comparisons narrow a scan of that index."""

    index: str
    field: str
    to_range: Callable[[str], tuple[int, int]]


BY_ID = IndexedSort("ID", "id", _id_range)
BY_UPDATED_AT = IndexedSort("UPDATED_AT", "updated_at", _epoch_range)
BY_PROCESSED_AT = IndexedSort("PROCESSED_AT", "processed_at", _epoch_range)


def _indexed_items(
    indexes: RecordIndexes[R],
    records: Mapping[int, R],
    sort: IndexedSort,
    *,
    parsed: search_query.ParsedQuery,
    search_fields: Mapping[str, search_query.FieldGetter],
    matches: Callable[[R], bool],
    page: dict[str, Any],
    reverse: bool,
) -> list[R] | None:
    """The records `connection` needs for this page, from a sorted index; None if the
    index cannot serve the request (the caller then sorts everything, as it always did).

    The result is what sorting and filtering all records would give, cut down to the
    cursors' range and to one more than the page, so `connection` cuts the same page.
    Served: no filter, or only comparisons on the index's own field (which narrow the
    range to bisect). Any other filter (`email:`, free text, a negation) may match few
    records anywhere in the order, so walking the index would visit them all: there a
    scan that filters first and sorts the few matches is faster.
    """
    if parsed.free_text or any(
        term.field in search_fields and (term.field != sort.field or term.negated)
        for term in parsed.terms
    ):
        return None
    low, high = search_query.bounds(parsed, sort.field, sort.to_range)
    after, before = page.get("after"), page.get("before")
    for _attempt in range(2):
        index = indexes.fresh(sort.index, records)
        if index is None:
            return None
        try:
            return window(
                index,
                records,
                matches,
                low=low,
                high=high,
                first=page.get("first"),
                last=page.get("last"),
                after=decode_cursor(after) if after is not None else None,
                before=decode_cursor(before) if before is not None else None,
                reverse=reverse,
            )
        except StaleIndex:  # a write went around ShopState: rebuild, then try again
            indexes.rebuild(records.values())
    return None


# -- customers ---------------------------------------------------------------------------

CUSTOMER_SEARCH_FIELDS: dict[str, search_query.FieldGetter] = {
    "id": lambda c: c.id,
    "email": lambda c: c.email,
    "phone": lambda c: c.phone,
    "first_name": lambda c: c.first_name,
    "last_name": lambda c: c.last_name,
    "created_at": lambda c: c.created_at,
    "updated_at": lambda c: c.updated_at,
    "tag": lambda c: c.tags,
    "state": lambda c: c.state,
}

CUSTOMER_SORT_KEYS: dict[str, Callable[[Customer], tuple[SortValue, int]]] = {
    "ID": id_key,
    "RELEVANCE": id_key,
    "LOCATION": id_key,
    "CREATED_AT": lambda c: (epoch_seconds(c.created_at), c.id),
    "UPDATED_AT": updated_at_key,
    "NAME": lambda c: (f"{c.first_name or ''} {c.last_name or ''}".strip().lower(), c.id),
}

CUSTOMER_INDEXED_SORTS: dict[str, IndexedSort] = {
    "ID": BY_ID,
    "RELEVANCE": BY_ID,
    "LOCATION": BY_ID,
    "UPDATED_AT": BY_UPDATED_AT,
}


def customer_connection(info: Info, args: dict[str, Any]) -> dict[str, Any]:
    context = require_scope(info, "read_customers")
    state = context.shop.state
    query = args.get("query")
    parsed = search_query.parse(query)
    matches = search_query.build_filter(
        parsed,
        CUSTOMER_SEARCH_FIELDS,
        lambda c: f"{c.first_name} {c.last_name} {c.email} {c.phone}",
    )
    _record_search(context, info, query or "", parsed)
    sort_key = args.get("sortKey") or "ID"
    key = CUSTOMER_SORT_KEYS[sort_key]
    reverse = bool(args.get("reverse"))
    page = _page_arguments(info, args)
    items: list[Customer] | None = None
    if (indexed := CUSTOMER_INDEXED_SORTS.get(sort_key)) is not None:
        items = _indexed_items(
            state.customer_indexes,
            state.customers,
            indexed,
            parsed=parsed,
            search_fields=CUSTOMER_SEARCH_FIELDS,
            matches=matches,
            page=page,
            reverse=reverse,
        )
    if items is None:
        items = sorted(
            (c for c in state.customers.values() if matches(c)), key=key, reverse=reverse
        )
    if page.get("first") is None and page.get("last") is None:
        page["first"] = len(items)
    result = connection(
        items, key=key, view=lambda c: customer_view(state, c), reverse=reverse, **page
    )
    return _finish_page(info, result)


# -- orders ------------------------------------------------------------------------------

ORDER_SEARCH_FIELDS: dict[str, search_query.FieldGetter] = {
    "id": lambda o: o.id,
    "name": lambda o: o.name,
    "email": lambda o: o.email,
    "customer_id": lambda o: o.customer_id,
    "created_at": lambda o: o.created_at,
    "updated_at": lambda o: o.updated_at,
    "processed_at": lambda o: o.processed_at,
    "financial_status": lambda o: o.financial_status.lower(),
    "fulfillment_status": lambda o: o.fulfillment_status.lower(),
    "discount_code": lambda o: o.discount_codes,
}

ORDER_SORT_KEYS: dict[str, Callable[[Order], tuple[SortValue, int]]] = {
    "ID": id_key,
    "ORDER_NUMBER": lambda o: (o.number, o.id),
    "CREATED_AT": lambda o: (epoch_seconds(o.created_at), o.id),
    "UPDATED_AT": updated_at_key,
    "PROCESSED_AT": processed_at_key,
    "TOTAL_PRICE": lambda o: (int(o.total_price * 100), o.id),
}

ORDER_INDEXED_SORTS: dict[str, IndexedSort] = {
    "ID": BY_ID,
    "UPDATED_AT": BY_UPDATED_AT,
    "PROCESSED_AT": BY_PROCESSED_AT,
}


def order_connection(
    info: Info, args: dict[str, Any], customer_id: int | None = None
) -> dict[str, Any]:
    context = require_scope(info, "read_orders")
    state = context.shop.state
    query = args.get("query")
    parsed = search_query.parse(query)
    matches = search_query.build_filter(
        parsed, ORDER_SEARCH_FIELDS, lambda o: f"{o.name} {o.email}"
    )
    _record_search(context, info, query or "", parsed)
    sort_key = args.get("sortKey") or "PROCESSED_AT"
    key = ORDER_SORT_KEYS[sort_key]
    reverse = bool(args.get("reverse"))
    page = _page_arguments(info, args)
    items: list[Order] | None = None
    if customer_id is None and (indexed := ORDER_INDEXED_SORTS.get(sort_key)) is not None:
        items = _indexed_items(
            state.order_indexes,
            state.orders,
            indexed,
            parsed=parsed,
            search_fields=ORDER_SEARCH_FIELDS,
            matches=matches,
            page=page,
            reverse=reverse,
        )
    if items is None:
        # A customer's own orders are few: sorting them is cheap.
        source = state.orders_of(customer_id) if customer_id is not None else state.orders.values()
        items = sorted((o for o in source if matches(o)), key=key, reverse=reverse)
    if page.get("first") is None and page.get("last") is None:
        page["first"] = len(items)
    result = connection(
        items, key=key, view=lambda o: order_view(state, o), reverse=reverse, **page
    )
    return _finish_page(info, result)


# -- queries -----------------------------------------------------------------------------


def resolve_shop(_: Any, info: Info) -> dict[str, Any]:
    return shop_view(context_of(info).shop.state)


def resolve_customer(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    context = require_scope(info, "read_customers")
    customer_id = parse_gid(id, "Customer")
    customer = context.shop.state.customers.get(customer_id) if customer_id else None
    return customer_view(context.shop.state, customer) if customer else None


def resolve_customers(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    return customer_connection(info, args)


def resolve_order(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    context = require_scope(info, "read_orders")
    order_id = parse_gid(id, "Order")
    order = context.shop.state.orders.get(order_id) if order_id else None
    return order_view(context.shop.state, order) if order else None


def resolve_orders(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    return order_connection(info, args)


def _subscriptions(info: Info) -> list[WebhookSubscription]:
    state = context_of(info).shop.state
    return sorted(state.webhook_subscriptions.values(), key=lambda s: s.id)


def resolve_webhook_subscription(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    shop = context_of(info).shop
    sub_id = parse_gid(id, "WebhookSubscription")
    sub = shop.state.webhook_subscriptions.get(sub_id) if sub_id else None
    return webhook_subscription_view(sub, shop.config.webhook_api_version) if sub else None


def resolve_webhook_subscriptions(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    shop = context_of(info).shop
    topics = set(args.get("topics") or [])
    url = args.get("callbackUrl")
    items = [
        s
        for s in _subscriptions(info)
        if (not topics or s.topic in topics) and (url is None or s.callback_url == url)
    ]
    check_page_arguments(args.get("first"), args.get("last"))
    return connection(
        items,
        key=lambda s: (s.id, s.id),
        view=lambda s: webhook_subscription_view(s, shop.config.webhook_api_version),
        first=args.get("first"),
        last=args.get("last"),
        after=args.get("after"),
        before=args.get("before"),
    )


def resolve_current_bulk_operation(
    _: Any, info: Info, type: str = "QUERY"
) -> dict[str, Any] | None:
    operation = context_of(info).shop.bulk.current()
    if type != "QUERY" or operation is None:
        return None
    return bulk_operation_view(operation)


def _node(info: Info, node_id: str) -> dict[str, Any] | None:
    context = context_of(info)
    state = context.shop.state
    kind = gid_type(node_id)
    number = parse_gid(node_id)
    if kind is None or number is None:
        return None
    if kind == "Customer":
        require_scope(info, "read_customers")
        customer = state.customers.get(number)
        return customer_view(state, customer) if customer else None
    if kind == "Order":
        require_scope(info, "read_orders")
        order = state.orders.get(number)
        return order_view(state, order) if order else None
    if kind == "BulkOperation":
        operation = state.bulk_operations.get(number)
        return bulk_operation_view(operation) if operation else None
    if kind == "WebhookSubscription":
        sub = state.webhook_subscriptions.get(number)
        return (
            webhook_subscription_view(sub, context.shop.config.webhook_api_version) if sub else None
        )
    if kind == "DiscountCodeNode":
        discount = state.discount_codes.get(number)
        return discount_node_view(discount) if discount else None
    if kind == "Shop" and number == state.shop_id:
        return shop_view(state)
    return None


def resolve_node(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    return _node(info, id)


def resolve_nodes(_: Any, info: Info, ids: list[str]) -> list[dict[str, Any] | None]:
    if len(ids) > 250:
        raise GraphQLError("The ids argument accepts at most 250 ids.")
    return [_node(info, node_id) for node_id in ids]


# -- mutations ---------------------------------------------------------------------------


def _user_errors(error: UserErrors, with_code: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "field": e["field"],
            "message": e["message"],
            **({"code": e.get("code")} if with_code else {}),
        }
        for e in error.errors
    ]


def _datetime_input(value: Any, field: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(str(value))
    except ValueError as error:
        raise UserErrors(
            [{"field": field, "message": "is not a valid date time", "code": "INVALID"}]
        ) from error


def _consent_update(info: Info, input: dict[str, Any], channel: str) -> dict[str, Any]:
    context = require_scope(info, "write_customers")
    actions = context.shop.actions
    consent_key = "emailMarketingConsent" if channel == "email" else "smsMarketingConsent"
    consent = input[consent_key]
    customer_id = parse_gid(input["customerId"], "Customer")
    try:
        if customer_id is None or customer_id not in context.shop.state.customers:
            raise UserErrors(
                [
                    {
                        "field": ["input", "customerId"],
                        "message": "Customer not found",
                        "code": "INVALID",
                    }
                ]
            )
        when = _datetime_input(
            consent.get("consentUpdatedAt"), ["input", consent_key, "consentUpdatedAt"]
        )
        setter = actions.set_email_consent if channel == "email" else actions.set_sms_consent
        customer = setter(
            customer_id, consent["marketingState"], consent.get("marketingOptInLevel"), when
        )
    except UserErrors as error:
        return {"customer": None, "userErrors": _user_errors(error)}
    return {"customer": customer_view(context.shop.state, customer), "userErrors": []}


def resolve_email_consent_update(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    return _consent_update(info, input, "email")


def resolve_sms_consent_update(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    return _consent_update(info, input, "sms")


def _customer_fields(input: dict[str, Any]) -> CustomerFields:
    return CustomerFields(
        email=input.get("email"),
        phone=input.get("phone"),
        first_name=input.get("firstName"),
        last_name=input.get("lastName"),
        note=input.get("note"),
        tags=input.get("tags"),
    )


def resolve_customer_create(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = require_scope(info, "write_customers")
    try:
        email_consent = sms_consent = None
        if (email_input := input.get("emailMarketingConsent")) is not None:
            when = _datetime_input(
                email_input.get("consentUpdatedAt"), ["emailMarketingConsent", "consentUpdatedAt"]
            )
            email_consent = EmailConsent(
                email_input["marketingState"],
                email_input.get("marketingOptInLevel") or "SINGLE_OPT_IN",
                when or now_utc(),
            )
        if (sms_input := input.get("smsMarketingConsent")) is not None:
            when = _datetime_input(
                sms_input.get("consentUpdatedAt"), ["smsMarketingConsent", "consentUpdatedAt"]
            )
            sms_consent = SmsConsent(
                sms_input["marketingState"],
                sms_input.get("marketingOptInLevel") or "SINGLE_OPT_IN",
                when or now_utc(),
            )
        customer = context.shop.actions.create_customer(
            _customer_fields(input), email_consent=email_consent, sms_consent=sms_consent
        )
    except UserErrors as error:
        return {"customer": None, "userErrors": _user_errors(error, with_code=False)}
    return {"customer": customer_view(context.shop.state, customer), "userErrors": []}


def resolve_customer_update(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = require_scope(info, "write_customers")
    customer_id = parse_gid(input.get("id") or "", "Customer")
    errors: list[dict[str, Any]] = []
    if customer_id is None or customer_id not in context.shop.state.customers:
        errors.append({"field": ["id"], "message": "Customer does not exist"})
    for key, mutation in (
        ("emailMarketingConsent", "customerEmailMarketingConsentUpdate"),
        ("smsMarketingConsent", "customerSmsMarketingConsentUpdate"),
    ):
        if input.get(key) is not None:
            errors.append(
                {
                    "field": [key],
                    "message": f"To update {key}, please use the {mutation} Mutation instead",
                }
            )
    if errors or customer_id is None:
        return {"customer": None, "userErrors": errors}
    try:
        customer = context.shop.actions.update_customer(customer_id, _customer_fields(input))
    except UserErrors as error:
        return {"customer": None, "userErrors": _user_errors(error, with_code=False)}
    return {"customer": customer_view(context.shop.state, customer), "userErrors": []}


def resolve_customer_delete(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = require_scope(info, "write_customers")
    shop = shop_view(context.shop.state)
    customer_id = parse_gid(input["id"], "Customer")
    try:
        if customer_id is None:
            raise NotFound
        context.shop.actions.delete_customer(customer_id)
    except NotFound:
        return {
            "deletedCustomerId": None,
            "shop": shop,
            "userErrors": [{"field": ["id"], "message": "Customer can't be found"}],
        }
    except UserErrors as error:
        return {
            "deletedCustomerId": None,
            "shop": shop,
            "userErrors": _user_errors(error, with_code=False),
        }
    return {"deletedCustomerId": input["id"], "shop": shop, "userErrors": []}


def resolve_discount_code_basic_create(
    _: Any,
    info: Info,
    basicCodeDiscount: dict[str, Any],
) -> dict[str, Any]:
    context = require_scope(info, "write_discounts")
    state = context.shop.state
    data = basicCodeDiscount
    errors: list[dict[str, Any]] = []
    code = (data.get("code") or "").strip()
    field = ["basicCodeDiscount"]
    if not code:
        errors.append(
            {"field": [*field, "code"], "message": "Code can't be blank", "code": "BLANK"}
        )
    elif len(code) > 255:
        errors.append(
            {"field": [*field, "code"], "message": "Code is too long", "code": "TOO_LONG"}
        )
    elif any(d.code.lower() == code.lower() for d in state.discount_codes.values()):
        errors.append(
            {
                "field": [*field, "code"],
                "message": "Code must be unique. Please try a different code.",
                "code": "TAKEN",
            }
        )
    if not data.get("title"):
        errors.append(
            {"field": [*field, "title"], "message": "Title can't be blank", "code": "BLANK"}
        )
    if data.get("startsAt") is None:
        errors.append(
            {"field": [*field, "startsAt"], "message": "Starts at can't be blank", "code": "BLANK"}
        )
    value = ((data.get("customerGets") or {}).get("value")) or {}
    percentage = value.get("percentage")
    amount_input = (value.get("discountAmount") or {}).get("amount")
    amount: Decimal | None = None
    if percentage is None and amount_input is None:
        errors.append(
            {
                "field": [*field, "customerGets", "value"],
                "message": "Value can't be blank",
                "code": "BLANK",
            }
        )
    if percentage is not None and not 0 < float(percentage) <= 1:
        errors.append(
            {
                "field": [*field, "customerGets", "value", "percentage"],
                "message": "Value must be between 0.0 and 1.0",
                "code": "VALUE_OUTSIDE_RANGE",
            }
        )
    if amount_input is not None:
        try:
            amount = Decimal(str(amount_input))
        except InvalidOperation:
            errors.append(
                {
                    "field": [*field, "customerGets", "value", "discountAmount", "amount"],
                    "message": "Amount is invalid",
                    "code": "INVALID",
                }
            )
    if errors:
        return {"codeDiscountNode": None, "userErrors": errors}
    selection = data.get("context") or data.get("customerSelection") or {}
    customer_ids = [
        n
        for n in (
            parse_gid(c, "Customer") for c in ((selection.get("customers") or {}).get("add") or [])
        )
        if n
    ]
    with state.lock:
        discount = DiscountCode(
            id=state.next_id(),
            code=code,
            title=data["title"],
            created_at=now_utc(),
            starts_at=_datetime_input(data.get("startsAt"), [*field, "startsAt"]),
            ends_at=_datetime_input(data.get("endsAt"), [*field, "endsAt"]),
            usage_limit=data.get("usageLimit"),
            applies_once_per_customer=bool(data.get("appliesOncePerCustomer")),
            percentage=float(percentage) if percentage is not None else None,
            amount=amount,
            customer_ids=customer_ids,
        )
        state.discount_codes[discount.id] = discount
    return {"codeDiscountNode": discount_node_view(discount), "userErrors": []}


_TOPIC_SCOPES = {"CUSTOMERS": "read_customers", "ORDERS": "read_orders", "REFUNDS": "read_orders"}


def _callback_url_error(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Address is invalid"
    # Shopify requires HTTPS; plain HTTP is let through for loopback receivers only, so
    # tests and demos can listen locally without certificates.
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "Address protocol http:// is not supported"
    return None


def resolve_webhook_subscription_create(
    _: Any,
    info: Info,
    topic: str,
    webhookSubscription: dict[str, Any],
) -> dict[str, Any]:
    context = context_of(info)
    state = context.shop.state
    url = webhookSubscription.get("callbackUrl") or webhookSubscription.get("uri") or ""
    fmt = webhookSubscription.get("format") or "JSON"
    errors: list[dict[str, Any]] = []
    if (problem := _callback_url_error(url)) is not None:
        errors.append({"field": ["webhookSubscription", "callbackUrl"], "message": problem})
    if fmt != "JSON":
        errors.append(
            {
                "field": ["webhookSubscription", "format"],
                "message": "Format XML is not supported by this shop",
            }
        )
    scope = _TOPIC_SCOPES.get(topic.split("_", 1)[0])
    if scope and not context.has_scope(scope):
        errors.append(
            {
                "field": ["topic"],
                "message": f"Topic {SUBSCRIBABLE_TOPICS[topic]} requires the {scope} access scope",
            }
        )
    with state.lock:
        if any(
            s.topic == topic and s.callback_url == url for s in state.webhook_subscriptions.values()
        ):
            errors.append(
                {
                    "field": ["webhookSubscription", "callbackUrl"],
                    "message": "Address for this topic has already been taken",
                }
            )
        if errors:
            return {"webhookSubscription": None, "userErrors": errors}
        now = now_utc()
        sub = WebhookSubscription(state.next_id(), topic, url, fmt, now, now)
        state.webhook_subscriptions[sub.id] = sub
    return {
        "webhookSubscription": webhook_subscription_view(
            sub, context.shop.config.webhook_api_version
        ),
        "userErrors": [],
    }


def resolve_webhook_subscription_delete(_: Any, info: Info, id: str) -> dict[str, Any]:
    state = context_of(info).shop.state
    sub_id = parse_gid(id, "WebhookSubscription")
    with state.lock:
        if sub_id is None or state.webhook_subscriptions.pop(sub_id, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
    return {"deletedWebhookSubscriptionId": gid("WebhookSubscription", sub_id), "userErrors": []}


def resolve_bulk_operation_run_query(
    _: Any,
    info: Info,
    query: str,
    groupObjects: bool = False,
) -> dict[str, Any]:
    context = context_of(info)
    try:
        operation = context.shop.bulk.start(query, context.scopes, context.base_url)
    except UserErrors as error:
        return {"bulkOperation": None, "userErrors": _user_errors(error)}
    return {"bulkOperation": bulk_operation_view(operation), "userErrors": []}


def resolve_bulk_operation_cancel(_: Any, info: Info, id: str) -> dict[str, Any]:
    context = context_of(info)
    operation_id = parse_gid(id, "BulkOperation")
    try:
        operation = context.shop.bulk.cancel(operation_id or 0)
    except UserErrors as error:
        return {"bulkOperation": None, "userErrors": _user_errors(error)}
    return {"bulkOperation": bulk_operation_view(operation), "userErrors": []}


QUERY_RESOLVERS: dict[str, Resolver] = {
    "shop": resolve_shop,
    "customer": resolve_customer,
    "customers": resolve_customers,
    "order": resolve_order,
    "orders": resolve_orders,
    "webhookSubscription": resolve_webhook_subscription,
    "webhookSubscriptions": resolve_webhook_subscriptions,
    "currentBulkOperation": resolve_current_bulk_operation,
    "node": resolve_node,
    "nodes": resolve_nodes,
}

MUTATION_RESOLVERS: dict[str, Resolver] = {
    "customerCreate": resolve_customer_create,
    "customerUpdate": resolve_customer_update,
    "customerDelete": resolve_customer_delete,
    "customerEmailMarketingConsentUpdate": resolve_email_consent_update,
    "customerSmsMarketingConsentUpdate": resolve_sms_consent_update,
    "discountCodeBasicCreate": resolve_discount_code_basic_create,
    "webhookSubscriptionCreate": resolve_webhook_subscription_create,
    "webhookSubscriptionDelete": resolve_webhook_subscription_delete,
    "bulkOperationRunQuery": resolve_bulk_operation_run_query,
    "bulkOperationCancel": resolve_bulk_operation_cancel,
}
