"""Read models: plain dictionaries describing core objects, for support tools and pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from patronkit.core.domain.consent import ConsentEvent
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.merchant import ShopConnection


def _event(event: ConsentEvent, shops: dict[UUID, ShopConnection]) -> dict[str, Any]:
    shop = shops.get(event.source.shop_id) if event.source.shop_id else None
    return {
        "id": str(event.id),
        "channel": event.channel.value,
        "purpose": event.purpose,
        "state": event.state.value,
        "opt_in_level": event.opt_in_level.value,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "source": event.source.kind.value,
        "store": f"{shop.platform}:{shop.domain}" if shop else None,
        "evidence": event.evidence.as_dict(),
    }


def customer_report(customer: Customer, shops: Iterable[ShopConnection]) -> dict[str, Any]:
    """What support needs: current consent per channel with its deciding evidence, the full
    history, and where the person exists in each store."""
    by_id = {shop.id: shop for shop in shops}
    events = {event.id: event for event in customer.consent_events}
    current = {
        key.channel.value if key.purpose == "marketing" else f"{key.channel.value}:{key.purpose}": {
            "state": status.state.value,
            "opt_in_level": status.opt_in_level.value,
            "since": status.occurred_at.isoformat(),
            "decided_by": _event(events[status.decided_by], by_id),
        }
        for key, status in sorted(customer.consents().items(), key=lambda kv: kv[0].channel)
    }
    return {
        "id": str(customer.id),
        "email": customer.email,
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "updated_at": customer.updated_at.isoformat(),
        "merged_into": str(customer.merged_into_id) if customer.merged_into_id else None,
        "consent": current,
        "history": [
            _event(e, by_id) for e in sorted(customer.consent_events, key=lambda e: e.occurred_at)
        ],
        "stores": [
            {
                "platform": by_id[link.shop_id].platform if link.shop_id in by_id else None,
                "domain": by_id[link.shop_id].domain if link.shop_id in by_id else None,
                "remote_id": link.remote_id,
                "remote_updated_at": link.remote_updated_at.isoformat()
                if link.remote_updated_at
                else None,
            }
            for link in customer.links
        ],
    }
