"""The command line, run as a user would: a real process, real files, real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PATRONKIT = [sys.executable, "-m", "patronkit"]


def _env(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRONKIT_")}
    env["PATRONKIT_DATA_DIR"] = str(tmp_path / "data")
    if database_url:
        env["PATRONKIT_DATABASE_URL"] = database_url
    return env


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PATRONKIT, "db", "upgrade"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "is at head" in result.stdout
    assert (tmp_path / "data" / "patronkit.db").exists()
    assert (tmp_path / "data" / "encryption.keys").exists()


def test_serve_answers_health_over_http(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [*PATRONKIT, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=10)
