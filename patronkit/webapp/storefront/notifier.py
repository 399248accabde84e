"""The shopper's emails: the double opt-in confirmation and the preference link.

Composed here (the web layer knows the URLs and signs the links), sent by the mail job.
Every email carries the preference link. A person gets at most a few emails an hour from
the storefront, however often someone types their address into a form.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from patronkit.core.domain.consent import Channel
from patronkit.mail.jobs import MailContent, MailJobs
from patronkit.sync.engine import SyncEngine
from patronkit.webapp.ratelimit import RateLimiter
from patronkit.webapp.storefront import links

log = logging.getLogger(__name__)


def confirmation_url(public_url: str, token: str) -> str:
    return f"{public_url}/storefront/v1/confirm/{token}"


def preference_url(public_url: str, token: str) -> str:
    return f"{public_url}/p/{token}"


class MailNotifier:
    """Needs an app context (links are signed with the app's secret)."""

    def __init__(
        self, sync: SyncEngine, mail: MailJobs, public_url: str, per_person: RateLimiter
    ) -> None:
        self.sync = sync
        self.mail = mail
        self.public_url = public_url
        self.per_person = per_person

    def send_confirmation(
        self, merchant_id: UUID, customer_id: UUID, locale: str, wordings: dict[Channel, UUID]
    ) -> None:
        if not self._may_write(customer_id):
            return
        texts = self._texts(merchant_id, locale)
        confirm = confirmation_url(
            self.public_url, links.confirmation_token(merchant_id, customer_id, locale, wordings)
        )
        manage = self._preference_url(merchant_id, customer_id, locale)
        body = f"{texts['confirm_body']}\n\n{confirm}\n\n{texts['preferences_body']}\n{manage}\n"
        self.mail.send_to_customer(
            merchant_id, customer_id, MailContent(texts["confirm_subject"], body, manage)
        )

    def send_preference_link(self, merchant_id: UUID, customer_id: UUID, locale: str) -> None:
        if not self._may_write(customer_id):
            return
        texts = self._texts(merchant_id, locale)
        manage = self._preference_url(merchant_id, customer_id, locale)
        body = f"{texts['preferences_body']}\n\n{manage}\n"
        self.mail.send_to_customer(
            merchant_id, customer_id, MailContent(texts["preferences_subject"], body, manage)
        )

    def send_reconsent_requests(
        self, merchant_id: UUID, customer_ids: Sequence[UUID], locale: str
    ) -> None:
        """Ask customers to consent again under a materially changed wording: each gets their
        preference link, where the current wording is shown and can be accepted. Asked by the
        merchant, so the per-person limit of the public forms does not apply."""
        texts = self._texts(merchant_id, locale)
        messages = []
        for customer_id in customer_ids:
            manage = self._preference_url(merchant_id, customer_id, locale)
            body = f"{texts['reconsent_body']}\n\n{manage}\n"
            messages.append((customer_id, MailContent(texts["reconsent_subject"], body, manage)))
        self.mail.send_to_customers(merchant_id, messages)

    def _preference_url(self, merchant_id: UUID, customer_id: UUID, locale: str) -> str:
        return preference_url(
            self.public_url, links.preference_token(merchant_id, customer_id, locale)
        )

    def _texts(self, merchant_id: UUID, locale: str) -> dict[str, str]:
        with self.sync.unit_of_work(read_only=True) as uow:
            return uow.tenant(merchant_id).settings.get().texts_for(locale)

    def _may_write(self, customer_id: UUID) -> bool:
        if self.per_person.take(f"mail:{customer_id}") is None:
            return True
        # Silently: the form's answer must not tell whether an address receives mail.
        log.info("storefront mail to customer %s skipped: too many lately", customer_id)
        return False
