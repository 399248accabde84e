"""Sync's own tables: the inbox of accepted deliveries and the outbox of pushes to make.

They live on core's MetaData so that one migration history covers the whole schema, but only
sync reads or writes them.
"""

from __future__ import annotations

import sqlalchemy as sa

from patronkit.core.store.tables import metadata
from patronkit.core.store.types import UTCDateTime

inbox = sa.Table(
    "sync_inbox",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "merchant_id", sa.Uuid, sa.ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "shop_id", sa.Uuid, sa.ForeignKey("shop_connections.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("platform", sa.String(64), nullable=False),
    sa.Column("delivery_key", sa.String(255), nullable=False),
    sa.Column("topic", sa.String(128), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("triggered_at", UTCDateTime),
    # pending → applied | failed; failed rows keep their error for support to look at.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("enqueued_at", UTCDateTime, nullable=False),
    sa.Column("applied_at", UTCDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.String(500)),
    # A redelivery of the same event is the same row: inserting it again is a no-op.
    sa.UniqueConstraint("shop_id", "delivery_key", name="uq_sync_inbox_delivery"),
    sa.Index("ix_sync_inbox_status_received", "status", "received_at"),
)

outbox = sa.Table(
    "sync_outbox",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "merchant_id", sa.Uuid, sa.ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "shop_id", sa.Uuid, sa.ForeignKey("shop_connections.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    # pending → sent | skipped | dead. A push sends core's consent as it is when it runs,
    # so a row needs no payload and a later row for the same key makes an earlier one moot.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    # Bumped whenever core's consent for this key changes while the row is pending: a push
    # that read an older generation does not close the row (it goes again).
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("enqueued_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("outcome", sa.String(32)),
    sa.Column("error", sa.String(500)),
    sa.Index("ix_sync_outbox_status_next", "status", "next_attempt_at"),
    sa.Index("ix_sync_outbox_key", "shop_id", "customer_id", "channel", "status"),
)
