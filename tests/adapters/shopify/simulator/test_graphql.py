"""The Admin GraphQL API: shapes, pagination, search, mutations, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import requests

from patronkit.adapters.shopify.simulator import ShopifySimulator
from patronkit.adapters.shopify.simulator.formats import iso

from .conftest import GraphQL, subscribe

CUSTOMERS_PAGE = """
query Page($first: Int!, $after: String, $query: String, $sortKey: CustomerSortKeys) {
  customers(first: $first, after: $after, query: $query, sortKey: $sortKey) {
    edges { cursor node { id email updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _all_customers(gql: GraphQL, first: int, **variables: object) -> list[dict[str, str]]:
    nodes: list[dict[str, str]] = []
    after = None
    for _ in range(100):
        body = gql(CUSTOMERS_PAGE, {"first": first, "after": after, **variables})
        page = body["data"]["customers"]
        nodes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


def test_pagination_visits_every_customer_once(simulator: ShopifySimulator, gql: GraphQL) -> None:
    with simulator.state.lock:
        expected = {f"gid://shopify/Customer/{cid}" for cid in simulator.state.customers}
    assert len(expected) == 60
    for sort_key in ("ID", "UPDATED_AT", "CREATED_AT"):
        nodes = _all_customers(gql, 7, sortKey=sort_key)
        ids = [n["id"] for n in nodes]
        assert len(ids) == len(set(ids)) == 60
        assert set(ids) == expected
    by_updated = _all_customers(gql, 13, sortKey="UPDATED_AT")
    stamps = [n["updatedAt"] for n in by_updated]
    assert stamps == sorted(stamps)


def test_updated_at_filter(simulator: ShopifySimulator, gql: GraphQL) -> None:
    with simulator.state.lock:
        stamps = sorted(c.updated_at for c in simulator.state.customers.values())
        pivot = stamps[30]
        strictly_after = sum(1 for s in stamps if s > pivot)
        at_or_after = sum(1 for s in stamps if s >= pivot)
    assert _len(gql, f"updated_at:>'{iso(pivot)}'") == strictly_after
    assert _len(gql, f"updated_at:>='{iso(pivot)}'") == at_or_after
    assert strictly_after < at_or_after
    changed = simulator.actions.set_email_consent(
        next(iter(simulator.state.customers)), "UNSUBSCRIBED"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    recent = _all_customers(gql, 50, query=f"updated_at:>='{iso(now)}'")
    assert [n["id"] for n in recent] == [f"gid://shopify/Customer/{changed.id}"]


def _len(gql: GraphQL, query: str) -> int:
    return len(_all_customers(gql, 250, query=query))


def test_email_filter_and_single_customer(simulator: ShopifySimulator, gql: GraphQL) -> None:
    with simulator.state.lock:
        customer = next(c for c in simulator.state.customers.values() if c.phone is None)
    body = gql(CUSTOMERS_PAGE, {"first": 5, "query": f"email:{customer.email.upper()}"})
    assert [e["node"]["id"] for e in body["data"]["customers"]["edges"]] == [
        f"gid://shopify/Customer/{customer.id}"
    ]
    single = gql(
        """query($id: ID!) { customer(id: $id) { id firstName phone
             emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
             smsMarketingConsent { marketingState } } }""",
        {"id": f"gid://shopify/Customer/{customer.id}"},
    )["data"]["customer"]
    assert single["firstName"] == customer.first_name
    assert single["phone"] is None and single["smsMarketingConsent"] is None
    assert (
        single["emailMarketingConsent"]["marketingState"] == customer.email_consent.marketing_state
    )
    missing = gql('{ customer(id: "gid://shopify/Customer/1") { id } }')
    assert missing["data"]["customer"] is None


def test_seeded_data_is_deterministic_and_varied(simulator: ShopifySimulator) -> None:
    with simulator.state.lock:
        customers = list(simulator.state.customers.values())
    states = {c.email_consent.marketing_state for c in customers}
    assert {"SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING"} <= states
    assert any(c.phone is None for c in customers)
    assert all(c.phone is None or c.phone.startswith("+") for c in customers)
    with ShopifySimulator(customers=60, orders=40, seed=7) as twin, twin.state.lock:
        assert [c.email for c in twin.state.customers.values()] == [c.email for c in customers]


def test_orders_shape(simulator: ShopifySimulator, gql: GraphQL) -> None:
    with simulator.state.lock:
        customer_id = next(iter(simulator.state.customers))
    order = simulator.actions.create_order(
        customer_id, Decimal("120.00"), paid=True, discount_codes=["SAVE10"]
    )
    simulator.actions.fulfill(order.id, delivered=True)
    simulator.actions.refund(order.id, Decimal("20.00"))
    body = gql(
        """query($id: ID!) { order(id: $id) { id name email customer { id } createdAt updatedAt
             processedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
             totalPriceSet { shopMoney { amount currencyCode } }
             currentTotalPriceSet { shopMoney { amount } }
             totalOutstandingSet { shopMoney { amount } }
             discountCodes fulfillments { createdAt deliveredAt status }
             refunds { createdAt totalRefundedSet { shopMoney { amount currencyCode } } } } }""",
        {"id": f"gid://shopify/Order/{order.id}"},
    )
    data = body["data"]["order"]
    assert data["customer"]["id"] == f"gid://shopify/Customer/{customer_id}"
    assert data["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert data["displayFulfillmentStatus"] == "FULFILLED"
    assert data["totalPriceSet"]["shopMoney"] == {"amount": "120.0", "currencyCode": "USD"}
    assert data["currentTotalPriceSet"]["shopMoney"]["amount"] == "100.0"
    assert data["totalOutstandingSet"]["shopMoney"]["amount"] == "0.0"
    assert data["discountCodes"] == ["SAVE10"]
    assert data["fulfillments"][0]["status"] == "SUCCESS"
    assert data["fulfillments"][0]["deliveredAt"] is not None
    assert data["refunds"][0]["totalRefundedSet"]["shopMoney"]["amount"] == "20.0"
    orders = gql(
        '{ orders(first: 250, query: "financial_status:paid") '
        "{ nodes { displayFinancialStatus } } }"
    )
    statuses = {n["displayFinancialStatus"] for n in orders["data"]["orders"]["nodes"]}
    assert statuses == {"PAID"}


def test_invalid_queries_answer_graphql_errors(gql: GraphQL) -> None:
    syntax = gql("{ customers(first: 1) { nodes { id }")
    assert "data" not in syntax and "Syntax Error" in syntax["errors"][0]["message"]
    unknown = gql("{ customers(first: 1) { nodes { favouriteColour } } }")
    assert "favouriteColour" in unknown["errors"][0]["message"]
    no_page = gql("{ customers { nodes { id } } }")
    assert no_page["errors"][0]["message"] == "you must provide one of first or last"
    bad_variable = gql("query($n: Int!) { customers(first: $n) { nodes { id } } }", {"n": "ten"})
    assert bad_variable["errors"] and bad_variable.get("data") is None


def test_scopes_are_enforced(simulator: ShopifySimulator, gql: GraphQL) -> None:
    limited = simulator.install_app(scopes=("read_customers",))
    denied = gql("{ orders(first: 1) { nodes { id } } }", access_token=limited)
    assert denied["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    mutation = gql(
        """mutation {
             customerUpdate(input: {id: "gid://shopify/Customer/7400000000001", note: "x"}) {
             userErrors { message } } }""",
        access_token=limited,
    )
    assert mutation["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


def test_customer_create_update_and_validation(simulator: ShopifySimulator, gql: GraphQL) -> None:
    create = """mutation($input: CustomerInput!) { customerCreate(input: $input) {
                  customer { id email phone firstName smsMarketingConsent { marketingState } }
                  userErrors { field message } } }"""
    body = gql(
        create,
        {
            "input": {
                "email": "new.person@example.com",
                "phone": "+44 7700 900123",
                "firstName": "New",
            }
        },
    )
    created = body["data"]["customerCreate"]
    assert created["userErrors"] == []
    assert created["customer"]["phone"] == "+447700900123"
    assert created["customer"]["smsMarketingConsent"]["marketingState"] == "NOT_SUBSCRIBED"
    duplicate = gql(create, {"input": {"email": "NEW.person@example.com"}})["data"][
        "customerCreate"
    ]
    assert duplicate["customer"] is None
    assert duplicate["userErrors"] == [
        {"field": ["email"], "message": "Email has already been taken"}
    ]
    update = gql(
        """mutation($input: CustomerInput!) { customerUpdate(input: $input) {
             customer { lastName tags } userErrors { field message } } }""",
        {"input": {"id": created["customer"]["id"], "lastName": "Person", "tags": ["b", "a"]}},
    )["data"]["customerUpdate"]
    assert update == {"customer": {"lastName": "Person", "tags": ["a", "b"]}, "userErrors": []}
    consent_via_update = gql(
        """mutation($input: CustomerInput!) {
             customerUpdate(input: $input) { userErrors { field message } } }""",
        {
            "input": {
                "id": created["customer"]["id"],
                "emailMarketingConsent": {"marketingState": "SUBSCRIBED"},
            }
        },
    )["data"]["customerUpdate"]
    assert consent_via_update["userErrors"][0]["field"] == ["emailMarketingConsent"]


def test_consent_mutation_bumps_timestamps(simulator: ShopifySimulator, gql: GraphQL) -> None:
    with simulator.state.lock:
        customer = next(
            c
            for c in simulator.state.customers.values()
            if c.email_consent.marketing_state == "NOT_SUBSCRIBED"
        )
        before = customer.updated_at
    body = gql(
        """mutation($input: CustomerEmailMarketingConsentUpdateInput!) {
             customerEmailMarketingConsentUpdate(input: $input) {
               customer {
                 updatedAt
                 emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
               }
               userErrors { field message code } } }""",
        {
            "input": {
                "customerId": f"gid://shopify/Customer/{customer.id}",
                "emailMarketingConsent": {
                    "marketingState": "SUBSCRIBED",
                    "marketingOptInLevel": "CONFIRMED_OPT_IN",
                },
            }
        },
    )
    payload = body["data"]["customerEmailMarketingConsentUpdate"]
    assert payload["userErrors"] == []
    consent = payload["customer"]["emailMarketingConsent"]
    assert consent["marketingState"] == "SUBSCRIBED"
    assert consent["marketingOptInLevel"] == "CONFIRMED_OPT_IN"
    assert payload["customer"]["updatedAt"] > iso(before)
    assert consent["consentUpdatedAt"] == payload["customer"]["updatedAt"]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    rejected = gql(
        """mutation($id: ID!) { customerEmailMarketingConsentUpdate(input: {customerId: $id,
             emailMarketingConsent: {marketingState: NOT_SUBSCRIBED}}) {
             customer { id } userErrors { field code } } }""",
        {"id": f"gid://shopify/Customer/{customer.id}"},
    )["data"]["customerEmailMarketingConsentUpdate"]
    assert rejected["customer"] is None
    assert rejected["userErrors"][0]["field"] == [
        "input",
        "emailMarketingConsent",
        "marketingState",
    ]
    future = gql(
        """mutation($id: ID!) { customerEmailMarketingConsentUpdate(input: {customerId: $id,
             emailMarketingConsent: {
               marketingState: UNSUBSCRIBED, consentUpdatedAt: "2999-01-01T00:00:00Z"
             }}) { userErrors { field } } }""",
        {"id": f"gid://shopify/Customer/{customer.id}"},
    )["data"]["customerEmailMarketingConsentUpdate"]
    assert future["userErrors"][0]["field"][-1] == "consentUpdatedAt"
    with simulator.state.lock:
        assert simulator.state.customers[customer.id].email_consent.marketing_state == "SUBSCRIBED"


def test_sms_consent_needs_a_phone(simulator: ShopifySimulator, gql: GraphQL) -> None:
    with simulator.state.lock:
        without_phone = next(c for c in simulator.state.customers.values() if c.phone is None)
    body = gql(
        """mutation($input: CustomerSmsMarketingConsentUpdateInput!) {
             customerSmsMarketingConsentUpdate(input: $input) {
               customer { id } userErrors { field message } } }""",
        {
            "input": {
                "customerId": f"gid://shopify/Customer/{without_phone.id}",
                "smsMarketingConsent": {"marketingState": "SUBSCRIBED"},
            }
        },
    )
    assert body["data"]["customerSmsMarketingConsentUpdate"]["userErrors"]


def test_discount_code_create(simulator: ShopifySimulator, gql: GraphQL) -> None:
    mutation = """mutation($d: DiscountCodeBasicInput!) {
                  discountCodeBasicCreate(basicCodeDiscount: $d) {
                    codeDiscountNode { id codeDiscount {
                      ... on DiscountCodeBasic { title codes(first: 1) { nodes { code } } } } }
                    userErrors { field message code } } }"""
    discount = {
        "title": "Referral reward",
        "code": "REF-ABC123",
        "startsAt": "2025-01-01T00:00:00Z",
        "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}},
        "context": {"all": "ALL"},
        "appliesOncePerCustomer": True,
        "usageLimit": 1,
    }
    created = gql(mutation, {"d": discount})["data"]["discountCodeBasicCreate"]
    assert created["userErrors"] == []
    assert created["codeDiscountNode"]["id"].startswith("gid://shopify/DiscountCodeNode/")
    assert created["codeDiscountNode"]["codeDiscount"]["codes"]["nodes"] == [{"code": "REF-ABC123"}]
    again = gql(mutation, {"d": discount})["data"]["discountCodeBasicCreate"]
    assert again["userErrors"][0]["code"] == "TAKEN"
    with simulator.state.lock:
        assert [d.code for d in simulator.state.discount_codes.values()] == ["REF-ABC123"]


def test_webhook_subscription_crud(gql: GraphQL) -> None:
    sub_id = subscribe(gql, "CUSTOMERS_UPDATE", "https://app.example/webhooks")
    listed = gql("{ webhookSubscriptions(first: 10) { nodes { id topic callbackUrl format } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [
        {
            "id": sub_id,
            "topic": "CUSTOMERS_UPDATE",
            "callbackUrl": "https://app.example/webhooks",
            "format": "JSON",
        }
    ]
    plain_http = gql(
        """mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE,
             webhookSubscription: {callbackUrl: "http://app.example/hooks"}) {
             userErrors { message } } }"""
    )
    assert plain_http["data"]["webhookSubscriptionCreate"]["userErrors"]
    deleted = gql(
        "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) "
        "{ deletedWebhookSubscriptionId } }",
        {"id": sub_id},
    )
    assert deleted["data"]["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"] == sub_id
    assert (
        gql("{ webhookSubscriptions(first: 10) { nodes { id } } }")["data"]["webhookSubscriptions"][
            "nodes"
        ]
        == []
    )


def test_any_version_path_and_unknown_version(simulator: ShopifySimulator, token: str) -> None:
    for version, status in (("2024-10", 200), ("unstable", 200), ("latest", 404)):
        response = requests.post(
            f"{simulator.url}/admin/api/{version}/graphql.json",
            json={"query": "{ shop { name } }"},
            headers={"X-Shopify-Access-Token": token},
            timeout=5,
        )
        assert response.status_code == status
