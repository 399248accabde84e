"""Re-consent campaigns: after a material change of wording, the customers subscribed under
an older version are asked to consent again.

A campaign records the request (which wording, who asked, when) and the customers it
targeted. Whether a targeted customer still needs to answer is derived, never stored: they
do while their current consent on the campaign's channel and purpose is still a
subscription given under an older version. Any newer answer (a subscription under this
version or a later one, a withdrawal) settles it. Sending the request is another module's
job; this only says who is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from patronkit.core.domain.consent import Channel, ConsentState, ConsentStatus
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import require_aware
from patronkit.core.domain.wording import ConsentWording

_MAX_ACTOR = 200


@dataclass(eq=False)
class ReconsentCampaign:
    merchant_id: UUID
    wording_id: UUID
    channel: Channel
    purpose: str
    locale: str
    version: int
    requested_by: str  # "admin:<user id>"
    requested_at: datetime
    target_count: int
    id: UUID = field(default_factory=uuid4)

    @classmethod
    def start(
        cls, wording: ConsentWording, targets: int, requested_by: str, now: datetime
    ) -> ReconsentCampaign:
        """A campaign for a material wording; `targets` customers are asked."""
        if not wording.material:
            raise InvalidValue("only a material change of wording asks customers again")
        if targets < 1:
            raise InvalidValue("no customer is subscribed under an older version")
        if not requested_by or len(requested_by) > _MAX_ACTOR:
            raise InvalidValue("a campaign needs who asked for it")
        return cls(
            merchant_id=wording.merchant_id,
            wording_id=wording.id,
            channel=wording.channel,
            purpose=wording.purpose,
            locale=wording.locale,
            version=wording.version,
            requested_by=requested_by,
            requested_at=require_aware(now, "now"),
            target_count=targets,
        )

    def settled_by(self, wording: ConsentWording | None) -> bool:
        """Whether consent given under `wording` answers this campaign (its version or a later
        one of the same channel, purpose and locale)."""
        return wording is not None and (
            (wording.channel, wording.purpose, wording.locale)
            == (self.channel, self.purpose, self.locale)
            and wording.version >= self.version
        )

    def still_needed(self, status: ConsentStatus | None, wording: ConsentWording | None) -> bool:
        """For a targeted customer: `status` is their current consent on the campaign's
        channel and purpose, `wording` the one its deciding event names (if any)."""
        return (
            status is not None
            and status.state is ConsentState.SUBSCRIBED
            and not self.settled_by(wording)
        )
