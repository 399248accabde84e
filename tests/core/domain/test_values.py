from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from patronkit.core.domain.errors import InvalidEmail, InvalidPhone, InvalidValue, NaiveDatetime
from patronkit.core.domain.values import (
    canonical_email,
    normalize_email,
    normalize_phone,
    require_aware,
    require_slug,
)


def test_email_is_trimmed_and_lowercased() -> None:
    assert normalize_email("  Ana.Silva@Example.COM ") == "ana.silva@example.com"


@pytest.mark.parametrize(
    "bad", ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@b@c.com"]
)
def test_invalid_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(bad)


def test_canonical_email_drops_plus_tags_and_gmail_dots() -> None:
    assert canonical_email("A.N.A+shop@googlemail.com") == "ana@gmail.com"
    assert canonical_email("a.na+x@example.com") == "a.na@example.com"


def test_phone_numbers_become_e164() -> None:
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"


@pytest.mark.parametrize("bad", ["", "12", "not a phone", "+44 20"])
def test_invalid_phones_are_refused(bad: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(bad)


def test_aware_datetimes_are_converted_to_utc_and_naive_ones_refused() -> None:
    paris = timezone(timedelta(hours=1))
    assert require_aware(datetime(2026, 1, 1, 13, 0, tzinfo=paris), "t") == datetime(
        2026, 1, 1, 12, 0, tzinfo=UTC
    )
    with pytest.raises(NaiveDatetime, match="has no timezone"):
        require_aware(datetime(2026, 1, 1), "t")


def test_slugs() -> None:
    assert require_slug("marketing", "purpose") == "marketing"
    with pytest.raises(InvalidValue):
        require_slug("Marketing Emails", "purpose")


def test_time_ordered_ids_are_version_7_and_sort_by_creation_time() -> None:
    import time
    from uuid import UUID

    from patronkit.core.domain.values import time_ordered_uuid

    earlier = time_ordered_uuid()
    time.sleep(0.002)
    later = [time_ordered_uuid() for _ in range(1000)]
    assert earlier.version == 7 and earlier.variant == "specified in RFC 4122"
    assert all(earlier < other for other in later)
    assert len(set(later)) == 1000
    millis = earlier.int >> 80
    assert abs(millis - time.time() * 1000) < 5_000
    assert UUID(str(earlier)) == earlier
