"""A local server that behaves like one WooCommerce store: REST API wc/v3, the app key
exchange (/wc-auth/v1) and webhooks, plus a control API for tests and demos.

Stands alone (imports nothing from patronkit's core, sync or webapp), like a real store.
"""

from .config import SimulatorConfig
from .consent import CHANNELS, consent_value, meta_key, read_consent
from .server import WooCommerceSimulator, create_app, running_simulator
from .store import Store
from .webhooks import DeliverySettings, delivery_id, sign

__all__ = [
    "CHANNELS",
    "DeliverySettings",
    "SimulatorConfig",
    "Store",
    "WooCommerceSimulator",
    "consent_value",
    "create_app",
    "delivery_id",
    "meta_key",
    "read_consent",
    "running_simulator",
    "sign",
]
