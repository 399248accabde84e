"""Query cost maths, the leaky bucket, and injected HTTP faults."""

from __future__ import annotations

import time

import requests
from graphql import parse

from patronkit.adapters.shopify.simulator import ShopifySimulator
from patronkit.adapters.shopify.simulator.cost import (
    actual_cost,
    connection_multiplier,
    requested_cost,
)
from patronkit.adapters.shopify.simulator.graphql_api import admin_schema
from patronkit.adapters.simulation import RACE_ALLOWANCE_SECONDS

from .conftest import GraphQL


def _requested(query: str, variables: dict[str, object] | None = None) -> int:
    return requested_cost(admin_schema(), parse(query), None, variables)


def test_cost_matches_costs_shopify_reported() -> None:
    assert _requested("{ customers(first: 200) { nodes { id updatedAt } } }") == 12
    assert _requested("{ customers(first: 200) { edges { node { id updatedAt } } } }") == 12
    assert _requested("{ customers(first: 1) { nodes { id } } }") == 3
    assert _requested("query($n: Int) { customers(first: $n) { nodes { id } } }", {"n": 200}) == 12
    # money objects and pageInfo are free; scalars are free
    assert (
        _requested(
            "{ customers(first: 1) { pageInfo { hasNextPage } "
            "nodes { id amountSpent { amount } } } }"
        )
        == 3
    )
    # one object per node: emailMarketingConsent adds 1 per node, times the multiplier
    assert (
        _requested(
            "{ customers(first: 200) { nodes { id emailMarketingConsent { marketingState } } } }"
        )
        == 22
    )
    assert (
        _requested(
            'mutation { customerDelete(input: {id: "gid://shopify/Customer/1"}) '
            "{ deletedCustomerId } }"
        )
        == 10
    )
    assert [connection_multiplier(n) for n in (0, 1, 2, 50, 100, 250)] == [0, 1, 3, 8, 9, 10]


def test_actual_cost_counts_returned_nodes() -> None:
    document = parse("{ customers(first: 200) { nodes { id } } }")
    three = {"customers": {"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}}
    assert actual_cost(admin_schema(), document, three) == 2 + connection_multiplier(3)
    assert actual_cost(admin_schema(), document, {"customers": {"nodes": []}}) == 2


def test_cost_extension_and_refund(simulator: ShopifySimulator, gql: GraphQL) -> None:
    body = gql("{ customers(first: 250) { nodes { id } } }")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12
    assert cost["actualQueryCost"] == 2 + connection_multiplier(60)
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000 and status["restoreRate"] == 100
    # only the actual cost was kept out of the bucket (allowing for refill during the call)
    assert 2000 - cost["actualQueryCost"] <= status["currentlyAvailable"] <= 2000


def test_max_cost_exceeded(simulator: ShopifySimulator, gql: GraphQL) -> None:
    deep = """{ customers(first: 250) { nodes { orders(first: 250) { nodes { customer {
                 orders(first: 250) { nodes { id } } } } } } } }"""
    body = gql(deep)
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] > 1000
    assert error["message"].startswith(f"Query cost is {error['extensions']['cost']}")
    assert simulator.stats()["api"]["max_cost_exceeded"] == 1


# costs 22 points: 2 + 10 x (node 1 + consent object 1)
QUERY = "{ customers(first: 250) { nodes { id emailMarketingConsent { marketingState } } } }"


def test_client_ignoring_throttle_gets_throttled(simulator: ShopifySimulator, gql: GraphQL) -> None:
    simulator.set_throttle("hard")  # 50 points, 10 per second
    outcomes = [gql(QUERY) for _ in range(6)]
    throttled = [
        b
        for b in outcomes
        if b.get("errors", [{}])[0].get("extensions", {}).get("code") == "THROTTLED"
    ]
    assert len(throttled) >= 3
    for body in throttled:
        assert "data" not in body
        assert body["errors"][0]["message"] == "Throttled"
        assert body["extensions"]["cost"]["requestedQueryCost"] == 22
        assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 22
    assert simulator.stats()["api"]["limit_violations"] == len(throttled)


def test_client_that_waits_is_never_throttled(simulator: ShopifySimulator, gql: GraphQL) -> None:
    simulator.set_throttle(maximum_available=50, restore_rate=40)
    for _ in range(6):
        body = gql(QUERY)
        assert "errors" not in body, body
        status = body["extensions"]["cost"]["throttleStatus"]
        needed = 22 - status["currentlyAvailable"]
        if needed > 0:
            time.sleep(needed / status["restoreRate"] + 0.02)
    assert simulator.stats()["api"]["limit_violations"] == 0


def test_injected_faults(simulator: ShopifySimulator, token: str) -> None:
    requests.post(
        f"{simulator.url}/_simulator/faults",
        json={"status": 429, "count": 2, "retry_after": 1.5},
        timeout=5,
    )
    simulator.inject_faults(503)
    simulator.inject_faults(500)
    simulator.inject_faults(502)
    statuses = []
    for _ in range(6):
        response = requests.post(
            simulator.graphql_url(),
            json={"query": "{ shop { id } }"},
            headers={"X-Shopify-Access-Token": token},
            timeout=5,
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1.5"
    assert statuses == [429, 429, 503, 500, 502, 200]
    stats = requests.get(f"{simulator.url}/_simulator/stats", timeout=5).json()
    assert stats["api"]["faults_served"] == {"429": 2, "503": 1, "500": 1, "502": 1}
    assert stats["api"]["graphql_requests"] == 6


def test_calling_within_a_served_retry_after_is_a_limit_violation(
    simulator: ShopifySimulator, token: str
) -> None:
    simulator.inject_faults(429, retry_after=0.5)

    def call() -> int:
        response = requests.post(
            simulator.graphql_url(),
            json={"query": "{ shop { id } }"},
            headers={"X-Shopify-Access-Token": token},
            timeout=5,
        )
        return response.status_code

    assert call() == 429
    time.sleep(2 * RACE_ALLOWANCE_SECONDS)  # later than any request already on its way
    assert call() == 200  # answered, but the client had been told to wait
    assert simulator.stats()["api"]["limit_violations"] == 1
    time.sleep(0.5)
    assert call() == 200
    assert simulator.stats()["api"]["retry_after_ignored"] == 1
