"""Use case and port: ask the customers subscribed under an older wording to consent again.

Like the other use cases it works inside the caller's unit of work and does not commit.
"""

from __future__ import annotations

import abc
from datetime import datetime
from uuid import UUID

from patronkit.core.domain.errors import InvalidValue, NotFound
from patronkit.core.domain.reconsent import ReconsentCampaign
from patronkit.core.insights import ConsentInsights, CustomerRef
from patronkit.core.ports import ScopedRepository, WordingRepository


class ReconsentCampaigns(ScopedRepository):
    """One merchant's campaigns and the customers each targeted."""

    @abc.abstractmethod
    def add(self, campaign: ReconsentCampaign, customer_ids: list[UUID]) -> None: ...

    @abc.abstractmethod
    def find(self, campaign_id: UUID) -> ReconsentCampaign | None: ...

    @abc.abstractmethod
    def for_wording(self, wording_id: UUID) -> list[ReconsentCampaign]:
        """Oldest first."""

    @abc.abstractmethod
    def for_customer(self, customer_id: UUID) -> list[ReconsentCampaign]:
        """The campaigns that targeted this customer, oldest first."""

    @abc.abstractmethod
    def targeted(self, wording_id: UUID) -> set[UUID]:
        """Every customer some campaign for this wording targeted."""

    @abc.abstractmethod
    def outstanding(
        self, campaign: ReconsentCampaign, limit: int = 50, offset: int = 0
    ) -> list[CustomerRef]:
        """Targeted customers who still need to answer (see ReconsentCampaign.still_needed),
        by email."""

    @abc.abstractmethod
    def outstanding_count(self, campaign: ReconsentCampaign) -> int: ...

    def get(self, campaign_id: UUID) -> ReconsentCampaign:
        campaign = self.find(campaign_id)
        if campaign is None:
            raise NotFound("no such re-consent campaign")
        return campaign


def ask_for_reconsent(
    wordings: WordingRepository,
    insights: ConsentInsights,
    campaigns: ReconsentCampaigns,
    wording_id: UUID,
    *,
    requested_by: str,
    now: datetime,
) -> ReconsentCampaign:
    """Record a campaign for a material wording: every customer subscribed now under an
    older version of its channel, purpose and locale, who no earlier campaign for this
    wording asked."""
    wording = wordings.find(wording_id)
    if wording is None:
        raise NotFound("no such wording")
    latest = wordings.latest(wording.channel, wording.purpose, wording.locale)
    if latest is not None and latest.version > wording.version:
        raise InvalidValue(f"version {latest.version} replaced this one; ask under that")
    asked = campaigns.targeted(wording.id)
    targets = [
        customer_id
        for customer_id in insights.subscribed_under_older(
            wording.channel, wording.purpose, wording.locale, wording.version
        )
        if customer_id not in asked
    ]
    campaign = ReconsentCampaign.start(wording, len(targets), requested_by, now)
    campaigns.add(campaign, targets)
    return campaign
