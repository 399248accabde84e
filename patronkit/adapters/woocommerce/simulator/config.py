"""Settings of one simulated store; the defaults behave like a stock WooCommerce site."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .webhooks import DeliverySettings


@dataclass
class SimulatorConfig:
    site_name: str = "Simulated Store"
    # A site timezone other than UTC, so a client that reads the zone-less non-_gmt date
    # fields as UTC is visibly wrong, as it would be on most real stores.
    timezone: str = "Europe/Berlin"
    currency: str = "EUR"
    currency_symbol: str = "€"
    customers: int = 50
    orders: int = 0
    seed: int = 1
    wc_version: str = "10.3.0"
    wp_version: str = "6.8.3"
    # Keys for wp_hash() (the webhook delivery id). Fixed, as a site's salts are.
    site_salt: str = "sim-wp-salt-0123456789abcdef"
    # Pretend a TLS-terminating proxy sits in front (is_ssl() true): then Basic auth and the
    # consumer_key/consumer_secret query pair are accepted, as on a real HTTPS store.
    assume_https: bool = False
    # class-wc-auth.php refuses a callback_url that is not https://; tests and demos on
    # loopback turn this off.
    callback_requires_https: bool = True
    # wp_safe_remote_*() refuses loopback/private hosts and odd ports; off by default so
    # webhooks and callbacks can reach receivers on 127.0.0.1.
    block_unsafe_urls: bool = False
    # The key-exchange page approves by itself instead of showing Approve/Deny.
    auto_approve: bool = False
    # woocommerce#27991: a customer update that changes only meta_data may leave
    # date_modified as it was. True makes every REST customer save bump it instead.
    meta_only_update_bumps_modified: bool = False
    webhook_workers: int = 1
    webhook_settings: DeliverySettings = field(default_factory=DeliverySettings)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fail early on an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
