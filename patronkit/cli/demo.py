"""demo: the whole product wired together on a simulated Shopify shop, on the embedded default.

One process runs a simulated shop, our web app (waitress) and Huey workers over an SQLite
database and queue in one data folder. The walk-through installs the app through the real
OAuth flow over HTTP, imports every customer, and shows consent travelling both ways with
measured times. Only the simulator's fake sample data is printed, never a token or secret.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

import click

if TYPE_CHECKING:
    from patronkit.adapters.shopify.simulator import ShopifySimulator
    from patronkit.bootstrap import Runtime
    from patronkit.core.domain.customer import Customer

PLATFORM = "shopify"
LOOPBACK = "127.0.0.1"
# What the demo's preference page "showed" the shopper; evidence points at its hash.
WORDING = "Yes, email me news and offers. I can unsubscribe at any time."
DEMO_IP = "203.0.113.7"  # TEST-NET-3 (RFC 5737): documentation only, nobody's address
WAIT_SECONDS = 30.0


# -- the running system ----------------------------------------------------------------------


@dataclass
class Demo:
    sim: ShopifySimulator
    runtime: Runtime
    app_url: str
    data_dir: Path
    merchant_id: UUID | None = None
    shop_id: UUID | None = None

    @property
    def ids(self) -> tuple[UUID, UUID]:
        assert self.merchant_id is not None and self.shop_id is not None, "shop not installed"
        return self.merchant_id, self.shop_id

    def count(self, table_name: str, **where: object) -> int:
        import sqlalchemy as sa

        from patronkit.sync.tables import inbox, outbox

        table = {"inbox": inbox, "outbox": outbox}[table_name]
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.runtime.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the shop has sent every webhook and we have applied and pushed all."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            idle = (
                self.sim.wait_for_webhooks(timeout=0.05)
                and self.count("inbox", status="pending") == 0
                and self.count("outbox", status="pending") == 0
            )
            if idle:
                quiet_since = quiet_since or time.monotonic()
                # Quiet for a moment: an echo may still be in flight between the two sides.
                if time.monotonic() - quiet_since > 0.5:
                    return
            else:
                quiet_since = None
            time.sleep(0.05)
        raise click.ClickException(f"sync did not settle within {timeout:.0f} s")

    def customer(self, remote_id: int) -> Customer:
        merchant_id, shop_id = self.ids
        with self.runtime.unit_of_work(read_only=True) as uow:
            customer = uow.tenant(merchant_id).customers.by_link(shop_id, str(remote_id))
        if customer is None:
            raise click.ClickException(f"shop customer {remote_id} is not in core")
        return customer

    def shop_email_consent(self, remote_id: int) -> tuple[str, str | None]:
        with self.sim.state.lock:
            consent = self.sim.state.customers[remote_id].email_consent
            return consent.marketing_state, consent.opt_in_level


def _step(tag: str, text: str) -> None:
    click.echo(f"[{tag}] {text}")


def _wait(predicate: Callable[[], bool], what: str, started: float) -> float:
    """Seconds from `started` (a perf_counter reading) until `predicate` holds (polled every
    10 ms)."""
    while not predicate():
        if time.perf_counter() - started > WAIT_SECONDS:
            raise click.ClickException(f"timed out after {WAIT_SECONDS:.0f} s waiting: {what}")
        time.sleep(0.01)
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


# -- the command -----------------------------------------------------------------------------


@click.command()
@click.option("--customers", default=3000, show_default=True, type=click.IntRange(min=2),
              help="Customers in the simulated shop.")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the web app on 127.0.0.1 (0 picks a free one).")  # fmt: skip
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the SQLite database, queue and key file (default: a new "
              "temporary folder, kept afterwards so you can look around).")  # fmt: skip
@click.option("--keep-running/--exit", default=False, show_default=True,
              help="After the walk-through, keep everything up until Ctrl-C.")  # fmt: skip
def demo(customers: int, port: int, data_dir: Path | None, keep_running: bool) -> None:
    """Everything wired together on a simulated Shopify shop, on the embedded default.

    Installs the app through the real OAuth flow, imports every customer, then shows a
    consent change travelling shop → core and core → shop, with measured times.
    """
    logging.basicConfig(
        level=os.environ.get("PATRONKIT_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    folder = (data_dir or Path(tempfile.mkdtemp(prefix="patronkit-demo-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    started = time.perf_counter()
    with _running(folder, port, customers) as run:
        _install(run)
        _import(run, customers)
        shop_to_core = _shop_to_core(run)
        core_to_shop = _core_to_shop(run, exclude=shop_to_core)
        _reports(run, shop_to_core, core_to_shop)
        _summary(run, email=run.customer(shop_to_core).email or "EMAIL")
        if keep_running:
            _step("ready", "running; press Ctrl-C to stop")
            _wait_for_stop()
        _step("stop", "stopping workers, web server and simulator ...")
        stopping = time.perf_counter()
    _step(
        "done",
        f"stopped cleanly in {time.perf_counter() - stopping:.1f} s; "
        f"{time.perf_counter() - started:.1f} s in all",
    )


def _wait_for_stop() -> None:
    """Until Ctrl-C (SIGINT) or SIGTERM; either way the caller then shuts down cleanly."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(0.5):
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _running(folder: Path, port: int, customers: int) -> Iterator[Demo]:
    from patronkit.adapters.shopify.simulator import running_simulator
    from patronkit.cli.common import migrated_runtime
    from patronkit.config import ConfigError, Settings
    from patronkit.sync.queue import BackgroundWorkers
    from patronkit.webapp import create_app
    from patronkit.webapp.serving import make_server

    app_url = f"http://{LOOPBACK}:{port}"
    with contextlib.ExitStack() as stack:
        t0 = time.perf_counter()
        sim = stack.enter_context(
            running_simulator(
                customers=customers,
                orders=customers // 10,  # a few, for the order summaries
                seed=7,
                bulk_duration_seconds=0.2,
                # Shopify sends the privacy topics to the URLs in the app's configuration.
                compliance_webhook_url=f"{app_url}/webhooks/{PLATFORM}",
            )
        )
        _step(
            "start",
            f"simulated Shopify shop {sim.shop_domain} with {customers} customers, "
            f"{customers // 10} orders "
            f"at {sim.url} ({time.perf_counter() - t0:.1f} s)",
        )
        try:
            settings = Settings.load(
                {
                    "PATRONKIT_DATA_DIR": str(folder),
                    "PATRONKIT_PUBLIC_URL": app_url,
                    "PATRONKIT_HOST": LOOPBACK,
                    "PATRONKIT_PORT": str(port),
                    "PATRONKIT_SHOPIFY_CLIENT_ID": sim.client_id,
                    "PATRONKIT_SHOPIFY_CLIENT_SECRET": sim.client_secret,
                    "PATRONKIT_SHOPIFY_SCOPES": ",".join(sim.config.app_scopes),
                    "PATRONKIT_SHOPIFY_API_BASE_OVERRIDE": f"{sim.shop_domain}={sim.url}",
                }
            )
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        runtime = migrated_runtime(settings)
        stack.callback(_close_runtime, runtime)
        try:
            server = make_server(create_app(runtime=runtime), host=LOOPBACK, port=port)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {LOOPBACK}:{port} ({exc.strerror}); try --port 0"
            ) from None
        web = threading.Thread(target=server.run, name="web", daemon=True)
        web.start()
        stack.callback(web.join, 5)
        stack.callback(server.close)
        workers = BackgroundWorkers(runtime.huey, workers=4)
        workers.start()
        stack.callback(workers.stop)
        _step(
            "start",
            f"patronkit at {app_url} with 4 queue workers; SQLite database and queue in {folder}",
        )
        yield Demo(sim, runtime, app_url, folder)


def _close_runtime(runtime: Runtime) -> None:
    for gateway in runtime.gateways.values():
        close: Callable[[], Any] | None = getattr(gateway, "close", None)
        if close is not None:
            close()
    runtime.close()


# -- 1. install ------------------------------------------------------------------------------


def _install(run: Demo) -> None:
    """The merchant clicks "install" in the shop: the real OAuth code grant, over HTTP."""
    import requests

    from patronkit.webapp.install import STATE_COOKIE

    t0 = time.perf_counter()
    browser = requests.Session()  # keeps the signed state cookie, like the merchant's browser
    begin = browser.get(
        f"{run.app_url}/install/{PLATFORM}",
        params={"shop": run.sim.shop_domain},
        allow_redirects=False,
        timeout=10,
    )
    authorize = _redirect(begin, run.sim.url, "/admin/oauth/authorize")
    if STATE_COOKIE not in browser.cookies:
        raise click.ClickException("install: the app set no state cookie")
    _step(
        "install",
        f"GET /install/{PLATFORM}?shop={run.sim.shop_domain} -> 302 to the shop's "
        f"{urlsplit(authorize).path} (state cookie set)",
    )
    approved = browser.get(authorize, allow_redirects=False, timeout=10)
    callback = _redirect(approved, run.app_url, f"/install/{PLATFORM}/callback")
    _step("install", f"the merchant approves: shop -> 302 to our {urlsplit(callback).path}")
    finished = browser.get(callback, allow_redirects=False, timeout=30)
    admin = _redirect(finished, run.app_url, "/admin")
    with run.runtime.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain(PLATFORM, run.sim.shop_domain)
    if shop is None or not shop.active:
        raise click.ClickException("install: the callback did not connect the shop")
    run.merchant_id, run.shop_id = shop.merchant_id, shop.id
    with run.sim.state.lock:
        topics = len(run.sim.state.webhook_subscriptions)
    webhooks = "pending (reconcile covers)" if "webhooks=pending" in admin else "registered"
    _step(
        "install",
        f"callback with the state cookie -> token exchanged, shop connected, {topics} webhook "
        f"topics {webhooks} -> 302 to /admin ({time.perf_counter() - t0:.2f} s)",
    )


def _redirect(response: Any, base: str, path: str) -> str:
    location = str(response.headers.get("Location", ""))
    if response.status_code != 302 or not location.startswith(base + path):
        # The body is our own JSON error (no secrets); the location may carry a code: omit it.
        raise click.ClickException(
            f"install: expected a redirect to {path}, got HTTP {response.status_code} "
            f"{response.text[:200]!r}"
        )
    return location


# -- 2. import -------------------------------------------------------------------------------


def _import(run: Demo, customers: int) -> None:
    from tqdm import tqdm

    from patronkit.sync.importer import sync_shop

    merchant_id, shop_id = run.ids
    t0 = time.perf_counter()
    with tqdm(desc="import", total=customers, unit=" customers", disable=None) as bar:
        stats = sync_shop(run.runtime.sync, merchant_id, shop_id, full=True, progress=bar.update)
    elapsed = time.perf_counter() - t0
    run.settle()
    _step(
        "import",
        f"{stats.customers} customers and {stats.orders} orders imported in {elapsed:.1f} s; "
        f"{stats.pushes} pushes queued, {stats.dropped_fields} unusable fields dropped",
    )


# -- 3. consent both ways --------------------------------------------------------------------


def _pick(run: Demo, wanted: Callable[[str, str | None], bool], exclude: int | None) -> int:
    with run.sim.state.lock:
        for customer in sorted(run.sim.state.customers.values(), key=lambda c: c.id):
            consent = customer.email_consent
            usable = customer.email and customer.id != exclude
            if usable and wanted(consent.marketing_state, consent.opt_in_level):
                return customer.id
    raise click.ClickException("no suitable customer in the simulated shop")


def _shop_to_core(run: Demo) -> int:
    """The merchant unsubscribes someone in the Shopify admin; core learns it by webhook."""
    from patronkit.core.domain.consent import Channel, ConsentState

    remote = _pick(run, lambda state, _level: state == "SUBSCRIBED", exclude=None)
    email = run.customer(remote).email

    def core_unsubscribed() -> bool:
        status = run.customer(remote).consent(Channel.EMAIL)
        return status is not None and status.state is ConsentState.UNSUBSCRIBED

    t0 = time.perf_counter()
    run.sim.actions.set_email_consent(remote, "UNSUBSCRIBED")
    _step("shop -> core", f"merchant unsubscribes {email} from email in the Shopify admin")
    took = _wait(core_unsubscribed, "core to show the unsubscribe", t0)
    _step(
        "shop -> core",
        f"core shows email UNSUBSCRIBED after {took:.2f} s (webhook -> inbox -> worker)",
    )
    run.settle()
    return remote


def _core_to_shop(run: Demo, exclude: int) -> int:
    """The shopper subscribes on our preference page (confirmed opt-in); the shop follows."""
    from patronkit.core.domain.consent import (
        Channel,
        ConsentEvent,
        ConsentSource,
        ConsentState,
        Evidence,
        OptInLevel,
        SourceKind,
        sha256_hex,
    )

    merchant_id, _ = run.ids
    remote = _pick(
        run,
        lambda state, level: (state, level) != ("SUBSCRIBED", "CONFIRMED_OPT_IN"),
        exclude=exclude,
    )
    customer = run.customer(remote)
    ledger_before = len(customer.consent_events)
    inbox_before = run.count("inbox")
    outbox_before = run.count("outbox")
    event = ConsentEvent(
        merchant_id=merchant_id,
        customer_id=customer.id,
        channel=Channel.EMAIL,
        state=ConsentState.SUBSCRIBED,
        opt_in_level=OptInLevel.CONFIRMED,
        source=ConsentSource(SourceKind.WIDGET),
        occurred_at=datetime.now(UTC),
        evidence=Evidence(
            wording_version=1,
            wording_sha256=sha256_hex(WORDING),
            touchpoint="preference_link",
            ip=DEMO_IP,
            user_agent="patronkit-demo",
            actor="shopper",
        ),
    )
    t0 = time.perf_counter()
    changed = run.runtime.sync.change_consent(event)
    _step(
        "core -> shop",
        f"{customer.email} confirms an email subscription on the preference page "
        f"(widget, confirmed opt-in){'' if changed else ' - core already held it'}",
    )
    took = _wait(
        lambda: run.shop_email_consent(remote) == ("SUBSCRIBED", "CONFIRMED_OPT_IN"),
        "the shop to show the subscription",
        t0,
    )
    _step(
        "core -> shop",
        f"the shop shows SUBSCRIBED / CONFIRMED_OPT_IN after {took:.2f} s (outbox -> worker -> "
        "Admin API)",
    )
    run.settle()
    echoes = run.count("inbox") - inbox_before
    pushes = run.count("outbox") - outbox_before
    ledger_after = len(run.customer(remote).consent_events)
    expected = ledger_before + (1 if changed else 0)
    if ledger_after != expected or pushes != (1 if changed else 0):
        raise click.ClickException(
            f"echo changed something: ledger {ledger_before} -> {ledger_after} events, "
            f"{pushes} pushes"
        )
    _step(
        "echo",
        f"the shop echoed {echoes} webhooks back, all applied: the customer's ledger grew by "
        f"{ledger_after - ledger_before} (the widget's event), the outbox by {pushes} (our own "
        "push), nothing more: echo changed nothing",
    )
    return remote


def _reports(run: Demo, *remotes: int) -> None:
    from patronkit.core.reports import customer_report

    merchant_id, _ = run.ids
    with run.runtime.unit_of_work(read_only=True) as uow:
        shops = uow.tenant(merchant_id).shops.list()
    for remote in remotes:
        report = customer_report(run.customer(remote), shops)
        _step("customer", str(report["email"]))
        for channel, status in report["consent"].items():
            decided = status["decided_by"]
            where = decided["store"] or decided["evidence"].get("touchpoint") or ""
            click.echo(
                f"    {channel:<6} {status['state']:<15} {status['opt_in_level']:<10} "
                f"since {status['since']}  via {decided['source']} {where}".rstrip()
            )
        for store in report["stores"]:
            click.echo(f"    in {store['platform']}:{store['domain']} as {store['remote_id']}")


# -- 4. where to look ------------------------------------------------------------------------


def _summary(run: Demo, email: str) -> None:
    _step("ready", f"app health:  {run.app_url}/health")
    _step("ready", f"simulator:   {run.sim.url}  (merchant actions under /_simulator/)")
    _step(
        "ready",
        f"look a customer up:  PATRONKIT_DATA_DIR={run.data_dir} patronkit customers show "
        f"{email} --shop {run.sim.shop_domain}",
    )
