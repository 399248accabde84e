"""GraphQL Admin API documents used by the Shopify adapter.

Every operation is named (``Patronkit…``): the client logs the name instead of the query, and
the cost limiter learns one expected cost per document. Field selections are shared as plain
strings rather than GraphQL fragments so the same selection works inside bulk queries.

Note: ``Customer.email``/``phone``/``emailMarketingConsent`` are deprecated since 2025-04 in
favour of ``defaultEmailAddress``/``defaultPhoneNumber``; they still resolve, and the sync
engine's mapping is written against them.
"""

from __future__ import annotations

from datetime import UTC, datetime

PAGE_INFO = "pageInfo { hasNextPage endCursor }"

CUSTOMER_FIELDS = """
    id
    email
    phone
    firstName
    lastName
    createdAt
    updatedAt
    emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
    smsMarketingConsent {
      marketingState
      marketingOptInLevel
      consentUpdatedAt
      consentCollectedFrom
    }
"""

MONEY = "shopMoney { amount currencyCode }"

ORDER_FIELDS = f"""
    id
    name
    email
    customer {{ id }}
    createdAt
    updatedAt
    processedAt
    cancelledAt
    displayFinancialStatus
    displayFulfillmentStatus
    totalPriceSet {{ {MONEY} }}
    currentTotalPriceSet {{ {MONEY} }}
    totalOutstandingSet {{ {MONEY} }}
    discountCodes
    fulfillments(first: 50) {{ createdAt deliveredAt status }}
    refunds(first: 50) {{ createdAt totalRefundedSet {{ {MONEY} }} }}
"""

# $query takes Shopify search syntax, e.g. `updated_at:>='2026-01-01T00:00:00Z'`
# (see `updated_since_filter`). Sorted by UPDATED_AT so a reconcile can stop at its cursor.
CUSTOMERS_PAGE = f"""
query PatronkitCustomersPage($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {CUSTOMER_FIELDS} }}
    {PAGE_INFO}
  }}
}}
"""

CUSTOMER_BY_ID = f"""
query PatronkitCustomerById($id: ID!) {{
  customer(id: $id) {{ {CUSTOMER_FIELDS} }}
}}
"""

ORDERS_PAGE = f"""
query PatronkitOrdersPage($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {ORDER_FIELDS} }}
    {PAGE_INFO}
  }}
}}
"""

# Inner documents for bulkOperationRunQuery: no pagination arguments, edges/node form.
BULK_CUSTOMERS = f"""
{{
  customers {{
    edges {{ node {{ {CUSTOMER_FIELDS} }} }}
  }}
}}
"""

BULK_ORDERS = f"""
{{
  orders {{
    edges {{ node {{ {ORDER_FIELDS} }} }}
  }}
}}
"""

USER_ERRORS = "userErrors { field message code }"

# variables: {"input": {"customerId": gid, "emailMarketingConsent": {"marketingState":
#   SUBSCRIBED|UNSUBSCRIBED|PENDING, "marketingOptInLevel": ..., "consentUpdatedAt": iso}}}
CUSTOMER_EMAIL_MARKETING_CONSENT_UPDATE = f"""
mutation PatronkitCustomerEmailMarketingConsentUpdate(
  $input: CustomerEmailMarketingConsentUpdateInput!
) {{
  customerEmailMarketingConsentUpdate(input: $input) {{
    customer {{
      id
      emailMarketingConsent {{ marketingState marketingOptInLevel consentUpdatedAt }}
    }}
    {USER_ERRORS}
  }}
}}
"""

# variables: {"input": {"customerId": gid, "smsMarketingConsent": {"marketingState": ...,
#   "marketingOptInLevel": ..., "consentUpdatedAt": iso}}}
CUSTOMER_SMS_MARKETING_CONSENT_UPDATE = f"""
mutation PatronkitCustomerSmsMarketingConsentUpdate(
  $input: CustomerSmsMarketingConsentUpdateInput!
) {{
  customerSmsMarketingConsentUpdate(input: $input) {{
    customer {{
      id
      smsMarketingConsent {{
        marketingState
        marketingOptInLevel
        consentUpdatedAt
        consentCollectedFrom
      }}
    }}
    {USER_ERRORS}
  }}
}}
"""

# variables: {"basicCodeDiscount": {code, title, startsAt, endsAt, context, customerGets,
#   appliesOncePerCustomer, usageLimit}}; needs the write_discounts scope.
DISCOUNT_CODE_BASIC_CREATE = f"""
mutation PatronkitDiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {{
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {{
    codeDiscountNode {{
      id
      codeDiscount {{
        ... on DiscountCodeBasic {{
          title
          startsAt
          endsAt
          codes(first: 1) {{ nodes {{ code }} }}
        }}
      }}
    }}
    {USER_ERRORS}
  }}
}}
"""

# variables: {"topic": "CUSTOMERS_UPDATE", "webhookSubscription": {"uri": "https://…",
#   "format": "JSON"}}. `uri` replaced `callbackUrl` (2025-04).
WEBHOOK_SUBSCRIPTION_CREATE = """
mutation PatronkitWebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!
  $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri format }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = f"""
query PatronkitWebhookSubscriptions($first: Int!, $after: String) {{
  webhookSubscriptions(first: $first, after: $after) {{
    nodes {{ id topic uri format }}
    {PAGE_INFO}
  }}
}}
"""

# Since 2026-01 groupObjects defaults to false (children may not follow their parent);
# pass true when the JSONL will go through `bulk.group_children`.
BULK_OPERATION_RUN_QUERY = f"""
mutation PatronkitBulkOperationRunQuery($query: String!, $groupObjects: Boolean!) {{
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {{
    bulkOperation {{ id status }}
    {USER_ERRORS}
  }}
}}
"""

BULK_OPERATION_FIELDS = """
    id
    status
    errorCode
    objectCount
    rootObjectCount
    fileSize
    url
    partialDataUrl
    createdAt
    completedAt
"""

BULK_OPERATION_STATUS = f"""
query PatronkitBulkOperationStatus($id: ID!) {{
  node(id: $id) {{
    ... on BulkOperation {{ {BULK_OPERATION_FIELDS} }}
  }}
}}
"""

CURRENT_BULK_OPERATION = f"""
query PatronkitCurrentBulkOperation {{
  currentBulkOperation(type: QUERY) {{ {BULK_OPERATION_FIELDS} }}
}}
"""


def updated_since_filter(since: datetime) -> str:
    """Search-syntax filter for ``$query``: records updated at or after ``since`` (aware)."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>='{stamp}'"
