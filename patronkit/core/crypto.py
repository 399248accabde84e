"""Secrets at rest: MultiFernet, so keys can rotate without a flag day.

The first key encrypts; every key decrypts. To rotate, put a new key first, run
`rotate` over stored values, then drop the old key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from patronkit.core.domain.errors import DomainError


class SealError(DomainError):
    """A sealed value could not be opened: wrong keys, or it was tampered with."""


class FernetSealer:
    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            raise SealError("cannot decrypt: unknown key or tampered value") from None

    def rotate(self, sealed: bytes) -> bytes:
        """Re-encrypt under the first key."""
        try:
            return self._fernet.rotate(sealed)
        except InvalidToken:
            raise SealError("cannot decrypt: unknown key or tampered value") from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")
