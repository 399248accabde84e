"""Referral codes: unique per merchant, unguessable, and easy to read aloud and type."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import require_aware, utcnow

# 32 symbols without 0/O and 1/I, which people confuse when reading a code off a screen.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 32**10 ≈ 1.1e15: guessing one valid code is hopeless at any rate we allow
_SEPARATORS = str.maketrans("", "", " -_")


def generate_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(value: str) -> str:
    """What a person typed, in canonical form: upper case, no spaces or dashes."""
    code = (value or "").translate(_SEPARATORS).upper()
    if not code or any(ch not in ALPHABET for ch in code):
        raise InvalidValue("a referral code uses only the letters and digits shown on the card")
    return code


def display_code(code: str) -> str:
    """Grouped in fives for reading aloud: ABCDE-FGHJK."""
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


@dataclass(eq=False)
class ReferralCode:
    merchant_id: UUID
    customer_id: UUID
    code: str = field(default_factory=generate_code)
    created_at: datetime = field(default_factory=utcnow)
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.code = normalize_code(self.code)
        self.created_at = require_aware(self.created_at, "created_at")
