"""Mail transports, chosen by URL.

outbox                         one .eml file per message in <data dir>/outbox (the default)
outbox:///absolute/folder      the same, in another folder
smtp://user:pass@host:25       plain SMTP (login only if a user is given)
smtp+starttls://user:pass@host:587
smtps://user:pass@host:465     SMTP over TLS from the first byte
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

SMTP_TIMEOUT_SECONDS = 15.0


class MailConfigError(ValueError):
    pass


class PermanentMailError(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand one message over; raises on failure (the job retries what is not permanent)."""


@dataclass(frozen=True)
class OutboxFolder:
    """Writes each message as `<time>-<id>.eml`. The file appears complete or not at all
    (written beside, then renamed), so a reader polling the folder never sees half a mail."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, self.folder / name)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT_SECONDS

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            try:
                client.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                if all(500 <= code < 600 for code in codes):
                    raise PermanentMailError(f"recipient refused ({codes})") from None
                raise


_SECURITY = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}
_DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def transport_from_url(url: str, data_dir: Path) -> MailTransport:
    if url == "outbox":
        return OutboxFolder(data_dir / "outbox")
    parts = urlsplit(url)
    if parts.scheme == "outbox":
        if not parts.path.startswith("/"):
            raise MailConfigError("outbox folder URLs are absolute: outbox:///path/to/folder")
        return OutboxFolder(Path(unquote(parts.path)))
    security = _SECURITY.get(parts.scheme)
    if security is None:
        raise MailConfigError(
            f"unsupported mail URL scheme {parts.scheme!r} (outbox, smtp, smtp+starttls, smtps)"
        )
    if not parts.hostname:
        raise MailConfigError("an SMTP mail URL needs a host: smtp://user:pass@host:port")
    try:
        port = parts.port or _DEFAULT_PORTS[security]
    except ValueError:
        raise MailConfigError("the mail URL's port is not a number") from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
