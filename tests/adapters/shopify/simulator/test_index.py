"""Pages served from the sorted indexes: the same pages a full sort would give, kept right
through inserts, updates and deletes. Runs the GraphQL executor in-process (no HTTP, no
throttle) so that 100,000 customers stay quick."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from graphql import parse

from patronkit.adapters.shopify.simulator import search_query
from patronkit.adapters.shopify.simulator.actions import CustomerFields
from patronkit.adapters.shopify.simulator.context import RequestContext
from patronkit.adapters.shopify.simulator.formats import gid, iso
from patronkit.adapters.shopify.simulator.pagination import SortValue, connection, encode_cursor
from patronkit.adapters.shopify.simulator.shop import DEFAULT_SCOPES, Shop, SimulatorConfig
from patronkit.adapters.shopify.simulator.state import Customer, EmailConsent, Order

T0 = datetime(2025, 1, 1, tzinfo=UTC)

CUSTOMERS = """
query($first: Int, $last: Int, $after: String, $before: String, $query: String,
      $sortKey: CustomerSortKeys, $reverse: Boolean) {
  customers(first: $first, last: $last, after: $after, before: $before, query: $query,
            sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { id updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

ORDERS = """
query($first: Int, $last: Int, $after: String, $before: String, $query: String,
      $sortKey: OrderSortKeys, $reverse: Boolean) {
  orders(first: $first, last: $last, after: $after, before: $before, query: $query,
         sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

_DOCUMENTS = {"customers": parse(CUSTOMERS), "orders": parse(ORDERS)}


@pytest.fixture
def shop() -> Iterator[Shop]:
    shop = Shop(SimulatorConfig(customers=0))
    yield shop
    shop.close()


def run(shop: Shop, connection_name: str, **variables: Any) -> dict[str, Any]:
    """One page of `customers` or `orders`: data, or {"errors": [messages]}."""
    context = RequestContext(shop, frozenset(DEFAULT_SCOPES), "http://sim.test")
    result = shop.graphql.execute_document(_DOCUMENTS[connection_name], context, variables)
    if result.errors:
        return {"errors": [error.message for error in result.errors]}
    assert result.data is not None
    page: dict[str, Any] = result.data[connection_name]
    return page


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


# The sort keys as the API defines them, written out independently of the simulator.
CUSTOMER_KEYS: dict[str, Callable[[Customer], tuple[SortValue, int]]] = {
    "ID": lambda c: (c.id, c.id),
    "RELEVANCE": lambda c: (c.id, c.id),
    "UPDATED_AT": lambda c: (_epoch(c.updated_at), c.id),
    "CREATED_AT": lambda c: (_epoch(c.created_at), c.id),
}
ORDER_KEYS: dict[str, Callable[[Order], tuple[SortValue, int]]] = {
    "ID": lambda o: (o.id, o.id),
    "UPDATED_AT": lambda o: (_epoch(o.updated_at), o.id),
    "PROCESSED_AT": lambda o: (_epoch(o.processed_at), o.id),
}


def reference(
    records: Mapping[int, Any],
    kind: str,
    keys: Mapping[str, Callable[[Any], tuple[SortValue, int]]],
    search_fields: Mapping[str, search_query.FieldGetter],
    default_sort: str,
    **variables: Any,
) -> dict[str, Any]:
    """The page by the definition: filter everything, sort everything, cut."""
    parsed = search_query.parse(variables.get("query"))
    matches = search_query.build_filter(parsed, search_fields, lambda record: "")
    key = keys[variables.get("sortKey") or default_sort]
    reverse = bool(variables.get("reverse"))
    items = sorted((r for r in records.values() if matches(r)), key=key, reverse=reverse)
    page = connection(
        items,
        key=key,
        view=lambda record: {"id": gid(kind, record.id)},
        reverse=reverse,
        **{name: variables.get(name) for name in ("first", "last", "after", "before")},
    )
    return {
        "edges": [{"cursor": e["cursor"], "id": e["node"]["id"]} for e in page["edges"]],
        "pageInfo": page["pageInfo"],
    }


def served(page: dict[str, Any]) -> dict[str, Any]:
    if "errors" in page:
        return page
    return {
        "edges": [{"cursor": e["cursor"], "id": e["node"]["id"]} for e in page["edges"]],
        "pageInfo": page["pageInfo"],
    }


def _customer(customer_id: int, updated_at: datetime) -> Customer:
    return Customer(
        id=customer_id,
        email=None,
        phone=None,
        first_name="Test",
        last_name=str(customer_id),
        created_at=T0,
        updated_at=updated_at,
        email_consent=EmailConsent("NOT_SUBSCRIBED", "SINGLE_OPT_IN", None),
        sms_consent=None,
    )


def test_paging_100k_customers_by_updated_at_with_a_filter(shop: Shop) -> None:
    rng = random.Random(11)
    ids = list(range(7_400_000_000_001, 7_400_000_100_001))
    rng.shuffle(ids)  # inserted out of order; about five customers share each second
    state = shop.state
    with state.lock:
        for customer_id in ids:
            state.add_customer(
                _customer(customer_id, T0 + timedelta(seconds=rng.randrange(20_000)))
            )
        pivot = T0 + timedelta(seconds=5_000)
        expected = [
            gid("Customer", c.id)
            for c in sorted(state.customers.values(), key=lambda c: (c.updated_at, c.id))
            if c.updated_at >= pivot
        ]
    assert len(state.customers) == 100_000
    assert 70_000 < len(expected) < 80_000

    seen: list[str] = []
    stamps: list[str] = []
    after = None
    pages = 0
    while True:
        page = run(
            shop,
            "customers",
            first=250,
            after=after,
            sortKey="UPDATED_AT",
            query=f"updated_at:>='{iso(pivot)}'",
        )
        pages += 1
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        stamps.extend(edge["node"]["updatedAt"] for edge in page["edges"])
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == -(-len(expected) // 250)
    assert len(seen) == len(set(seen))  # no duplicates
    assert seen == expected  # no gaps, and in (updated_at, id) order
    assert stamps == sorted(stamps) and stamps[0] >= (iso(pivot) or "")
    assert state.customer_indexes.rebuilds == 0


def test_index_follows_updates_and_deletes_during_pagination(shop: Shop) -> None:
    """Shopify's cursor semantics on UPDATED_AT: a record changed mid-scan moves behind
    the cursor and comes again at the end; one deleted ahead of the cursor never comes."""
    shop.seed(600, 0, seed=3)
    actions = shop.actions
    state = shop.state
    rng = random.Random(5)
    seen: list[str] = []
    updated_after_seen: list[int] = []
    updated_before_seen: list[int] = []
    deleted: list[int] = []
    created: list[int] = []
    after = None
    for page_number in range(100):
        page = run(shop, "customers", first=40, after=after, sortKey="UPDATED_AT")
        with state.lock:
            expected = reference(
                state.customers,
                "Customer",
                CUSTOMER_KEYS,
                {},
                "ID",
                first=40,
                after=after,
                sortKey="UPDATED_AT",
            )
        assert served(page) == expected
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        if page_number < 6:  # while the cursor is still among the seeded (older) stamps
            touched = {*updated_after_seen, *updated_before_seen, *deleted, *created}
            with state.lock:
                ahead = [
                    c.id
                    for c in state.customers.values()
                    if gid("Customer", c.id) not in seen and c.id not in touched
                ]
            victims = rng.sample(ahead, 3)
            old_seen = int(seen[rng.randrange(len(seen))].rsplit("/", 1)[1])
            if old_seen not in updated_after_seen:
                actions.update_customer(old_seen, CustomerFields(note=f"seen {page_number}"))
                updated_after_seen.append(old_seen)
            with state.lock:
                current = state.customers[victims[0]].email_consent.marketing_state
            new_state = "UNSUBSCRIBED" if current == "SUBSCRIBED" else "SUBSCRIBED"
            actions.set_email_consent(victims[0], new_state, "SINGLE_OPT_IN")
            actions.update_customer(victims[1], CustomerFields(first_name="Moved"))
            updated_before_seen.extend(victims[:2])
            actions.delete_customer(victims[2])
            deleted.append(victims[2])
            new = actions.create_customer(CustomerFields(email=f"new{page_number}@example.com"))
            created.append(new.id)
    else:
        raise AssertionError("pagination did not end")

    assert updated_after_seen and len(updated_before_seen) == 12 and len(deleted) == 6
    assert state.customer_indexes.rebuilds == 0  # kept in step by the writes themselves
    positions: dict[int, list[int]] = {}
    for position, node_id in enumerate(seen):
        positions.setdefault(int(node_id.rsplit("/", 1)[1]), []).append(position)
    with state.lock:
        remaining = set(state.customers)
        moved = [*updated_after_seen, *updated_before_seen, *created]
        tail = sorted(moved, key=lambda cid: CUSTOMER_KEYS["UPDATED_AT"](state.customers[cid]))
    assert set(positions) == remaining  # deleted ones never came
    for customer_id, at in positions.items():
        # seen before the change and again after it; everyone else exactly once
        assert len(at) == (2 if customer_id in updated_after_seen else 1)
    # Everything changed or created during the scan comes last, in (updated_at, id) order.
    assert seen[-len(tail) :] == [gid("Customer", cid) for cid in tail]


CUSTOMER_QUERIES = [
    None,
    "updated_at:>'{mid}'",
    "updated_at:>='{mid}'",
    "updated_at:<'{mid}'",
    "updated_at:<='{mid}'",
    "updated_at:'{mid}'",
    "updated_at:>='{low}' AND updated_at:<'{mid}'",
    "updated_at:>'{mid}' updated_at:<'{low}'",  # empty
    "updated_at:>2024-12-31",
    "updated_at:>nonsense",
    "-updated_at:>'{mid}'",
    "id:>{some_id}",
    "id:<={some_id} updated_at:>='{low}'",
    "email:*",
    "email:new*",
    "unknown_field:whatever updated_at:>'{low}'",
]


def _random_cursor(rng: random.Random, keys: list[tuple[SortValue, int]]) -> str | None:
    roll = rng.random()
    if roll < 0.3 or not keys:
        return None
    if roll < 0.8:
        return encode_cursor(rng.choice(keys))
    value, record_id = rng.choice(keys)
    if isinstance(value, int):  # between existing keys, or past either end
        return encode_cursor((value + rng.choice((-1, 0, 1)), record_id + rng.choice((-1, 1))))
    return encode_cursor((value, record_id))


def test_indexed_pages_equal_a_full_sort(shop: Shop) -> None:
    """Random pages (first/last, after/before, reverse, filters, every indexed sort) are
    the same as the full-sort definition, before and after writes."""
    rng = random.Random(23)
    state = shop.state
    with state.lock:
        for n in range(300):
            # few distinct seconds, so ties on updated_at are common
            stamp = T0 + timedelta(seconds=rng.randrange(60))
            state.add_customer(_customer(7_400_000_000_001 + n, stamp))
    customer_fields: dict[str, search_query.FieldGetter] = {
        "id": lambda c: c.id,
        "email": lambda c: c.email,
        "updated_at": lambda c: c.updated_at,
    }
    order_fields: dict[str, search_query.FieldGetter] = {
        "id": lambda o: o.id,
        "updated_at": lambda o: o.updated_at,
        "processed_at": lambda o: o.processed_at,
    }
    with state.lock:
        customer_ids = sorted(state.customers)
    for _ in range(60):
        shop.actions.create_order(rng.choice(customer_ids), Decimal("10.00"))

    def check_round(rounds: int) -> None:
        for _ in range(rounds):
            with state.lock:
                customers = dict(state.customers)
                orders = dict(state.orders)
            sort_key = rng.choice(["ID", "RELEVANCE", "UPDATED_AT", "CREATED_AT"])
            keys = sorted(CUSTOMER_KEYS[sort_key](c) for c in customers.values())
            stamps = sorted(c.updated_at for c in customers.values())
            some_id = rng.choice(list(customers))
            query = rng.choice(CUSTOMER_QUERIES)
            if query is not None:
                query = query.format(
                    mid=iso(stamps[len(stamps) // 2]),
                    low=iso(stamps[len(stamps) // 5]),
                    some_id=some_id,
                )
            variables: dict[str, Any] = {
                "sortKey": sort_key,
                "query": query,
                "reverse": rng.random() < 0.4,
            }
            if rng.random() < 0.7:
                variables["first"] = rng.choice((0, 1, 7, 50, 250))
            if "first" not in variables or rng.random() < 0.1:
                variables["last"] = rng.choice((0, 1, 7, 50))
            variables["after"] = _random_cursor(rng, keys)
            if rng.random() < 0.3:
                variables["before"] = _random_cursor(rng, keys)
            page = served(run(shop, "customers", **variables))
            assert page == reference(
                customers, "Customer", CUSTOMER_KEYS, customer_fields, "ID", **variables
            ), variables

            order_sort = rng.choice(["ID", "UPDATED_AT", "PROCESSED_AT", None])
            order_keys = sorted(
                ORDER_KEYS[order_sort or "PROCESSED_AT"](o) for o in orders.values()
            )
            order_stamps = sorted(o.updated_at for o in orders.values())
            order_query = rng.choice(
                [
                    None,
                    f"updated_at:>='{iso(order_stamps[len(order_stamps) // 2])}'",
                    f"processed_at:<'{iso(order_stamps[len(order_stamps) // 2])}'",
                ]
            )
            order_variables = {
                "sortKey": order_sort,
                "query": order_query,
                "reverse": rng.random() < 0.4,
                "first": rng.choice((1, 7, 250)),
                "after": _random_cursor(rng, order_keys),
            }
            assert served(run(shop, "orders", **order_variables)) == reference(
                orders, "Order", ORDER_KEYS, order_fields, "PROCESSED_AT", **order_variables
            ), order_variables

    check_round(150)
    with state.lock:
        ids = [c.id for c in state.customers.values() if not state.orders_of(c.id)]
        order_ids = list(state.orders)
    for customer_id in rng.sample(ids, 40):
        shop.actions.delete_customer(customer_id)
    for customer_id in rng.sample(sorted(set(state.customers)), 40):
        shop.actions.update_customer(customer_id, CustomerFields(note=str(rng.random())))
    for n in range(20):
        shop.actions.create_customer(CustomerFields(email=f"new{n}@example.com"))
    for order_id in rng.sample(order_ids, 20):
        shop.actions.mark_paid(order_id)
    check_round(150)
    assert state.customer_indexes.rebuilds == state.order_indexes.rebuilds == 0


def test_writes_around_shop_state_are_caught(shop: Shop) -> None:
    """A record put into or taken out of `state.customers` directly, or re-stamped
    in place, still pages correctly: the index notices and rebuilds."""
    state = shop.state
    with state.lock:
        for n in range(50):
            state.add_customer(_customer(7_400_000_000_001 + n, T0 + timedelta(seconds=n)))
        state.customers[7_400_000_001_000] = _customer(7_400_000_001_000, T0)  # direct insert
        del state.customers[7_400_000_000_010]  # direct delete
        state.customers[7_400_000_000_020].updated_at = T0 + timedelta(days=1)  # in place
        state.customers[7_400_000_000_030].updated_at = T0 - timedelta(days=1)
        customers = dict(state.customers)
    for variables in (
        {"first": 250, "sortKey": "UPDATED_AT"},
        {"first": 10, "sortKey": "UPDATED_AT", "reverse": True},
        {"last": 5, "sortKey": "ID"},
    ):
        assert served(run(shop, "customers", **variables)) == reference(
            customers, "Customer", CUSTOMER_KEYS, {}, "ID", **variables
        )
    assert state.customer_indexes.rebuilds > 0
