"""The platforms patronkit can connect. Adding one is one line here and one folder beside it.

Each entry names a `build(options) -> StorefrontGateway` function; options come from settings
variables named after the platform (PATRONKIT_SHOPIFY_CLIENT_ID → {"client_id": …}).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from patronkit.core.storefront import StorefrontGateway

PLATFORMS: Mapping[str, str] = {
    "shopify": "patronkit.adapters.shopify.gateway:build",
    "woocommerce": "patronkit.adapters.woocommerce.gateway:build",
}


def builder(platform: str) -> Callable[[Mapping[str, str]], StorefrontGateway]:
    module_name, _, function = PLATFORMS[platform].partition(":")
    built: Callable[[Mapping[str, str]], StorefrontGateway] = getattr(
        importlib.import_module(module_name), function
    )
    return built


def build_gateways(options: Mapping[str, Mapping[str, str]]) -> dict[str, StorefrontGateway]:
    """A gateway for every platform that has settings; unconfigured platforms are left out."""
    return {name: builder(name)(options[name]) for name in PLATFORMS if options.get(name)}
