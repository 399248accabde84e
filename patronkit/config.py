"""Settings: one object built from environment variables (and optionally a TOML file).

Nothing is read at import time; `Settings.load()` is called by the CLI and the app factory.

    PATRONKIT_CONFIG_FILE      a TOML file with the same keys, lower case, no prefix
    PATRONKIT_DATA_DIR         ./var
    PATRONKIT_DATABASE_URL     sqlite:///<data dir>/patronkit.db
    PATRONKIT_QUEUE_URL        sqlite:///<data dir>/queue.db, or redis://host:port/db
    PATRONKIT_ENCRYPTION_KEYS  comma-separated Fernet keys, newest first; default: the
                               key file <data dir>/encryption.keys, created on first run
    PATRONKIT_SECRET_KEY       derived from the first encryption key
    PATRONKIT_PUBLIC_URL       http://127.0.0.1:8000
    PATRONKIT_HOST / _PORT     127.0.0.1 / 8000
    PATRONKIT_LOG_LEVEL        INFO
    PATRONKIT_RECONCILE_MINUTES 15 (how often every shop is reconciled, 1-59)
    PATRONKIT_MAIL_URL         outbox (one .eml file per message in <data dir>/outbox), or
                               smtp://user:pass@host:port, smtp+starttls://…, smtps://…
    PATRONKIT_MAIL_FROM        patronkit <no-reply@localhost>
    PATRONKIT_TRUSTED_PROXIES  0: how many reverse proxies stand in front of the app; only
                               then is X-Forwarded-For believed (that many hops from the right)
    PATRONKIT_<PLATFORM>_<KEY> options of one platform adapter, e.g. PATRONKIT_SHOPIFY_CLIENT_ID
"""

from __future__ import annotations

import hashlib
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patronkit.core.crypto import FernetSealer

_PREFIX = "PATRONKIT_"
log = logging.getLogger(__name__)


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    queue_url: str
    encryption_keys: tuple[str, ...] = field(repr=False)
    secret_key: str = field(repr=False)
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    reconcile_minutes: int = 15
    mail_url: str = field(default="outbox", repr=False)  # may hold an SMTP password
    mail_from: str = "patronkit <no-reply@localhost>"
    trusted_proxies: int = 0
    # Every setting as given (lower case, no prefix), for the options of platform adapters.
    raw: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, *, create_key_file: bool = True
    ) -> Settings:
        """Settings from the environment, then the optional file, then defaults.

        With no keys configured, a key file is made in the data folder (mode 0600), once.
        """
        env = dict(os.environ if environ is None else environ)
        values = _file_values(env.get(_PREFIX + "CONFIG_FILE"))
        values.update(
            {k[len(_PREFIX) :].lower(): v for k, v in env.items() if k.startswith(_PREFIX)}
        )
        data_dir = Path(values.get("data_dir", "var")).expanduser().resolve()
        database_url = values.get("database_url") or f"sqlite:///{data_dir / 'patronkit.db'}"
        queue_url = values.get("queue_url") or f"sqlite:///{data_dir / 'queue.db'}"
        keys = _split_keys(values.get("encryption_keys", ""))
        if not keys:
            keys = _key_file_keys(data_dir / "encryption.keys", create=create_key_file)
        try:
            FernetSealer(keys)
        except ValueError as exc:
            raise ConfigError(
                f"PATRONKIT_ENCRYPTION_KEYS: not a valid Fernet key ({exc})"
            ) from None
        secret_key = values.get("secret_key") or _derived_secret(keys[0])
        try:
            port = int(values.get("port", 8000))
        except ValueError:
            raise ConfigError("PATRONKIT_PORT must be a number") from None
        try:
            reconcile_minutes = int(values.get("reconcile_minutes", 15))
        except ValueError:
            reconcile_minutes = 0
        if not 1 <= reconcile_minutes <= 59:
            raise ConfigError("PATRONKIT_RECONCILE_MINUTES must be a whole number from 1 to 59")
        try:
            trusted_proxies = int(values.get("trusted_proxies", 0))
        except ValueError:
            trusted_proxies = -1
        if not 0 <= trusted_proxies <= 10:
            raise ConfigError("PATRONKIT_TRUSTED_PROXIES must be a whole number from 0 to 10")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            queue_url=queue_url,
            encryption_keys=keys,
            secret_key=secret_key,
            public_url=values.get("public_url", "http://127.0.0.1:8000").rstrip("/"),
            host=values.get("host", "127.0.0.1"),
            port=port,
            log_level=values.get("log_level", "INFO").upper(),
            reconcile_minutes=reconcile_minutes,
            mail_url=values.get("mail_url") or "outbox",
            mail_from=values.get("mail_from") or "patronkit <no-reply@localhost>",
            trusted_proxies=trusted_proxies,
            raw=values,
        )

    def platform_options(self, platform: str) -> dict[str, str]:
        """Settings named `<platform>_<key>`, as {key: value}."""
        prefix = platform.lower() + "_"
        return {k[len(prefix) :]: v for k, v in self.raw.items() if k.startswith(prefix)}

    def sealer(self) -> FernetSealer:
        return FernetSealer(self.encryption_keys)

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _file_values(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    return {
        str(k).lower(): (",".join(v) if isinstance(v, list) else str(v)) for k, v in raw.items()
    }


def _split_keys(value: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in value.replace("\n", ",").split(",") if key.strip())


def _key_file_keys(path: Path, *, create: bool) -> tuple[str, ...]:
    if path.exists():
        keys = _split_keys(path.read_text())
        if keys:
            return keys
        raise ConfigError(f"{path} holds no keys")
    if not create:
        raise ConfigError("no encryption keys: set PATRONKIT_ENCRYPTION_KEYS")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = FernetSealer.generate_key()
    # Create with 0600 from the start, so the key is never readable by others even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning(
        "Created an encryption key at %s (mode 0600). Back it up: stored shop credentials "
        "cannot be read without it.",
        path,
    )
    return (key,)


def _derived_secret(key: str) -> str:
    # A separate value from the encryption key itself, so signing never exposes it.
    return hashlib.sha256(b"patronkit-signing:" + key.encode()).hexdigest()
