"""Every platform the conformance suite runs against: one harness module each, one line here."""

from __future__ import annotations

from collections.abc import Mapping

from tests.conformance.harness import PlatformHarness
from tests.conformance.shopify import ShopifyHarness
from tests.conformance.woocommerce import WooCommerceHarness

HARNESSES: Mapping[str, type[PlatformHarness]] = {
    "shopify": ShopifyHarness,
    "woocommerce": WooCommerceHarness,
}
