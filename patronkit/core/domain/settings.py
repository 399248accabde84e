"""A merchant's consent settings: double opt-in per channel, widget texts, storefront origins.

Plain Python. The admin pages edit these; the storefront widget, its API and the emails read
them. Every setter validates its input and raises InvalidValue, leaving the object unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import utcnow
from patronkit.core.domain.wording import _normalize_locale

FALLBACK_LOCALE = "en"
MAX_TEXT_LENGTH = 1000
MAX_LOCALES = 50
MAX_ORIGINS = 20
_MAX_ORIGIN_LENGTH = 255
# Plain http is accepted only for a storefront on this machine (development, tests).
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

# Every text the widget, the preference page and the emails show, with its English default.
DEFAULT_TEXTS: Mapping[str, str] = {
    "title": "Stay in touch",
    "email_label": "Email address",
    "phone_label": "Mobile number",
    "submit": "Subscribe",
    "thanks": "Thank you! Your choice has been saved.",
    "confirm_sent": "Almost done: please check your inbox and click the link to confirm.",
    "error": "Sorry, something went wrong. Please try again.",
    "manage": "Manage my preferences",
    "manage_sent": "If we know this address, we have emailed it a link to your preferences.",
    "preferences_title": "Your marketing preferences",
    "preferences_intro": "Choose how we may contact you. You can change this at any time.",
    "preferences_save": "Save my choices",
    "preferences_saved": "Your preferences have been saved.",
    "withdraw_all": "Unsubscribe from everything",
    "confirm_title": "Confirm your subscription",
    "confirm_intro": "Please confirm that you want to hear from us.",
    "confirm_button": "Yes, confirm my subscription",
    "confirmed": "Thank you, your subscription is confirmed.",
    "link_invalid": "This link is invalid or has expired.",
    "confirm_subject": "Please confirm your subscription",
    "confirm_body": "Please confirm that you want to hear from us by opening this link:",
    "reconsent_subject": "We have updated our marketing consent",
    "reconsent_body": (
        "We have changed how we describe the messages we send. To keep hearing from us, "
        "please confirm your choice on this page:"
    ),
    "preferences_subject": "Your marketing preferences",
    "preferences_body": "You can see and change your marketing preferences here at any time:",
}
TEXT_KEYS = frozenset(DEFAULT_TEXTS)


def normalize_locale(value: str) -> str:
    """`en`, `en-GB`: the rule consent wordings use, so texts and wordings agree."""
    return _normalize_locale(value)


def default_double_opt_in() -> dict[Channel, bool]:
    # Email confirmation is the norm (and required in several EU countries); other channels
    # have their own confirmation habits, so they start with single opt-in.
    return {channel: channel is Channel.EMAIL for channel in Channel}


def normalize_origin(value: str) -> str:
    """`scheme://host[:port]` in lower case, as browsers send it in the Origin header."""
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_ORIGIN_LENGTH:
        raise InvalidValue("an origin must be a non-empty string of at most 255 characters")
    text = value.strip().lower().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidValue(f"not an origin: {value!r} (use e.g. https://shop.example.com)")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidValue(f"an origin has no path, query or user: {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise InvalidValue(f"bad port in origin {value!r}") from None
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise InvalidValue(f"a storefront origin must use https: {value!r}")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


@dataclass(eq=False)
class MerchantSettings:
    """One merchant's consent settings. `id` is the row identity; one row per merchant."""

    merchant_id: UUID
    double_opt_in: dict[Channel, bool] = field(default_factory=default_double_opt_in)
    widget_texts: dict[str, dict[str, str]] = field(default_factory=dict)
    storefront_origins: tuple[str, ...] = ()
    updated_at: datetime = field(default_factory=utcnow)
    id: UUID = field(default_factory=uuid4)

    # -- reading --------------------------------------------------------------------------

    def double_opt_in_for(self, channel: Channel | str) -> bool:
        return self.double_opt_in.get(Channel.parse(channel), False)

    def texts_for(self, locale: str) -> dict[str, str]:
        """Every text for a locale: the locale's own, else its language's, else "en", else
        the built-in English default (key by key, so a partial translation still works)."""
        try:
            wanted = normalize_locale(locale)
        except InvalidValue:
            wanted = FALLBACK_LOCALE
        order = [FALLBACK_LOCALE, wanted.split("-")[0], wanted]
        texts = dict(DEFAULT_TEXTS)
        for candidate in dict.fromkeys(order):  # most general first, most specific wins
            texts.update(self.widget_texts.get(candidate, {}))
        return texts

    # -- changing -------------------------------------------------------------------------

    def set_double_opt_in(self, channel: Channel | str, on: bool) -> None:
        if not isinstance(on, bool):
            raise InvalidValue("double opt-in is on or off (a boolean)")
        self.double_opt_in = {**self.double_opt_in, Channel.parse(channel): on}
        self._touch()

    def set_widget_texts(self, locale: str, texts: Mapping[str, str]) -> None:
        """Replace one locale's texts. Keys left out fall back (see texts_for); an empty
        mapping removes the locale's own texts."""
        code = normalize_locale(locale)
        if not isinstance(texts, Mapping):
            raise InvalidValue("texts must be a mapping of text key to text")
        unknown = sorted(set(texts) - TEXT_KEYS)
        if unknown:
            raise InvalidValue(f"unknown text keys {unknown}; known: {sorted(TEXT_KEYS)}")
        cleaned: dict[str, str] = {}
        for key, value in texts.items():
            if not isinstance(value, str) or not value.strip():
                raise InvalidValue(f"text {key!r} must be a non-empty string")
            if len(value) > MAX_TEXT_LENGTH:
                raise InvalidValue(f"text {key!r} is longer than {MAX_TEXT_LENGTH} characters")
            cleaned[key] = value.strip()
        updated = {k: v for k, v in self.widget_texts.items() if k != code}
        if cleaned:
            updated[code] = cleaned
        if len(updated) > MAX_LOCALES:
            raise InvalidValue(f"at most {MAX_LOCALES} locales")
        self.widget_texts = updated
        self._touch()

    def set_storefront_origins(self, origins: Iterable[str]) -> None:
        """Extra origins allowed to call the storefront API (e.g. a custom shop domain);
        the shop's own domain is always allowed and need not be listed."""
        if isinstance(origins, str):
            raise InvalidValue("give a list of origins, not one string")
        normalized = tuple(dict.fromkeys(normalize_origin(origin) for origin in origins))
        if len(normalized) > MAX_ORIGINS:
            raise InvalidValue(f"at most {MAX_ORIGINS} storefront origins")
        self.storefront_origins = normalized
        self._touch()

    def _touch(self) -> None:
        self.updated_at = utcnow()
