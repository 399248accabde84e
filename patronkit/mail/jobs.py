"""The mail job: sent by a worker, never inside a request, retried on transport errors.

The job carries the customer's id, not the address: the queue holds no personal data, and
a person erased between the request and the send gets no mail.
"""

from __future__ import annotations

import email.policy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from uuid import UUID

import sqlalchemy as sa
from huey import Huey

from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.mail.transport import MailTransport, PermanentMailError

log = logging.getLogger(__name__)

TASK_NAME = "mail.send_to_customer"
TASK_MANY = "mail.send_to_customers"
# Messages per job of a bulk send (a re-consent campaign): small jobs, and arguments of a
# few hundred kilobytes at most.
PER_JOB = 500
# SMTP's own line limit: links stay on one line, readable and clickable, never encoded.
_POLICY = email.policy.default.clone(max_line_length=998)


class MailNotSent(Exception):
    """A transport error, stripped of its details (SMTP errors quote the recipient)."""


@dataclass(frozen=True)
class MailContent:
    subject: str
    body: str  # plain text
    unsubscribe_url: str | None = None  # becomes the List-Unsubscribe header


class MailJobs:
    """Registers the mail task on a Huey instance (producers and workers both build this)."""

    def __init__(
        self,
        huey: Huey,
        engine: sa.Engine,
        transport: MailTransport,
        sender: str,
        *,
        retries: int = 6,
        retry_delay_seconds: int = 60,
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.sender_name, self.sender_address = parseaddr(sender)
        if "@" not in self.sender_address:
            raise ValueError("mail_from needs an address, e.g. 'Shop <no-reply@shop.example>'")

        def send_to_customer(
            merchant_id: str, customer_id: str, subject: str, body: str, unsubscribe: str | None
        ) -> None:
            content = MailContent(subject, body, unsubscribe)
            self.deliver(UUID(merchant_id), UUID(customer_id), content)

        def send_to_customers(merchant_id: str, messages: list[list[str | None]]) -> None:
            # No retry of the whole job (that would write twice to those already written to):
            # a message that fails goes back to the queue as a job of its own, with retries.
            for customer_id, subject, body, unsubscribe in messages:
                assert customer_id is not None and subject is not None and body is not None
                content = MailContent(subject, body, unsubscribe)
                try:
                    self.deliver(UUID(merchant_id), UUID(customer_id), content)
                except MailNotSent:
                    self.send_to_customer(UUID(merchant_id), UUID(customer_id), content)

        self._task = huey.task(name=TASK_NAME, retries=retries, retry_delay=retry_delay_seconds)(
            send_to_customer
        )
        self._many_task = huey.task(name=TASK_MANY)(send_to_customers)

    def send_to_customer(self, merchant_id: UUID, customer_id: UUID, content: MailContent) -> None:
        """Queue one message to a customer's current email address."""
        self._task(
            str(merchant_id),
            str(customer_id),
            content.subject,
            content.body,
            content.unsubscribe_url,
        )

    def send_to_customers(
        self, merchant_id: UUID, messages: Sequence[tuple[UUID, MailContent]]
    ) -> None:
        """Queue many messages (one per customer) in jobs of PER_JOB."""
        rows = [
            [str(customer_id), content.subject, content.body, content.unsubscribe_url]
            for customer_id, content in messages
        ]
        for start in range(0, len(rows), PER_JOB):
            self._many_task(str(merchant_id), rows[start : start + PER_JOB])

    def deliver(self, merchant_id: UUID, customer_id: UUID, content: MailContent) -> bool:
        """The job's body: False if there is no one to write to (erased, no email)."""
        with SqlUnitOfWork(self.engine, read_only=True) as uow:
            merchant = uow.merchants.find(merchant_id)
            customer = uow.tenant(merchant_id).customers.find(customer_id)
            address = customer.email if customer and not customer.redacted else None
            shop_name = merchant.name if merchant else None
        if address is None:
            log.info("mail to customer %s skipped: no email address on record", customer_id)
            return False
        message = self.compose(address, shop_name, content)
        try:
            self.transport.send(message)
        except PermanentMailError as exc:
            log.warning("mail to customer %s refused for good: %s", customer_id, exc)
            return False
        except Exception as exc:
            # Re-raised without the original: its text may quote the address, and Huey logs it.
            raise MailNotSent(f"{type(exc).__name__} (customer {customer_id})") from None
        log.info("mail sent to customer %s", customer_id)
        return True

    def compose(self, address: str, shop_name: str | None, content: MailContent) -> EmailMessage:
        message = EmailMessage(policy=_POLICY)
        message["From"] = formataddr((shop_name or self.sender_name, self.sender_address))
        message["To"] = address
        message["Subject"] = content.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender_address.rpartition("@")[2])
        if content.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{content.unsubscribe_url}>"
        message.set_content(content.body)
        return message
