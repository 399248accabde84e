"""Reading the .eml files the outbox transport writes, as a test (or a person) would."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

LINK = re.compile(r"https?://\S+")


def read(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()  # type: ignore[attr-defined]
    return text


def link(message: EmailMessage, marker: str) -> str:
    """The one link in the body whose path contains `marker` (e.g. "/confirm/", "/p/")."""
    found = [url for url in LINK.findall(body(message)) if marker in url]
    assert len(found) == 1, found
    return found[0]
