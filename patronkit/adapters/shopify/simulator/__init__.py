"""A local server that behaves like one Shopify shop's Admin API, OAuth and webhooks.

Stands alone (imports nothing from patronkit's core, sync or webapp), like a real shop.
"""

from .server import ShopifySimulator, create_app, running_simulator
from .shop import Shop, SimulatorConfig
from .webhooks import DeliverySettings, sign

__all__ = [
    "DeliverySettings",
    "Shop",
    "ShopifySimulator",
    "SimulatorConfig",
    "create_app",
    "running_simulator",
    "sign",
]
