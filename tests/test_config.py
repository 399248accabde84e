from __future__ import annotations

import stat
from pathlib import Path

import pytest

from patronkit.config import ConfigError, Settings
from patronkit.core.crypto import FernetSealer


def test_defaults_create_a_private_key_file_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"PATRONKIT_DATA_DIR": str(tmp_path)}
    first = Settings.load(env)
    key_file = tmp_path / "encryption.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "Created an encryption key" in caplog.text
    assert first.database_url == f"sqlite:///{tmp_path / 'patronkit.db'}"
    assert first.queue_url == f"sqlite:///{tmp_path / 'queue.db'}"
    caplog.clear()
    second = Settings.load(env)
    assert second.encryption_keys == first.encryption_keys
    assert "Created" not in caplog.text
    assert first.secret_key != first.encryption_keys[0]


def test_environment_beats_file_beats_default(tmp_path: Path) -> None:
    key = FernetSealer.generate_key()
    config = tmp_path / "patronkit.toml"
    config.write_text(
        f'database_url = "postgresql+psycopg://db/x"\nport = 9000\nencryption_keys = ["{key}"]\n'
    )
    settings = Settings.load(
        {
            "PATRONKIT_CONFIG_FILE": str(config),
            "PATRONKIT_PORT": "9100",
            "PATRONKIT_DATA_DIR": str(tmp_path),
        }
    )
    assert settings.database_url == "postgresql+psycopg://db/x"
    assert settings.port == 9100
    assert settings.encryption_keys == (key,)
    assert not (tmp_path / "encryption.keys").exists()


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    settings = Settings.load({"PATRONKIT_DATA_DIR": str(tmp_path)})
    assert settings.encryption_keys[0] not in repr(settings)
    assert settings.secret_key not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PATRONKIT_ENCRYPTION_KEYS": "not-a-key"}, "not a valid Fernet key"),
        ({"PATRONKIT_PORT": "eighty"}, "PORT must be a number"),
        ({"PATRONKIT_RECONCILE_MINUTES": "90"}, "RECONCILE_MINUTES must be"),
        ({"PATRONKIT_CONFIG_FILE": "/nonexistent.toml"}, "cannot read config file"),
    ],
)
def test_bad_settings_are_reported_clearly(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load({"PATRONKIT_DATA_DIR": str(tmp_path), **env})


def test_no_key_file_is_made_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no encryption keys"):
        Settings.load({"PATRONKIT_DATA_DIR": str(tmp_path)}, create_key_file=False)
