"""Mail transports (outbox folder, SMTP against a tiny loopback server) and the mail job."""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from huey import MemoryHuey

from patronkit.core.domain.customer import Customer
from patronkit.core.domain.merchant import Merchant
from patronkit.core.domain.values import utcnow
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.mail.jobs import MailContent, MailJobs, MailNotSent
from patronkit.mail.transport import (
    MailConfigError,
    OutboxFolder,
    PermanentMailError,
    SmtpServer,
    transport_from_url,
)

ADDRESS = "shopper@example.com"


def message(to: str = ADDRESS) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Shop <no-reply@shop.example>"
    mail["To"] = to
    mail["Subject"] = "Hello"
    mail.set_content("Body with a link: https://app.example/p/abc\n")
    return mail


# -- a minimal SMTP server on loopback --------------------------------------------------------


@dataclass
class Received:
    rcpt_reply: str = "250 OK"
    messages: list[bytes] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box = self.server.box
        self.reply("220 test ESMTP")
        while raw := self.rfile.readline():
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                box.logins.append((user, password))
                self.reply("235 Authenticated")
            elif verb == "MAIL":
                self.reply("250 OK")
            elif verb == "RCPT":
                box.recipients.append(line)
                self.reply(box.rcpt_reply)
            elif verb == "DATA":
                self.reply("354 End with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                box.messages.append(data)
                self.reply("250 Queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, box: Received) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.box = box


@pytest.fixture
def smtp() -> Iterator[tuple[Received, int]]:
    box = Received()
    server = _SmtpServer(box)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# -- transports -------------------------------------------------------------------------------


def test_the_outbox_folder_holds_one_complete_eml_per_message(tmp_path: Path) -> None:
    outbox = OutboxFolder(tmp_path / "outbox")
    outbox.send(message())
    outbox.send(message("other@example.com"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no partial files left behind
    parsed = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    assert sorted(str(p["To"]) for p in parsed) == ["other@example.com", ADDRESS]


def test_smtp_delivers_with_login(smtp: tuple[Received, int]) -> None:
    box, port = smtp
    transport = transport_from_url(f"smtp://mailer:s%40cret@127.0.0.1:{port}", Path("/unused"))
    transport.send(message())
    assert box.logins == [("mailer", "s@cret")]
    [raw] = box.messages
    received = BytesParser(policy=policy.default).parsebytes(raw)
    assert received["To"] == ADDRESS
    assert "https://app.example/p/abc" in raw.decode()


def test_smtp_refusal_for_good_is_permanent(smtp: tuple[Received, int]) -> None:
    box, port = smtp
    box.rcpt_reply = "550 No such user"
    with pytest.raises(PermanentMailError) as caught:
        SmtpServer("127.0.0.1", port, "none").send(message())
    assert ADDRESS not in str(caught.value)


def test_smtp_temporary_refusal_raises_for_a_retry(smtp: tuple[Received, int]) -> None:
    box, port = smtp
    box.rcpt_reply = "451 Try again later"
    with pytest.raises(Exception) as caught:
        SmtpServer("127.0.0.1", port, "none").send(message())
    assert not isinstance(caught.value, PermanentMailError)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example", SmtpServer("mail.example", 25, "none")),
        ("smtp+starttls://u:p@mail.example", SmtpServer("mail.example", 587, "starttls", "u", "p")),
        ("smtps://u:p@mail.example:2465", SmtpServer("mail.example", 2465, "tls", "u", "p")),
    ],
)
def test_mail_urls(url: str, expected: SmtpServer) -> None:
    assert transport_from_url(url, Path("/data")) == expected


def test_outbox_urls(tmp_path: Path) -> None:
    assert transport_from_url("outbox", tmp_path) == OutboxFolder(tmp_path / "outbox")
    assert transport_from_url("outbox:///srv/mail", tmp_path) == OutboxFolder(Path("/srv/mail"))


@pytest.mark.parametrize(
    "url", ["pigeon://x", "smtp://", "smtp://host:port", "outbox://relative", "http://mail"]
)
def test_bad_mail_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(MailConfigError):
        transport_from_url(url, tmp_path)


def test_the_password_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(transport_from_url("smtp://u:hunter2@h", Path("/")))


# -- the job ----------------------------------------------------------------------------------


@dataclass
class FlakyTransport:
    failures: int
    sent: list[EmailMessage] = field(default_factory=list)
    attempts: int = 0

    def send(self, mail: EmailMessage) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OSError(f"connection refused while sending to {mail['To']}")
        self.sent.append(mail)


@pytest.fixture
def person(clean_db: sa.Engine) -> tuple[sa.Engine, Merchant, Customer]:
    merchant = Merchant(name="Acme Outdoor")
    customer = Customer.create(merchant.id, email=ADDRESS)
    with SqlUnitOfWork(clean_db) as uow:
        uow.merchants.add(merchant)
        uow.tenant(merchant.id).customers.add(customer)
        uow.commit()
    return clean_db, merchant, customer


def jobs(engine: sa.Engine, transport: FlakyTransport, retries: int = 2) -> MailJobs:
    huey = MemoryHuey("mail-test", immediate=True)
    return MailJobs(
        huey, engine, transport, "patronkit <no-reply@shop.example>",
        retries=retries, retry_delay_seconds=0,
    )  # fmt: skip


CONTENT = MailContent(
    "Please confirm", "Click: https://app.example/c/x\n", "https://app.example/p/y"
)


def test_the_job_looks_up_the_address_and_writes_headers(
    person: tuple[sa.Engine, Merchant, Customer],
) -> None:
    engine, merchant, customer = person
    transport = FlakyTransport(failures=0)
    jobs(engine, transport).send_to_customer(merchant.id, customer.id, CONTENT)
    [sent] = transport.sent
    assert (sent["To"], sent["Subject"]) == (ADDRESS, "Please confirm")
    assert sent["From"] == "Acme Outdoor <no-reply@shop.example>"
    assert sent["List-Unsubscribe"] == "<https://app.example/p/y>"
    assert sent["Message-ID"].endswith("@shop.example>")


def test_the_job_is_retried_on_transport_errors(
    person: tuple[sa.Engine, Merchant, Customer],
) -> None:
    engine, merchant, customer = person
    transport = FlakyTransport(failures=2)
    jobs(engine, transport, retries=2).send_to_customer(merchant.id, customer.id, CONTENT)
    assert (transport.attempts, len(transport.sent)) == (3, 1)


def test_a_failure_names_no_address(
    person: tuple[sa.Engine, Merchant, Customer], caplog: pytest.LogCaptureFixture
) -> None:
    engine, merchant, customer = person
    mail = jobs(engine, FlakyTransport(failures=5), retries=0)
    with pytest.raises(MailNotSent) as caught:
        mail.deliver(merchant.id, customer.id, CONTENT)
    assert ADDRESS not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    mail.send_to_customer(merchant.id, customer.id, CONTENT)  # Huey logs the failure
    assert ADDRESS not in caplog.text
    assert "MailNotSent" in caplog.text


def test_an_erased_person_gets_no_mail(person: tuple[sa.Engine, Merchant, Customer]) -> None:
    engine, merchant, customer = person
    with SqlUnitOfWork(engine) as uow:
        uow.tenant(merchant.id).customers.get(customer.id).redact(utcnow())
        uow.commit()
    transport = FlakyTransport(failures=0)
    assert not jobs(engine, transport).deliver(merchant.id, customer.id, CONTENT)
    assert transport.sent == []


def test_mail_from_needs_an_address(clean_db: sa.Engine) -> None:
    make: Callable[[], MailJobs] = lambda: MailJobs(  # noqa: E731
        MemoryHuey("x", immediate=True), clean_db, FlakyTransport(0), "patronkit"
    )
    with pytest.raises(ValueError, match="mail_from"):
        make()


def test_a_bulk_send_writes_each_once_and_retries_only_the_failed_one(
    person: tuple[sa.Engine, Merchant, Customer],
) -> None:
    engine, merchant, first = person
    second = Customer.create(merchant.id, email="second@example.com")
    with SqlUnitOfWork(engine) as uow:
        uow.tenant(merchant.id).customers.add(second)
        uow.commit()
    transport = FlakyTransport(failures=1)  # the first message's first try fails
    jobs(engine, transport, retries=2).send_to_customers(
        merchant.id, [(first.id, CONTENT), (second.id, CONTENT)]
    )
    # second went out in the bulk job; first was re-queued on its own and then sent.
    assert sorted(str(m["To"]) for m in transport.sent) == sorted([ADDRESS, "second@example.com"])
    assert transport.attempts == 3
