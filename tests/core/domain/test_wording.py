from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.errors import InvalidValue, UnknownChannel
from patronkit.core.domain.wording import ConsentWording


def test_wording_hash_and_versions() -> None:
    v1 = ConsentWording(
        merchant_id=uuid4(),
        channel=Channel.EMAIL,
        locale="en_gb",
        version=1,
        text="Send me news and offers by email.",
    )
    v2 = v1.next_version("Send me news, offers and reminders by email.", material=True)
    assert v1.locale == "en-GB"
    assert v1.sha256 == hashlib.sha256(b"Send me news and offers by email.").hexdigest()
    assert (v2.version, v2.material, v2.locale, v2.channel) == (2, True, "en-GB", Channel.EMAIL)
    assert v2.sha256 != v1.sha256


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"locale": "english!"}, InvalidValue),
        ({"version": 0}, InvalidValue),
        ({"text": "   "}, InvalidValue),
        ({"channel": "fax"}, UnknownChannel),
    ],
)
def test_bad_wording_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    base: dict[str, object] = {
        "merchant_id": uuid4(),
        "channel": Channel.EMAIL,
        "locale": "en",
        "version": 1,
        "text": "Yes please.",
    }
    with pytest.raises(error):
        ConsentWording(**{**base, **kwargs})  # type: ignore[arg-type]
