"""Re-consent campaigns in SQL. Written straight through the unit of work's connection (inside
its transaction): a campaign is created once and never changed, so it needs no identity map.

`outstanding` is ReconsentCampaign.still_needed in SQL, on the deciding events of
core/store/insights.py.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.domain.consent import Channel, ConsentState
from patronkit.core.domain.reconsent import ReconsentCampaign
from patronkit.core.insights import CustomerRef
from patronkit.core.reconsent import ReconsentCampaigns
from patronkit.core.store import tables as t
from patronkit.core.store.bulk import bulk_insert
from patronkit.core.store.insights import deciding_events
from patronkit.core.store.mappers import restore

_MAX_PAGE = 500
_CHUNK = 1000
_campaigns = t.reconsent_campaigns
_targets = t.reconsent_targets
_COLUMNS = tuple(column.name for column in _campaigns.columns)


def _campaign(row: Any) -> ReconsentCampaign:
    campaign = restore(ReconsentCampaign, {name: row[name] for name in _COLUMNS})
    campaign.channel = Channel(campaign.channel)
    return campaign


class SqlReconsentCampaigns(ReconsentCampaigns):
    def __init__(self, connection: sa.Connection, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.connection = connection

    def add(self, campaign: ReconsentCampaign, customer_ids: list[UUID]) -> None:
        self._check(campaign.merchant_id)
        self.connection.execute(
            _campaigns.insert().values({name: getattr(campaign, name) for name in _COLUMNS})
        )
        # Only this merchant's customers can be targeted, whatever the caller passed; checked
        # in chunks, as SQLite bounds the number of parameters in one statement.
        mine: set[UUID] = set()
        for start in range(0, len(customer_ids), _CHUNK):
            mine.update(
                self.connection.scalars(
                    sa.select(t.customers.c.id).where(
                        t.customers.c.merchant_id == self.merchant_id,
                        t.customers.c.id.in_(customer_ids[start : start + _CHUNK]),
                    )
                )
            )
        rows = [
            {"campaign_id": campaign.id, "customer_id": c, "merchant_id": self.merchant_id}
            for c in customer_ids
            if c in mine
        ]
        if rows:
            bulk_insert(self.connection, _targets, rows)

    def _select(self) -> sa.Select[Any]:
        return sa.select(_campaigns).where(_campaigns.c.merchant_id == self.merchant_id)

    def _all(self, query: sa.Select[Any]) -> list[ReconsentCampaign]:
        ordered = query.order_by(_campaigns.c.requested_at, _campaigns.c.id)
        return [_campaign(row) for row in self.connection.execute(ordered).mappings()]

    def find(self, campaign_id: UUID) -> ReconsentCampaign | None:
        found = self._all(self._select().where(_campaigns.c.id == campaign_id))
        return found[0] if found else None

    def for_wording(self, wording_id: UUID) -> list[ReconsentCampaign]:
        return self._all(self._select().where(_campaigns.c.wording_id == wording_id))

    def for_customer(self, customer_id: UUID) -> list[ReconsentCampaign]:
        targeted = sa.select(_targets.c.campaign_id).where(
            _targets.c.merchant_id == self.merchant_id, _targets.c.customer_id == customer_id
        )
        return self._all(self._select().where(_campaigns.c.id.in_(targeted)))

    def targeted(self, wording_id: UUID) -> set[UUID]:
        query = (
            sa.select(_targets.c.customer_id)
            .join(_campaigns, _campaigns.c.id == _targets.c.campaign_id)
            .where(
                _campaigns.c.merchant_id == self.merchant_id,
                _targets.c.merchant_id == self.merchant_id,
                _campaigns.c.wording_id == wording_id,
            )
        )
        return set(self.connection.scalars(query))

    def _outstanding(self, campaign: ReconsentCampaign) -> sa.Select[Any]:
        self._check(campaign.merchant_id)
        d = deciding_events(self.merchant_id)
        w = t.consent_wordings.c
        settled = sa.and_(
            w.channel == campaign.channel.value,
            w.purpose == campaign.purpose,
            w.locale == campaign.locale,
            w.version >= campaign.version,
        )
        return (
            sa.select()
            .select_from(
                _targets.join(
                    d,
                    sa.and_(
                        d.c.customer_id == _targets.c.customer_id,
                        d.c.channel == campaign.channel.value,
                        d.c.purpose == campaign.purpose,
                    ),
                )
                .join(t.customers, t.customers.c.id == _targets.c.customer_id)
                .outerjoin(t.consent_wordings, w.id == d.c.wording_id)
            )
            .where(
                _targets.c.campaign_id == campaign.id,
                _targets.c.merchant_id == self.merchant_id,
                d.c.state == ConsentState.SUBSCRIBED.value,
                sa.or_(w.id.is_(None), sa.not_(settled)),
            )
        )

    def outstanding(
        self, campaign: ReconsentCampaign, limit: int = 50, offset: int = 0
    ) -> list[CustomerRef]:
        c = t.customers.c
        query = (
            self._outstanding(campaign)
            .add_columns(c.id, c.email, c.first_name, c.last_name)
            .order_by(c.email, c.id)
            .limit(min(limit, _MAX_PAGE))
            .offset(offset)
        )
        return [
            CustomerRef(r.id, r.email, r.first_name, r.last_name)
            for r in self.connection.execute(query)
        ]

    def outstanding_count(self, campaign: ReconsentCampaign) -> int:
        query = self._outstanding(campaign).add_columns(sa.func.count())
        return int(self.connection.execute(query).scalar_one())
