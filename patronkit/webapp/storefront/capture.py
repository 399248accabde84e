"""Consent captured on a storefront: the form a shop shows, and what a submission records.

Every check runs before anything is written, so a refused submission changes nothing.
Recording goes through SyncEngine.change_consent: one transaction per channel that appends
the event and queues a push to every store the person is linked in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.domain.values import utcnow
from patronkit.core.ports import Tenant, UnitOfWork
from patronkit.core.services import register_customer
from patronkit.sync.engine import SyncEngine
from patronkit.webapp.storefront.model import (
    CONTACT_OF,
    STOREFRONT_CHANNELS,
    Notifier,
    Refusal,
    Shopper,
    ShownChannel,
    Submission,
    SubmitOutcome,
    check_seen,
    current_wording,
    occurred_after_current,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsentForm:
    shop: ShopConnection
    locale: str
    texts: dict[str, str]
    channels: list[ShownChannel]


class ConsentCapture:
    def __init__(self, sync: SyncEngine, notifier: Notifier) -> None:
        self.sync = sync
        self.notifier = notifier

    # -- the form -------------------------------------------------------------------------

    def find_shop(self, uow: UnitOfWork, platform: str, domain: str) -> ShopConnection:
        shop = uow.merchants.shop_by_domain(platform, domain)
        if shop is None or not shop.active:
            raise Refusal(404, "unknown_shop", "no connected shop with that platform and domain")
        return shop

    def form(
        self, platform: str, domain: str, locale: str, wanted: tuple[Channel, ...] | None
    ) -> ConsentForm:
        """The channels offered (those with a wording; `wanted` narrows them), with the exact
        current wording for the locale, the texts and the double opt-in flags."""
        with self.sync.unit_of_work(read_only=True) as uow:
            shop = self.find_shop(uow, platform, domain)
            tenant = uow.tenant(shop.merchant_id)
            settings = tenant.settings.get()
            channels = []
            for channel in wanted or STOREFRONT_CHANNELS:
                wording = current_wording(tenant, channel, locale)
                if wording is not None:
                    channels.append(
                        ShownChannel(channel, settings.double_opt_in_for(channel), wording)
                    )
            return ConsentForm(shop, locale, settings.texts_for(locale), channels)

    # -- a submission ---------------------------------------------------------------------

    def submit(
        self, platform: str, domain: str, submission: Submission, shopper: Shopper
    ) -> SubmitOutcome:
        chosen = [channel for channel, yes in submission.choices.items() if yes]
        with self.sync.unit_of_work(read_only=True) as uow:
            shop = self.find_shop(uow, platform, domain)
            tenant = uow.tenant(shop.merchant_id)
            settings = tenant.settings.get()
            wordings = {}
            for channel in chosen:
                wording = current_wording(tenant, channel, submission.locale)
                check_seen(channel, submission.seen.get(channel), wording)
                assert wording is not None
                wordings[channel] = wording
        confirm = [c for c in chosen if settings.double_opt_in_for(c)]
        if confirm and submission.email is None:
            raise Refusal(
                422,
                "email_required",
                "confirming this consent needs an email address (double opt-in is on for "
                + ", ".join(c.value for c in confirm)
                + ")",
            )
        customer = self._find_or_register(shop.merchant_id, submission)
        now = utcnow()
        for channel in chosen:
            if CONTACT_OF[channel] == "phone" and customer.phone != submission.phone:
                # A known person's profile is never changed from the storefront, so a phone
                # other than theirs cannot receive consent on their record.
                log.info("customer %s: %s consent skipped, other phone", customer.id, channel)
                continue
            state = _state_to_record(customer, channel, double_opt_in=channel in confirm)
            if state is None:
                continue
            event = ConsentEvent(
                merchant_id=shop.merchant_id,
                customer_id=customer.id,
                channel=channel,
                state=state,
                opt_in_level=OptInLevel.SINGLE,
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=occurred_after_current(customer, channel, now),
                evidence=shopper.evidence(submission.touchpoint, wordings[channel]),
            )
            self.sync.change_consent(event)
        if confirm:
            self.notifier.send_confirmation(
                shop.merchant_id,
                customer.id,
                submission.locale,
                {channel: wordings[channel].id for channel in confirm},
            )
            return SubmitOutcome("confirmation_sent", customer.id)
        return SubmitOutcome("subscribed", customer.id)

    def _find_or_register(self, merchant_id: UUID, submission: Submission) -> Customer:
        for attempt in range(2):
            with self.sync.unit_of_work() as uow:
                tenant = uow.tenant(merchant_id)
                found = _find(tenant, submission.email, submission.phone)
                if found is not None:
                    return found
                customer = register_customer(
                    uow, merchant_id, email=submission.email, phone=submission.phone
                )
                try:
                    uow.commit()
                except IntegrityError:
                    # The same person signed up in a concurrent request: use theirs.
                    if attempt:
                        raise
                    continue
                log.info("customer %s registered from the storefront", customer.id)
                return customer
        raise AssertionError("unreachable")

    # -- the preference link by email -----------------------------------------------------

    def request_preference_link(self, platform: str, domain: str, email: str, locale: str) -> None:
        """Email the person their preference link, if we know them. The answer is the same
        either way, so the endpoint tells no one whether an address is known."""
        with self.sync.unit_of_work(read_only=True) as uow:
            shop = self.find_shop(uow, platform, domain)
            customer = _find(uow.tenant(shop.merchant_id), email, None)
        if customer is not None and customer.email:
            self.notifier.send_preference_link(shop.merchant_id, customer.id, locale)


def _find(tenant: Tenant, email: str | None, phone: str | None) -> Customer | None:
    customer = tenant.customers.by_email(email) if email else _by_phone(tenant, phone)
    # A merged record points at the one that absorbed it; consent belongs there.
    while customer is not None and customer.merged_into_id is not None:
        customer = tenant.customers.find(customer.merged_into_id)
    if customer is not None and customer.redacted:
        return None
    return customer


def _by_phone(tenant: Tenant, phone: str | None) -> Customer | None:
    """The oldest customer with this phone. The port has no phone lookup; the duplicate
    finder matches on phone, so a probe customer (never saved) asks it."""
    if phone is None:
        return None
    probe = Customer(merchant_id=tenant.merchant_id, phone=phone)
    matches = tenant.customers.likely_duplicates_among([probe]).get(probe.id, [])
    same = [c for c in matches if c.phone == probe.phone and not c.redacted]
    return min(same, key=lambda c: c.created_at, default=None)


def _state_to_record(
    customer: Customer, channel: Channel, *, double_opt_in: bool
) -> ConsentState | None:
    """What a yes on the storefront records, or None when it would only weaken what holds.

    A yes from an anonymous form may not downgrade a subscription: with double opt-in the
    confirmation email still goes out, and its click upgrades the proof.
    """
    current = customer.consent(channel)
    subscribed = current is not None and current.state is ConsentState.SUBSCRIBED
    if double_opt_in:
        return None if subscribed else ConsentState.PENDING
    if subscribed and current is not None and current.opt_in_level is OptInLevel.CONFIRMED:
        return None
    return ConsentState.SUBSCRIBED
