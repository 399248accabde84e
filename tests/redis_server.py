"""A throwaway Redis server for the test run: own folder, loopback, free port, no persistence.

The tests own the process (its Popen handle) and stop only that process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

STARTUP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_binary() -> str:
    """The redis-server binary; a skip when it is absent, except in CI where it must be there."""
    found = shutil.which("redis-server")
    if found:
        return found
    message = "redis-server is not installed (apt-get install redis-server)"
    if os.environ.get("CI"):
        raise RuntimeError(message + "; CI must provide it")
    pytest.skip(message)


@contextlib.contextmanager
def temporary_redis() -> Iterator[str]:
    """Start a private server and yield its URL (database 0)."""
    binary = redis_binary()
    root = Path(tempfile.mkdtemp(prefix="patronkit-redis-"))
    port = _free_port()
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(root),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_ready(process, url, root / "server.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start:\n{log.read_text()}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {STARTUP_TIMEOUT}s")
            time.sleep(0.02)
    finally:
        client.close()


def flush(url: str) -> None:
    """Empty the server's database: each test starts with an empty queue."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
