"""The port for encrypting secrets at rest. core/crypto.py implements it with MultiFernet."""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    def seal(self, plaintext: bytes) -> bytes:
        """Encrypt and authenticate; the result is safe to store."""
        ...

    def open(self, sealed: bytes) -> bytes:
        """Decrypt what `seal` produced, under the current or any older key."""
        ...
