"""JSON bodies of the storefront API turned into model values, or refused.

Shape errors (not JSON, wrong types, unknown fields) are 400; well-formed values that break a
rule (an invalid address, an unknown channel) are 422. Nothing is looked up here.
"""

from __future__ import annotations

from typing import Any

from flask import Request

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.errors import InvalidEmail, InvalidPhone
from patronkit.core.domain.values import normalize_email, normalize_phone
from patronkit.webapp.storefront.model import (
    CONTACT_OF,
    TOUCHPOINTS,
    Refusal,
    SeenWording,
    Submission,
    parse_locale,
)

MAX_BODY_BYTES = 16 * 1024


def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object. Size is capped before reading (413)."""
    if request.mimetype != "application/json":
        raise Refusal(415, "unsupported_media_type", "send the body as application/json")
    request.max_content_length = MAX_BODY_BYTES  # werkzeug answers 413 when reading more
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Refusal(400, "invalid_json", "the body must be a JSON object")
    return data


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Refusal(400, "unknown_field", f"unknown fields: {', '.join(unknown)}")


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refusal(400, "invalid_field", f"{key} must be a string")
    return value.strip() or None


def email_of(data: dict[str, Any]) -> str | None:
    value = _optional_str(data, "email")
    try:
        return normalize_email(value) if value is not None else None
    except InvalidEmail:
        raise Refusal(422, "invalid_email", "that is not a valid email address") from None


def phone_of(data: dict[str, Any]) -> str | None:
    value = _optional_str(data, "phone")
    try:
        # No region guess: the storefront serves many countries, so ask for +country code.
        return normalize_phone(value) if value is not None else None
    except InvalidPhone:
        raise Refusal(
            422, "invalid_phone", "give the phone number with its country code, e.g. +44…"
        ) from None


def channel_choices(
    data: dict[str, Any],
) -> tuple[dict[Channel, bool], dict[Channel, SeenWording]]:
    """`{"email": {"consent": true, "wording_version": 3, "wording_sha256": "…"}, …}`"""
    raw = data.get("channels")
    if not isinstance(raw, dict):
        raise Refusal(400, "invalid_field", "channels must be an object keyed by channel")
    choices: dict[Channel, bool] = {}
    seen: dict[Channel, SeenWording] = {}
    for name, entry in raw.items():
        try:
            channel = Channel(name)
        except ValueError:
            channel = None
        if channel not in CONTACT_OF:
            known = ", ".join(c.value for c in CONTACT_OF)
            raise Refusal(422, "unknown_channel", f"unknown channel {name!r}; use {known}")
        assert channel is not None
        if not isinstance(entry, dict):
            raise Refusal(400, "invalid_field", f"channels.{name} must be an object")
        _only(entry, {"consent", "wording_version", "wording_sha256"})
        consent = entry.get("consent")
        if not isinstance(consent, bool):
            raise Refusal(400, "invalid_field", f"channels.{name}.consent must be true or false")
        choices[channel] = consent
        version, sha256 = entry.get("wording_version"), entry.get("wording_sha256")
        if version is None and sha256 is None:
            continue
        if isinstance(version, bool) or not isinstance(version, int) or not isinstance(sha256, str):
            raise Refusal(
                400,
                "invalid_field",
                f"channels.{name}: wording_version is a number and wording_sha256 a string",
            )
        seen[channel] = SeenWording(version, sha256)
    if not choices:
        raise Refusal(422, "nothing_chosen", "channels is empty")
    return choices, seen


def submission(data: dict[str, Any]) -> Submission:
    _only(data, {"email", "phone", "channels", "touchpoint", "locale"})
    email, phone = email_of(data), phone_of(data)
    choices, seen = channel_choices(data)
    touchpoint = data.get("touchpoint")
    if not isinstance(touchpoint, str):
        raise Refusal(400, "invalid_field", "touchpoint must be a string")
    if touchpoint not in TOUCHPOINTS:
        raise Refusal(
            422, "invalid_touchpoint", f"touchpoint must be one of {', '.join(sorted(TOUCHPOINTS))}"
        )
    locale = parse_locale(_optional_str(data, "locale"))
    if not any(choices.values()):
        raise Refusal(422, "nothing_chosen", "tick at least one channel")
    for channel, yes in choices.items():
        given = email if CONTACT_OF[channel] == "email" else phone
        if yes and given is None:
            contact = CONTACT_OF[channel]
            raise Refusal(422, f"{contact}_required", f"{channel.value} consent needs {contact}")
    return Submission(email, phone, choices, seen, touchpoint, locale)


def preference_change(
    data: dict[str, Any],
) -> tuple[dict[Channel, bool], dict[Channel, SeenWording], str]:
    _only(data, {"channels", "locale"})
    choices, seen = channel_choices(data)
    return choices, seen, parse_locale(_optional_str(data, "locale"))


def preference_link_request(data: dict[str, Any]) -> tuple[str, str]:
    _only(data, {"email", "locale"})
    email = email_of(data)
    if email is None:
        raise Refusal(422, "email_required", "give the email address to send the link to")
    return email, parse_locale(_optional_str(data, "locale"))
