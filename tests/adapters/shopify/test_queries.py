from datetime import UTC, datetime, timedelta, timezone

import pytest
from graphql import OperationDefinitionNode, OperationType, parse

from patronkit.adapters.shopify import queries
from patronkit.adapters.shopify.graphql_client import operation_name

NAMED_OPERATIONS = {
    "CUSTOMERS_PAGE": (OperationType.QUERY, "customers"),
    "CUSTOMER_BY_ID": (OperationType.QUERY, "customer"),
    "ORDERS_PAGE": (OperationType.QUERY, "orders"),
    "CUSTOMER_EMAIL_MARKETING_CONSENT_UPDATE": (
        OperationType.MUTATION,
        "customerEmailMarketingConsentUpdate",
    ),
    "CUSTOMER_SMS_MARKETING_CONSENT_UPDATE": (
        OperationType.MUTATION,
        "customerSmsMarketingConsentUpdate",
    ),
    "DISCOUNT_CODE_BASIC_CREATE": (OperationType.MUTATION, "discountCodeBasicCreate"),
    "WEBHOOK_SUBSCRIPTION_CREATE": (OperationType.MUTATION, "webhookSubscriptionCreate"),
    "WEBHOOK_SUBSCRIPTIONS": (OperationType.QUERY, "webhookSubscriptions"),
    "BULK_OPERATION_RUN_QUERY": (OperationType.MUTATION, "bulkOperationRunQuery"),
    "BULK_OPERATION_STATUS": (OperationType.QUERY, "node"),
    "CURRENT_BULK_OPERATION": (OperationType.QUERY, "currentBulkOperation"),
}


@pytest.mark.parametrize("name", sorted(NAMED_OPERATIONS))
def test_documents_parse_and_are_named(name: str) -> None:
    text = getattr(queries, name)
    document = parse(text)
    [operation] = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    kind, root_field = NAMED_OPERATIONS[name]
    assert operation.operation == kind
    assert operation.name is not None
    assert operation.name.value.startswith("Patronkit")
    assert operation_name(text) == operation.name.value
    assert operation.selection_set.selections[0].name.value == root_field  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["BULK_CUSTOMERS", "BULK_ORDERS"])
def test_bulk_documents_have_no_pagination_arguments(name: str) -> None:
    text = getattr(queries, name)
    parse(text)
    assert "first:" not in text.split("{", 2)[1]
    assert "edges" in text and "node" in text


def test_paginated_queries_take_after_and_select_page_info() -> None:
    for text in (queries.CUSTOMERS_PAGE, queries.ORDERS_PAGE, queries.WEBHOOK_SUBSCRIPTIONS):
        assert "$after: String" in text
        assert "pageInfo { hasNextPage endCursor }" in text


def test_customer_fields() -> None:
    for field in (
        "emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }",
        "consentCollectedFrom",
        "updatedAt",
    ):
        assert field in queries.CUSTOMER_FIELDS
    assert "sortKey: UPDATED_AT" in queries.CUSTOMERS_PAGE


def test_updated_since_filter() -> None:
    since = datetime(2026, 1, 2, 4, 5, 6, tzinfo=timezone(timedelta(hours=1)))
    assert queries.updated_since_filter(since) == "updated_at:>='2026-01-02T03:05:06Z'"
    assert queries.updated_since_filter(datetime(2026, 1, 1, tzinfo=UTC)).endswith("00:00:00Z'")
    with pytest.raises(ValueError):
        queries.updated_since_filter(datetime(2026, 1, 1))
