"""What a signed link lets a shopper do: confirm a double opt-in, see and change consent.

The link's signature is the authorization (checked by the caller, see links.py); these use
cases take the verified claim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.values import utcnow
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.ports import Tenant
from patronkit.sync.engine import SyncEngine
from patronkit.webapp.storefront.links import ConfirmationClaim, PreferenceClaim
from patronkit.webapp.storefront.model import (
    CONFIRMATION_TOUCHPOINT,
    CONTACT_OF,
    STOREFRONT_CHANNELS,
    ChannelPreference,
    PreferenceView,
    Refusal,
    SeenWording,
    Shopper,
    check_seen,
    current_wording,
    occurred_after_current,
)

log = logging.getLogger(__name__)

_ACTIVE = (ConsentState.SUBSCRIBED, ConsentState.PENDING)


@dataclass(frozen=True)
class ConfirmOutcome:
    merchant_id: UUID
    customer_id: UUID
    confirmed: list[Channel] = field(default_factory=list)  # recorded by this click
    already: list[Channel] = field(default_factory=list)  # confirmed earlier: nothing to do
    withdrawn: list[Channel] = field(default_factory=list)  # withdrawn since: link void


class ShopperPreferences:
    def __init__(self, sync: SyncEngine) -> None:
        self.sync = sync

    # -- double opt-in --------------------------------------------------------------------

    def confirm(self, claim: ConfirmationClaim, shopper: Shopper) -> ConfirmOutcome:
        """Record SUBSCRIBED with confirmed opt-in for each channel of the link. A second
        click finds them confirmed and records nothing; a withdrawal made after the sign-up
        wins over an old link."""
        with self.sync.unit_of_work(read_only=True) as uow:
            tenant = uow.tenant(claim.merchant_id)
            customer = _person(tenant, claim.customer_id)
            wordings = {ch: tenant.wordings.find(wid) for ch, wid in claim.wordings.items()}
        outcome = ConfirmOutcome(claim.merchant_id, customer.id)
        now = utcnow()
        for channel, wording in wordings.items():
            current = customer.consent(channel)
            if current is not None and current.state is ConsentState.UNSUBSCRIBED:
                outcome.withdrawn.append(channel)
                continue
            if (
                current is not None
                and current.state is ConsentState.SUBSCRIBED
                and current.opt_in_level is OptInLevel.CONFIRMED
            ):
                outcome.already.append(channel)
                continue
            self._record(
                customer,
                channel=channel,
                state=ConsentState.SUBSCRIBED,
                level=OptInLevel.CONFIRMED,
                evidence=shopper.evidence(CONFIRMATION_TOUCHPOINT, wording),
                now=now,
            )
            outcome.confirmed.append(channel)
        if outcome.confirmed:
            log.info("customer %s confirmed %s", customer.id, [c.value for c in outcome.confirmed])
        return outcome

    # -- the preference link --------------------------------------------------------------

    def view(self, claim: PreferenceClaim, locale: str) -> PreferenceView:
        with self.sync.unit_of_work(read_only=True) as uow:
            tenant = uow.tenant(claim.merchant_id)
            customer = _person(tenant, claim.customer_id)
            texts = tenant.settings.get().texts_for(locale)
            channels = _channels(tenant, customer, locale)
        return PreferenceView(locale, texts, channels)

    def change(
        self,
        claim: PreferenceClaim,
        *,
        locale: str,
        choices: dict[Channel, bool],
        seen: dict[Channel, SeenWording],
        shopper: Shopper,
        touchpoint: str,
    ) -> PreferenceView:
        """Apply yes/no per channel: a no withdraws (if subscribed or pending), a yes
        subscribes to the current wording. Every choice is checked before any is recorded."""
        with self.sync.unit_of_work(read_only=True) as uow:
            tenant = uow.tenant(claim.merchant_id)
            customer = _person(tenant, claim.customer_id)
            offered = {p.channel: p for p in _channels(tenant, customer, locale)}
        changes: list[tuple[Channel, ConsentState, OptInLevel, ConsentWording | None]] = []
        for channel, yes in choices.items():
            shown = offered.get(channel)
            if shown is None:
                raise Refusal(422, "channel_not_offered", f"{channel.value} is not offered here")
            if yes and shown.state is not ConsentState.SUBSCRIBED:
                check_seen(channel, seen.get(channel), shown.wording)
                # The link came by email, so using it proves the address: confirmed opt-in.
                level = OptInLevel.CONFIRMED if channel is Channel.EMAIL else OptInLevel.SINGLE
                changes.append((channel, ConsentState.SUBSCRIBED, level, shown.wording))
            elif not yes and shown.state in _ACTIVE:
                changes.append((channel, ConsentState.UNSUBSCRIBED, OptInLevel.SINGLE, None))
        now = utcnow()
        for channel, state, level, wording in changes:
            evidence = shopper.evidence(touchpoint, wording)
            self._record(
                customer, channel=channel, state=state, level=level, evidence=evidence, now=now
            )
        if changes:
            log.info("customer %s changed %d preferences", customer.id, len(changes))
        return self.view(claim, locale)

    def withdraw_all(
        self, claim: PreferenceClaim, locale: str, shopper: Shopper, touchpoint: str
    ) -> PreferenceView:
        view = self.view(claim, locale)
        choices = {p.channel: False for p in view.channels}
        return self.change(
            claim, locale=locale, choices=choices, seen={}, shopper=shopper, touchpoint=touchpoint
        )

    def _record(
        self,
        customer: Customer,
        *,
        channel: Channel,
        state: ConsentState,
        level: OptInLevel,
        evidence: Evidence,
        now: datetime,
    ) -> None:
        self.sync.change_consent(
            ConsentEvent(
                merchant_id=customer.merchant_id,
                customer_id=customer.id,
                channel=channel,
                state=state,
                opt_in_level=level,
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=occurred_after_current(customer, channel, now),
                evidence=evidence,
            )
        )


def _person(tenant: Tenant, customer_id: UUID) -> Customer:
    """The person a link names, following merges; an erased person has no preferences."""
    customer = tenant.customers.find(customer_id)
    while customer is not None and customer.merged_into_id is not None:
        customer = tenant.customers.find(customer.merged_into_id)
    if customer is None or customer.redacted:
        raise Refusal(404, "unknown_person", "this link no longer leads to anyone")
    return customer


def _channels(tenant: Tenant, customer: Customer, locale: str) -> list[ChannelPreference]:
    """The channels this person can be reached on that either have a wording (so they can
    say yes) or hold a subscription (so they can say no)."""
    found = []
    for channel in STOREFRONT_CHANNELS:
        contact = customer.email if CONTACT_OF[channel] == "email" else customer.phone
        if contact is None:
            continue
        status = customer.consent(channel)
        state = status.state if status else ConsentState.NOT_SUBSCRIBED
        wording = current_wording(tenant, channel, locale)
        if wording is None and state not in _ACTIVE:
            continue
        level = status.opt_in_level.value if status else None
        found.append(ChannelPreference(channel, state, level, wording))
    return found
