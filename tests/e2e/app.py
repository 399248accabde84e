"""patronkit itself over loopback, for any platform: the web app under waitress, Huey workers
on an SQLite queue, and the test database. Stores (simulators) are started by the caller,
which passes the settings that point the app at them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from waitress.server import create_server

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.crypto import FernetSealer
from patronkit.sync.queue import BackgroundWorkers
from patronkit.sync.tables import inbox, outbox
from patronkit.webapp import create_app

# `timeout` seconds to wait for a store to have sent everything; True when it has.
StoreIdle = Callable[[float], bool]
# After everything looks done, stay quiet this long: an echo may still be on its way.
QUIET_SECONDS = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    predicate: Callable[[], bool],
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(interval)


def count_rows(engine: sa.Engine, table: sa.Table, **where: object) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


@dataclass
class RunningApp:
    runtime: Runtime
    url: str
    # The PATRONKIT_* settings the app runs with: a worker process started with these
    # shares its database, queue and keys.
    env: Mapping[str, str]

    def count(self, table: sa.Table, **where: object) -> int:
        return count_rows(self.runtime.engine, table, **where)

    def pending(self) -> tuple[int, int]:
        """(deliveries not yet applied, pushes not yet sent)."""
        return self.count(inbox, status="pending"), self.count(outbox, status="pending")

    def settle(self, *stores_idle: StoreIdle, timeout: float = 60.0) -> None:
        """Wait until every store has sent all its webhooks and we have applied and pushed
        everything, and it stays so for a moment."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            idle = all(store_idle(0.05) for store_idle in stores_idle) and self.pending() == (0, 0)
            if idle:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > QUIET_SECONDS:
                    return
            else:
                quiet_since = None
            time.sleep(0.05)
        raise AssertionError(f"not settled after {timeout}s: pending={self.pending()}")


@contextlib.contextmanager
def running_app(
    database_url: str,
    tmp_path: Path,
    settings: Mapping[str, str],
    *,
    port: int,
    workers: int = 4,
) -> Iterator[RunningApp]:
    """The app listening on 127.0.0.1:`port`, with `workers` Huey threads in this process
    (0: none, for tests that run a worker process of their own)."""
    env = {
        "PATRONKIT_DATA_DIR": str(tmp_path / "data"),
        "PATRONKIT_DATABASE_URL": database_url,
        "PATRONKIT_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
        "PATRONKIT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PATRONKIT_ENCRYPTION_KEYS": FernetSealer.generate_key(),
        "PATRONKIT_LOG_LEVEL": "WARNING",
        **settings,
    }
    runtime = build_runtime(Settings.load(env))
    server = create_server(create_app(runtime=runtime), host="127.0.0.1", port=port, threads=8)
    web = threading.Thread(target=server.run, name="web", daemon=True)
    web.start()
    background = BackgroundWorkers(runtime.huey, workers=workers) if workers else None
    if background is not None:
        background.start()
    try:
        yield RunningApp(runtime, f"http://127.0.0.1:{port}", env)
    finally:
        if background is not None:
            background.stop()
        server.close()
        web.join(timeout=5)
        runtime.close()
