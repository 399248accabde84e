"""One simulated shop with one installed app: configuration and the parts it is made of."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field

from .actions import ShopActions
from .bulk import BulkRunner
from .faults import FaultInjector, RequestStats
from .graphql_api import AdminGraphQL
from .seed import seed_customers, seed_orders
from .state import ShopState
from .throttle import THROTTLE_PRESETS, LeakyBucket
from .webhooks import DeliverySettings, WebhookDispatcher

DEFAULT_SCOPES = (
    "read_customers",
    "write_customers",
    "read_orders",
    "write_discounts",
    "read_discounts",
)


@dataclass
class SimulatorConfig:
    shop_domain: str = "sim-shop.myshopify.com"
    shop_name: str = "Simulated Shop"
    client_id: str = "sim-client-id"
    client_secret: str = "sim-client-secret-0123456789abcdef"  # noqa: S105 - a test fixture, not a credential
    # Scopes the app's configuration requests; token exchange grants exactly these.
    app_scopes: tuple[str, ...] = DEFAULT_SCOPES
    customers: int = 50
    orders: int = 0
    seed: int = 1
    currency: str = "USD"
    throttle: str = "standard"
    webhook_api_version: str = "2025-07"
    webhook_workers: int = 4
    webhook_settings: DeliverySettings = field(default_factory=DeliverySettings)
    compliance_webhook_url: str | None = None
    bulk_duration_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.throttle not in THROTTLE_PRESETS:
            raise ValueError(f"throttle must be one of {sorted(THROTTLE_PRESETS)}")


class Shop:
    """Shop data, the app's view of it, and the machinery around the Admin API."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        # A stable shop id derived from the domain, as real ids are stable per shop.
        shop_id = 60_000_000_000 + zlib.crc32(config.shop_domain.encode()) % 1_000_000_000
        self.state = ShopState(
            domain=config.shop_domain,
            name=config.shop_name,
            shop_id=shop_id,
            currency=config.currency,
        )
        self.dispatcher = WebhookDispatcher(
            config.shop_domain,
            config.client_secret,
            config.webhook_api_version,
            settings=config.webhook_settings,
            workers=config.webhook_workers,
        )
        self.actions = ShopActions(
            self.state, self.dispatcher, lambda: self.config.compliance_webhook_url
        )
        self.bucket = LeakyBucket.from_preset(config.throttle)
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.graphql = AdminGraphQL(self)
        self.bulk = BulkRunner(self, config.bulk_duration_seconds)
        self.seed(config.customers, config.orders, config.seed)

    def seed(self, customers: int, orders: int = 0, seed: int | None = None) -> None:
        """Add sample customers/orders silently (data that existed before the app)."""
        # Sample data, not security: a seeded PRNG is the point.
        rng = random.Random(self.config.seed if seed is None else seed)  # noqa: S311
        with self.state.lock:
            seed_customers(self.state, customers, rng)
            seed_orders(self.state, orders, rng)

    def close(self) -> None:
        self.dispatcher.stop()
        self.bulk.close()
