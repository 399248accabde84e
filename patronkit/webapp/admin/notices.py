"""Messages shown after a change. A redirect names one by key (?notice=…): pages keep no
cookie to carry a flash message, and a key cannot be used to put text on the page."""

from __future__ import annotations

from flask import request

NOTICES = {
    "consent-saved": "Consent saved. Connected stores are being updated.",
    "consent-unchanged": "Nothing changed: the customer already had that consent.",
    "wording-created": "New wording version saved.",
    "reconsent-recorded": "Re-consent request recorded. The customers waiting are listed below.",
    "settings-saved": "Settings saved.",
}


def current_notice() -> str | None:
    return NOTICES.get(request.args.get("notice", ""))
