import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from patronkit.adapters.woocommerce.consent_meta import (
    CHANNEL_KEYS,
    MalformedConsentMeta,
    consents_from_meta,
    format_time,
    meta_entry,
    parse_consent_value,
)
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.storefront import ConsentPush, RemoteConsent

T0 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def value(state: str = "subscribed", level: str = "confirmed", at: str = "2026-08-01T12:00:00Z"):
    return {"state": state, "level": level, "updated_at": at, "wording_version": 3}


def test_every_channel_has_its_documented_key() -> None:
    assert dict(CHANNEL_KEYS) == {
        Channel.EMAIL: "patronkit_consent_email",
        Channel.SMS: "patronkit_consent_sms",
        Channel.WHATSAPP: "patronkit_consent_whatsapp",
        Channel.POSTAL: "patronkit_consent_postal",
    }


def test_reads_each_channel_from_meta_data() -> None:
    meta = [
        {"id": 1, "key": "_wc_last_active", "value": "1722513600"},
        {"id": 2, "key": "patronkit_consent_email", "value": value()},
        {"id": 3, "key": "patronkit_consent_sms", "value": value("unsubscribed", "single")},
        {"id": 4, "key": "patronkit_consent_postal", "value": value("not_subscribed", "unknown")},
    ]
    assert consents_from_meta(meta) == (
        RemoteConsent(Channel.EMAIL, ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED, T0),
        RemoteConsent(Channel.SMS, ConsentState.UNSUBSCRIBED, OptInLevel.SINGLE, T0),
        RemoteConsent(Channel.POSTAL, ConsentState.NOT_SUBSCRIBED, OptInLevel.UNKNOWN, T0),
    )


def test_a_customer_without_patronkit_meta_says_nothing() -> None:
    assert consents_from_meta([]) == ()
    assert consents_from_meta(None) == ()
    assert consents_from_meta([{"key": "other", "value": "x"}]) == ()


def test_a_json_string_value_is_read_like_an_object() -> None:
    meta = [{"key": "patronkit_consent_whatsapp", "value": json.dumps(value("pending", "single"))}]
    [consent] = consents_from_meta(meta)
    assert (consent.channel, consent.state) == (Channel.WHATSAPP, ConsentState.PENDING)


def test_occurred_at_is_the_meta_updated_at_in_utc() -> None:
    consent = parse_consent_value(Channel.EMAIL, value(at="2026-08-01T14:00:00+02:00"))
    assert consent.occurred_at == T0
    assert consent.occurred_at.tzinfo is UTC


def test_a_missing_level_is_unknown() -> None:
    raw = {"state": "subscribed", "updated_at": "2026-08-01T12:00:00Z"}
    assert parse_consent_value(Channel.EMAIL, raw).opt_in_level is OptInLevel.UNKNOWN


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps(["a", "list"]),
        42,
        None,
        {"level": "single", "updated_at": "2026-08-01T12:00:00Z"},  # no state
        value(state="maybe"),
        value(level="double"),
        {"state": "subscribed", "level": "single"},  # no time
        value(at="yesterday"),
        value(at="2026-08-01T12:00:00"),  # no zone: site time or UTC?
        "x" * 5000,
    ],
)
def test_malformed_values_are_refused(raw: object) -> None:
    with pytest.raises(MalformedConsentMeta):
        parse_consent_value(Channel.EMAIL, raw)


def test_malformed_entries_are_skipped_with_a_log_line_that_names_no_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_looking = "jane.doe@example.com"
    meta = [
        {"key": "patronkit_consent_email", "value": {"state": secret_looking}},
        {"key": "patronkit_consent_sms", "value": value("unsubscribed", "single")},
    ]
    with caplog.at_level(logging.WARNING):
        consents = consents_from_meta(meta)
    assert [c.channel for c in consents] == [Channel.SMS]
    assert "patronkit_consent_email" in caplog.text
    assert secret_looking not in caplog.text


def test_a_repeated_key_keeps_the_newest_statement() -> None:
    older = value("subscribed", "single", "2026-08-01T12:00:00Z")
    newer = value("unsubscribed", "single", "2026-08-02T12:00:00Z")
    meta = [
        {"key": "patronkit_consent_email", "value": newer},
        {"key": "patronkit_consent_email", "value": older},
    ]
    [consent] = consents_from_meta(meta)
    assert consent.state is ConsentState.UNSUBSCRIBED


def test_a_push_becomes_a_meta_entry_that_reads_back_as_the_same_consent() -> None:
    at = T0 + timedelta(microseconds=123456)
    push = ConsentPush("25", Channel.SMS, ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED, at)
    entry = meta_entry(push)
    assert entry == {
        "key": "patronkit_consent_sms",
        "value": {
            "state": "subscribed",
            "level": "confirmed",
            "updated_at": "2026-08-01T12:00:00.123456Z",
            "wording_version": None,
        },
    }
    [consent] = consents_from_meta([entry])
    assert consent == RemoteConsent(Channel.SMS, ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED, at)


def test_times_are_written_in_utc_with_a_z() -> None:
    paris = timezone(timedelta(hours=2))
    assert format_time(datetime(2026, 8, 1, 14, 0, tzinfo=paris)) == "2026-08-01T12:00:00Z"
    with pytest.raises(ValueError):
        format_time(datetime(2026, 8, 1, 12, 0))
