"""Withdrawal through the preference link until every connected store shows UNSUBSCRIBED.

    python bench/withdrawal.py [--runs N] [--poll-ms MS] [--workers N]

On the embedded default: `patronkit serve` in a child process (web app under waitress and
the Huey consumer beside it, SQLite database and SQLite queue in a temporary folder), and
two simulated Shopify shops in this process. One merchant has both shops connected; each
shop holds the same N customers (same emails), all subscribed with confirmed opt-in, imported
into core so that every customer is linked in both shops. Both shops' webhooks point at the
app, so every push comes back as a webhook echo, as in production.

Each run takes the next customer and POSTs a withdrawal to its preference link,
/storefront/v1/preferences/<token> with {"channels": {"email": {"consent": false}}}, then
polls both simulators' control API (GET /_simulator/customers/<id>) every --poll-ms until
both show UNSUBSCRIBED. The time is from just before the POST to the poll that saw the
second store change (so it includes the HTTP request, the commit, the queue hand-over, the
worker's push to each store, and up to one poll interval). Runs are sequential; between runs
the shops' webhook queues are let drain (untimed), so each run starts from quiet.

The app believes one reverse proxy (PATRONKIT_TRUSTED_PROXIES=1) and each run comes from
its own X-Forwarded-For address: a hundred shoppers, not one address tripping the per-IP
rate limit. Target: p95 < 1 s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import _common
import requests

from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.core.crypto import FernetSealer

P95_TARGET_S = 1.0
POLL_TIMEOUT_S = 20.0
SHOP_DOMAINS = ("bench-north.myshopify.com", "bench-south.myshopify.com")
SCOPES = "read_customers,write_customers,read_orders"


@dataclass(frozen=True)
class Person:
    email: str
    customer_id: UUID
    remote_ids: tuple[int, ...]  # one per shop, in SHOP_DOMAINS order
    token: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]  # nearest rank


@contextmanager
def _simulators() -> Iterator[list[ShopifySimulator]]:
    with ExitStack() as stack:
        sims = [
            stack.enter_context(
                running_simulator(
                    shop_domain=domain,
                    customers=0,
                    client_id=_common.CLIENT_ID,
                    client_secret=_common.CLIENT_SECRET,
                    bulk_duration_seconds=0.2,
                    throttle="standard",
                )
            )
            for domain in SHOP_DOMAINS
        ]
        yield sims


def _seed(sims: list[ShopifySimulator], people: int) -> list[str]:
    from patronkit.adapters.shopify.simulator.actions import CustomerFields
    from patronkit.adapters.shopify.simulator.state import EmailConsent

    subscribed_at = datetime.now(UTC) - timedelta(days=30)
    emails = [f"bench.shopper.{i:03d}@example.com" for i in range(people)]
    for sim in sims:
        for i, email in enumerate(emails):
            sim.actions.create_customer(
                CustomerFields(email=email, first_name="Bench", last_name=f"Shopper {i}"),
                email_consent=EmailConsent("SUBSCRIBED", "CONFIRMED_OPT_IN", subscribed_at),
            )
    return emails


def _environ(data_dir: Path, db_url: str, key: str, port: int) -> dict[str, str]:
    return {
        **_common.settings_environ(data_dir, db_url, key),
        "PATRONKIT_SHOPIFY_SCOPES": SCOPES,
        "PATRONKIT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PATRONKIT_QUEUE_URL": f"sqlite:///{data_dir / 'queue.db'}",
        "PATRONKIT_TRUSTED_PROXIES": "1",
        "PATRONKIT_RECONCILE_MINUTES": "59",
    }


def _prepare(
    sims: list[ShopifySimulator], environ: dict[str, str], emails: list[str]
) -> list[Person]:
    """Merchant, both shops connected, both imported; a preference link per person."""
    from patronkit.bootstrap import build_runtime
    from patronkit.config import Settings
    from patronkit.core.domain.merchant import Merchant, ShopConnection
    from patronkit.sync.importer import sync_shop
    from patronkit.webapp import create_app
    from patronkit.webapp.storefront import links

    runtime = build_runtime(Settings.load(environ), immediate=True)
    try:
        merchant = Merchant(name="Bench Outdoor")
        shops = []
        for sim in sims:
            shop = ShopConnection(
                merchant_id=merchant.id,
                platform="shopify",
                domain=sim.shop_domain,
                api_url=sim.url,
            )
            token = sim.install_app(tuple(SCOPES.split(",")))
            shop.store_credentials(runtime.sealer, {"access_token": token})
            shops.append(shop)
        with runtime.unit_of_work() as uow:
            uow.merchants.add(merchant)
            for shop in shops:
                uow.tenant(merchant.id).shops.add(shop)
            uow.commit()
        for shop in shops:
            sync_shop(runtime.sync, merchant.id, shop.id, full=True, include_orders=False)
        app = create_app(runtime=runtime)
        people = []
        with runtime.unit_of_work(read_only=True) as uow, app.app_context():
            customers = uow.tenant(merchant.id).customers
            for email in emails:
                customer = customers.by_email(email)
                assert customer is not None, "import did not create the customer"
                remote = []
                for shop in shops:
                    link = customer.link_for(shop.id)
                    assert link is not None, "customer not linked in both shops"
                    remote.append(int(link.remote_id.rsplit("/", 1)[-1]))
                token = links.preference_token(merchant.id, customer.id, "en")
                people.append(Person(email, customer.id, tuple(remote), token))
        return people
    finally:
        runtime.close()


def _register_webhooks(sims: list[ShopifySimulator], environ: dict[str, str], app_url: str) -> None:
    from patronkit.bootstrap import build_runtime
    from patronkit.config import Settings
    from patronkit.core.storefront import ShopAccess

    runtime = build_runtime(Settings.load(environ), immediate=True)
    try:
        gateway = runtime.gateways["shopify"]
        with runtime.unit_of_work(read_only=True) as uow:
            shops = uow.merchants.active_shops()
            accesses = [
                ShopAccess(s.domain, s.api_url, s.credentials(runtime.sealer)) for s in shops
            ]
        for access in accesses:
            gateway.register_webhooks(access, f"{app_url}/webhooks/shopify")
    finally:
        runtime.close()


@contextmanager
def _serve(environ: dict[str, str], port: int, workers: int) -> Iterator[str]:
    """`patronkit serve` (web + worker) in a child process, until the block ends."""
    env = {**_common.env_without_pythonpath_noise(), **environ}
    command = [
        _common.python(),
        "-m",
        "patronkit",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                error = child.stderr.read().decode() if child.stderr else ""
                raise RuntimeError(f"patronkit serve did not start:\n{error[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _shows_unsubscribed(session: requests.Session, sim_url: str, remote_id: int) -> bool:
    data = session.get(f"{sim_url}/_simulator/customers/{remote_id}", timeout=5).json()
    return bool(data["email_marketing_consent"]["state"] == "UNSUBSCRIBED")


def _run_once(
    app: requests.Session,
    polls: list[requests.Session],
    app_url: str,
    sims: list[ShopifySimulator],
    person: Person,
    address: str,
    poll_s: float,
) -> tuple[float, float]:
    """(seconds until both shops show UNSUBSCRIBED, seconds the POST took)."""
    pending = set(range(len(sims)))
    started = time.perf_counter()
    answer = app.post(
        f"{app_url}/storefront/v1/preferences/{person.token}",
        json={"channels": {"email": {"consent": False}}},
        headers={"X-Forwarded-For": address},
        timeout=10,
    )
    answered = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"withdrawal answered {answer.status_code}: {answer.text[:200]}")
    while pending:
        for index in list(pending):
            url = sims[index].url
            if _shows_unsubscribed(polls[index], url, person.remote_ids[index]):
                pending.discard(index)
        if not pending:
            break
        if time.perf_counter() - started > POLL_TIMEOUT_S:
            raise RuntimeError(f"a store did not show UNSUBSCRIBED within {POLL_TIMEOUT_S}s")
        time.sleep(poll_s)
    return time.perf_counter() - started, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="withdrawals (default 100)")
    parser.add_argument("--poll-ms", type=float, default=10.0, help="poll interval (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="serve --workers (default 2)")
    args = parser.parse_args()

    print(f"$ {_common.command_line()}")
    print(
        f"embedded default: `patronkit serve --workers {args.workers}` (SQLite database and "
        "queue) in a child process; 2 simulated Shopify shops in this process"
    )
    with tempfile.TemporaryDirectory(prefix="patronkit-bench-withdrawal-") as folder:
        work = Path(folder)
        db_url = f"sqlite:///{work / 'patronkit.db'}"
        _common.migrate(db_url)
        environ = _environ(work / "data", db_url, FernetSealer.generate_key(), _free_port())
        port = int(environ["PATRONKIT_PUBLIC_URL"].rsplit(":", 1)[1])
        with _simulators() as sims:
            emails = _seed(sims, args.runs)
            setup = time.perf_counter()
            people = _prepare(sims, environ, emails)
            print(
                f"setup: {len(people)} customers in both shops, imported and linked in "
                f"{time.perf_counter() - setup:.1f} s"
            )
            with _serve(environ, port, args.workers) as app_url:
                _register_webhooks(sims, environ, app_url)
                durations, answers = [], []
                with requests.Session() as app, ExitStack() as polling:
                    polls = [polling.enter_context(requests.Session()) for _ in sims]
                    for number, person in enumerate(people):
                        address = f"198.51.{100 + number // 250}.{number % 250 + 1}"
                        total, answered = _run_once(
                            app, polls, app_url, sims, person, address, args.poll_ms / 1000
                        )
                        durations.append(total)
                        answers.append(answered)
                        for sim in sims:  # quiet before the next run (untimed)
                            sim.wait_for_webhooks(timeout=5)
                _report(durations, answers, args.poll_ms)


def _report(durations: list[float], answers: list[float], poll_ms: float) -> None:
    p50, p95, worst = (statistics.median(durations), _percentile(durations, 0.95), max(durations))
    rows = [
        [
            "withdrawal → both stores UNSUBSCRIBED",
            f"{p50 * 1000:.0f}",
            f"{p95 * 1000:.0f}",
            f"{worst * 1000:.0f}",
        ],
        [
            "  of which: the POST's answer",
            f"{statistics.median(answers) * 1000:.1f}",
            f"{_percentile(answers, 0.95) * 1000:.1f}",
            f"{max(answers) * 1000:.1f}",
        ],
    ]
    print()
    print(f"runs: {len(durations)}, polling every {poll_ms:g} ms (nearest-rank percentiles)")
    print(_common.table(["ms", "p50", "p95", "max"], rows))
    ok = p95 < P95_TARGET_S
    print()
    print(f"target p95 < {P95_TARGET_S * 1000:.0f} ms: {_common.verdict(ok)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
