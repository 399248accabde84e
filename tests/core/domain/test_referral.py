from __future__ import annotations

from uuid import uuid4

import pytest

from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.referral import (
    ALPHABET,
    CODE_LENGTH,
    ReferralCode,
    display_code,
    generate_code,
    normalize_code,
)


def test_codes_avoid_confusable_symbols_and_do_not_repeat() -> None:
    codes = {generate_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(len(code) == CODE_LENGTH for code in codes)
    assert not set("".join(codes)) & set("0O1I")
    assert set("".join(codes)) <= set(ALPHABET)


def test_typed_codes_normalize() -> None:
    code = ReferralCode(merchant_id=uuid4(), customer_id=uuid4())
    typed = display_code(code.code).lower().replace("-", " - ")
    assert normalize_code(typed) == code.code
    with pytest.raises(InvalidValue):
        normalize_code("ABC0O1I")
