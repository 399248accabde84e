"""The fake platform as a worker process sees it, and helpers shared by the queue tests.

A worker subprocess cannot share objects with the test, so this gateway keeps its store on
disk: every push it accepts is one JSON line in `<dir>/pushes.jsonl`. It can also stall, once,
in the middle of a job (a delivery whose payload says `"stall": true`, or the first push to
`stall_push`), after leaving a marker file: the test waits for the marker and then kills the
worker, so the kill lands mid-job deterministically rather than by timing.

Run as a module it is `patronkit worker` with this platform registered as "teststore"; its
options come from settings as for any platform (PATRONKIT_TESTSTORE_DIR, …_STALL_PUSH):

    python -m tests.sync.workerfakes worker --workers 2
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import ConsentPush, InboundChange, PushOutcome, ShopAccess
from patronkit.sync.inbox import Delivery
from tests.sync.fakes import SECRET, FakeGateway, customer_payload

PLATFORM = "teststore"
PUSH_LOG = "pushes.jsonl"
STALL_SECONDS = 120.0  # far longer than any test waits: the worker is killed during it


@dataclass
class DiskGateway(FakeGateway):
    directory: Path = field(default_factory=Path)
    stall_push: str = ""  # the remote customer id whose first push stalls after it landed

    def parse_webhook(self, topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
        if payload.get("stall"):
            stall_once(self.directory, f"apply-{payload['id']}")
        return super().parse_webhook(topic, payload)

    def push_consent(self, shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        outcome = super().push_consent(shop, push)
        self.pushes.clear()  # the record that counts is the file; don't grow in memory
        line = {
            "domain": shop.domain,
            "remote_id": push.customer_remote_id,
            "channel": push.channel.value,
            "state": push.state.value,
            "level": push.opt_in_level.value,
            "occurred_at": push.occurred_at.isoformat(),
        }
        # One write(2) on an O_APPEND file: a kill leaves whole lines, never half of one.
        fd = os.open(self.directory / PUSH_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(line) + "\n").encode())
        finally:
            os.close(fd)
        if push.customer_remote_id == self.stall_push:
            # The store has the push; the worker dies before marking the outbox row sent.
            stall_once(self.directory, f"push-{push.customer_remote_id}")
        return outcome


def stall_once(directory: Path, name: str) -> None:
    """Leave `<name>.stalled` and sleep, the first time only (a restarted worker goes on)."""
    try:
        fd = os.open(directory / f"{name}.stalled", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    time.sleep(STALL_SECONDS)


def build(options: Mapping[str, str]) -> DiskGateway:
    """The registry's builder signature: options from PATRONKIT_TESTSTORE_<KEY>."""
    return DiskGateway(directory=Path(options["dir"]), stall_push=options.get("stall_push", ""))


def read_pushes(directory: Path) -> list[dict[str, str]]:
    path = directory / PUSH_LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- helpers for the tests -------------------------------------------------------------------


@dataclass
class Stores:
    merchant: Merchant
    shop_a: ShopConnection
    shop_b: ShopConnection


def seed_two_stores(engine: sa.Engine, sealer: FernetSealer) -> Stores:
    """One merchant with two connected stores of the fake platform."""
    merchant = Merchant(name="Two Stores")
    shops = [
        ShopConnection(merchant_id=merchant.id, platform=PLATFORM, domain=domain)
        for domain in ("a.example", "b.example")
    ]
    with SqlUnitOfWork(engine) as work:
        work.merchants.add(merchant)
        for shop in shops:
            shop.store_credentials(sealer, {"webhook_secret": SECRET})
            work.tenant(merchant.id).shops.add(shop)
        work.commit()
    return Stores(merchant, shops[0], shops[1])


def customer_delivery(
    shop: ShopConnection,
    key: str,
    remote_id: str,
    email: str,
    consent: tuple[str, datetime],
    *,
    stall: bool = False,
) -> Delivery:
    state, at = consent
    payload = customer_payload(remote_id, at, email=email, consent=(state, "single", at))
    if stall:
        payload["stall"] = True
    return Delivery(
        shop=shop, delivery_key=key, topic="customer", body=json.dumps(payload).encode()
    )


def wait_until(
    condition: Callable[[], bool], what: str, *, timeout: float = 20.0, every: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def status_counts(engine: sa.Engine, table: sa.Table) -> dict[str, int]:
    """{status: rows}, read from a snapshot: never waits for a writer's lock (on SQLite)."""
    with SqlUnitOfWork(engine, read_only=True) as uow:
        query = sa.select(table.c.status, sa.func.count()).group_by(table.c.status)
        return {status: count for status, count in uow.connection.execute(query).all()}


def main() -> None:
    """`patronkit` with the fake platform registered, for worker subprocesses."""
    from patronkit.adapters import registry
    from patronkit.cli import main as cli

    # The registry is a plain dict shared by reference with the composition root; adding the
    # entry here, in the subprocess only, is what a real platform's one registry line does.
    cast(dict[str, str], registry.PLATFORMS)[PLATFORM] = "tests.sync.workerfakes:build"
    cli()


if __name__ == "__main__":
    main()
