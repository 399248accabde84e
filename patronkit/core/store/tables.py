"""The schema. Alembic migrations are generated from and checked against this metadata."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel, SourceKind
from patronkit.core.domain.merchant import ShopStatus
from patronkit.core.domain.order import FinancialStatus
from patronkit.core.domain.privacy import PrivacyRequestKind
from patronkit.core.store.types import Amount, RefundList, UTCDateTime, enum_column

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _merchant_fk() -> sa.Column[Any]:
    return sa.Column(
        "merchant_id", sa.Uuid, sa.ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False
    )


merchants = sa.Table(
    "merchants",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

shop_connections = sa.Table(
    "shop_connections",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column("platform", sa.String(64), nullable=False),
    sa.Column("domain", sa.String(255), nullable=False),
    sa.Column("remote_shop_id", sa.String(255)),
    sa.Column("api_url", sa.String(512)),
    sa.Column("sealed_credentials", sa.LargeBinary),
    sa.Column("cursors", sa.JSON, nullable=False),
    sa.Column("status", enum_column(ShopStatus), nullable=False),
    sa.Column("installed_at", UTCDateTime, nullable=False),
    sa.Column("uninstalled_at", UTCDateTime),
    # A store can be connected to one merchant only: inbound calls are routed by its domain.
    sa.UniqueConstraint("platform", "domain", name="uq_shop_connections_platform_domain"),
    sa.Index("ix_shop_connections_merchant", "merchant_id"),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column("email", sa.String(254)),
    sa.Column("canonical_email", sa.String(254)),
    sa.Column("phone", sa.String(20)),
    sa.Column("first_name", sa.String(255)),
    sa.Column("last_name", sa.String(255)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("merged_into_id", sa.Uuid, sa.ForeignKey("customers.id")),
    sa.Column("redacted_at", UTCDateTime),
    sa.UniqueConstraint("merchant_id", "email", name="uq_customers_merchant_email"),
    sa.Index("ix_customers_merchant_phone", "merchant_id", "phone"),
    sa.Index("ix_customers_merchant_canonical_email", "merchant_id", "canonical_email"),
)

store_links = sa.Table(
    "store_links",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "shop_id", sa.Uuid, sa.ForeignKey("shop_connections.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("remote_id", sa.String(255), nullable=False),
    sa.Column("remote_updated_at", UTCDateTime),
    sa.UniqueConstraint("shop_id", "remote_id", name="uq_store_links_shop_remote"),
    sa.UniqueConstraint("customer_id", "shop_id", name="uq_store_links_customer_shop"),
)

# Records a store deleted. Stores do not reuse their ids, so any report of one of these that
# arrives later (a late or out-of-order webhook) is stale and must not link it again.
deleted_store_records = sa.Table(
    "deleted_store_records",
    metadata,
    sa.Column(
        "shop_id",
        sa.Uuid,
        sa.ForeignKey("shop_connections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("remote_id", sa.String(255), primary_key=True),
    sa.Column(
        "merchant_id", sa.Uuid, sa.ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("deleted_at", UTCDateTime, nullable=False),
)

consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("channel", enum_column(Channel), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("state", enum_column(ConsentState), nullable=False),
    sa.Column("opt_in_level", enum_column(OptInLevel), nullable=False),
    sa.Column("source_kind", enum_column(SourceKind), nullable=False),
    sa.Column("source_shop_id", sa.Uuid, sa.ForeignKey("shop_connections.id", ondelete="SET NULL")),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("wording_id", sa.Uuid, sa.ForeignKey("consent_wordings.id")),
    sa.Column("wording_version", sa.Integer),
    sa.Column("wording_sha256", sa.String(64)),
    sa.Column("touchpoint", sa.String(200)),
    sa.Column("ip", sa.String(45)),
    sa.Column("user_agent", sa.String(512)),
    sa.Column("actor", sa.String(200)),
    # The ledger holds each fact once per person, even if two workers race on a redelivery.
    sa.UniqueConstraint(
        "customer_id",
        "channel",
        "purpose",
        "state",
        "opt_in_level",
        "occurred_at",
        name="uq_consent_events_fact",
    ),
    sa.Index("ix_consent_events_merchant_recorded", "merchant_id", "recorded_at"),
)

consent_wordings = sa.Table(
    "consent_wordings",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column("channel", enum_column(Channel), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("material", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint(
        "merchant_id", "channel", "purpose", "locale", "version", name="uq_consent_wordings_version"
    ),
)

referral_codes = sa.Table(
    "referral_codes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("merchant_id", "code", name="uq_referral_codes_merchant_code"),
    sa.UniqueConstraint("customer_id", name="uq_referral_codes_customer"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column(
        "shop_id", sa.Uuid, sa.ForeignKey("shop_connections.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("remote_id", sa.String(255), nullable=False),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="SET NULL")),
    sa.Column("customer_remote_id", sa.String(255)),
    sa.Column("total", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("financial_status", enum_column(FinancialStatus), nullable=False),
    sa.Column("outstanding", Amount, nullable=False),
    sa.Column("discount_codes", sa.JSON, nullable=False),
    sa.Column("refunds", RefundList, nullable=False),
    sa.Column("placed_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("paid_at", UTCDateTime),
    sa.Column("fulfilled_at", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),
    sa.Column("cancelled_at", UTCDateTime),
    sa.UniqueConstraint("shop_id", "remote_id", name="uq_orders_shop_remote"),
    sa.Index("ix_orders_merchant_customer", "merchant_id", "customer_id"),
    sa.Index("ix_orders_shop_customer_remote", "shop_id", "customer_remote_id"),
)

duplicate_flags = sa.Table(
    "duplicate_flags",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "other_customer_id",
        sa.Uuid,
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("flagged_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime),
    sa.UniqueConstraint("customer_id", "other_customer_id", name="uq_duplicate_flags_pair"),
)

customer_merges = sa.Table(
    "customer_merges",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column("survivor_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("absorbed_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("merged_at", UTCDateTime, nullable=False),
    sa.Column("moved_link_ids", sa.JSON, nullable=False),
    sa.Column("moved_event_ids", sa.JSON, nullable=False),
    sa.Column("absorbed_snapshot", sa.JSON, nullable=False),
)

merchant_settings = sa.Table(
    "merchant_settings",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column("double_opt_in", sa.JSON, nullable=False),  # {channel: bool}
    sa.Column("widget_texts", sa.JSON, nullable=False),  # {locale: {key: text}}
    sa.Column("storefront_origins", sa.JSON, nullable=False),  # [origin, ...]
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("merchant_id", name="uq_merchant_settings_merchant"),
)

privacy_requests = sa.Table(
    "privacy_requests",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column("kind", enum_column(PrivacyRequestKind), nullable=False),
    sa.Column("shop_id", sa.Uuid, sa.ForeignKey("shop_connections.id", ondelete="SET NULL")),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="SET NULL")),
    sa.Column("reference", sa.String(255)),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("outcome", sa.JSON, nullable=False),
    sa.Index("ix_privacy_requests_merchant_received", "merchant_id", "received_at"),
)

# A request to consent again after a material change of wording, and whom it asked. Whether
# each target still has to answer is derived from the ledger (core/domain/reconsent.py).
reconsent_campaigns = sa.Table(
    "reconsent_campaigns",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _merchant_fk(),
    sa.Column(
        "wording_id",
        sa.Uuid,
        sa.ForeignKey("consent_wordings.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("channel", enum_column(Channel), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("target_count", sa.Integer, nullable=False),
    sa.Index("ix_reconsent_campaigns_merchant_wording", "merchant_id", "wording_id"),
)

reconsent_targets = sa.Table(
    "reconsent_targets",
    metadata,
    sa.Column(
        "campaign_id",
        sa.Uuid,
        sa.ForeignKey("reconsent_campaigns.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "customer_id",
        sa.Uuid,
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _merchant_fk(),
    sa.Index("ix_reconsent_targets_customer", "customer_id"),
)
