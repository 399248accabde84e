"""Bulk operations: lifecycle, JSONL shape, streaming of a large shop."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator

from .conftest import GraphQL

RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
           bulkOperation { id status } userErrors { field message code } } }"""
POLL = """query($id: ID!) { node(id: $id) { ... on BulkOperation {
            id status errorCode objectCount rootObjectCount url createdAt completedAt } } }"""


def _run_bulk(gql: GraphQL, query: str) -> dict[str, Any]:
    started = gql(RUN, {"q": query})["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    operation_id = started["bulkOperation"]["id"]
    seen = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        operation: dict[str, Any] = gql(POLL, {"id": operation_id})["data"]["node"]
        seen.add(operation["status"])
        if operation["status"] in ("COMPLETED", "FAILED"):
            assert "RUNNING" in seen or "CREATED" in seen
            return operation
        time.sleep(0.02)
    raise AssertionError("bulk operation did not finish")


def test_bulk_customers_with_nested_orders(simulator: ShopifySimulator, gql: GraphQL) -> None:
    operation = _run_bulk(
        gql,
        "{ customers { edges { node { id email emailMarketingConsent { marketingState } "
        "orders { edges { node { id name } } } } } } }",
    )
    assert operation["status"] == "COMPLETED"
    current = gql("{ currentBulkOperation { id status url } }")["data"]["currentBulkOperation"]
    assert current["id"] == operation["id"] and current["url"] == operation["url"]
    lines = requests.get(operation["url"], timeout=10).text.splitlines()
    objects = [json.loads(line) for line in lines]
    with simulator.state.lock:
        customer_count = len(simulator.state.customers)
        order_count = len(simulator.state.orders)
    roots = [o for o in objects if "__parentId" not in o]
    children = [o for o in objects if "__parentId" in o]
    assert len(roots) == customer_count and len(children) == order_count
    assert int(operation["objectCount"]) == len(objects)
    assert int(operation["rootObjectCount"]) == customer_count
    assert "orders" not in roots[0] and roots[0]["emailMarketingConsent"]["marketingState"]
    position = {o["id"]: i for i, o in enumerate(objects)}
    for child in children:
        assert child["id"].startswith("gid://shopify/Order/")
        assert position[child["__parentId"]] < position[child["id"]]  # parent comes first


def test_bulk_query_validation(gql: GraphQL) -> None:
    def errors(query: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = gql(RUN, {"q": query})["data"]["bulkOperationRunQuery"][
            "userErrors"
        ]
        return result

    assert errors("{ shop { id } }")[0]["message"].startswith(
        "Bulk queries must contain at least one connection"
    )
    assert errors("{ customers { edges { node { nope } } } }")[0]["field"] == ["query"]
    nested_without_id = (
        "{ customers { edges { node { email orders { edges { node { id } } } } } } }"
    )
    assert "'id'" in errors(nested_without_id)[0]["message"]


def test_only_one_bulk_query_at_a_time(gql: GraphQL, simulator: ShopifySimulator) -> None:
    # Long enough that the first run is still going when the second is asked for, however
    # busy the machine running the tests is.
    simulator.shop.bulk.duration_seconds = 3.0
    query = "{ customers { edges { node { id } } } }"
    assert gql(RUN, {"q": query})["data"]["bulkOperationRunQuery"]["userErrors"] == []
    busy = gql(RUN, {"q": query})["data"]["bulkOperationRunQuery"]["userErrors"]
    assert busy[0]["code"] == "OPERATION_IN_PROGRESS"


def test_bulk_streams_5000_customers() -> None:
    with running_simulator(customers=5000, seed=11, bulk_duration_seconds=0.1) as sim:
        token = sim.install_app()

        def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = requests.post(
                sim.graphql_url(),
                json={"query": query, "variables": variables or {}},
                headers={"X-Shopify-Access-Token": token},
                timeout=30,
            )
            body: dict[str, Any] = response.json()
            return body

        operation = _run_bulk(gql, "{ customers { edges { node { id email updatedAt } } } }")
        assert operation["status"] == "COMPLETED" and int(operation["objectCount"]) == 5000
        ids = set()
        with requests.get(operation["url"], stream=True, timeout=30) as response:
            assert response.headers["Content-Type"].startswith("application/jsonl")
            for line in response.iter_lines():
                ids.add(json.loads(line)["id"])
        assert len(ids) == 5000
        # bulk work does not drain the rate-limit bucket
        assert sim.stats()["throttle"]["currentlyAvailable"] > 1900
