"""Import of N customers from the Shopify simulator, two ways, against baselines.

    python bench/import_customers.py [--quick] [--only bulk|pages] [--db-url URL | --postgres]

(a) bulk: `sync_shop(full=True)` (bulk operation → JSONL → apply in batches) into a fresh
    database. Measured: the apply loop, from the moment the first JSONL row is in hand to the
    last commit (the cursor update `sync_shop` ends with); the simulator's bulk job and our
    polling for it happen before the first row and are excluded. Baseline: the very rows the
    import wrote (customers, store links, consent events, read back as plain tuples), inserted
    into a second fresh database of the same schema with raw `executemany` upserts, one
    transaction per 500 customers (the importer's batch size). Target: rate >= 0.3 x baseline.
    Peak RSS of the importing process (a child process of this script): target < 250 MB.

(b) pages: `ShopifyGateway.customers_by_pages(shop, None)` (read and map every customer
    through paginated GraphQL queries). Floor: the least wall time the simulator's leaky
    bucket allows. With bucket size B and restore rate r (throttleStatus of the first
    response) and per-page requested/actual costs R_i/A_i (extensions.cost of each page),
    page i may start once B + r*t - sum_{j<i} A_j >= R_i, so
        floor = max_i max(0, (sum_{j<i} A_j + R_i - B) / r)
    (zero server and network time, bucket full at the start). Target: wall <= 1.15 x floor.
    The full run uses the simulator's standard throttle (2,000 points, 100/s). --quick scales
    the bucket with the customer count (200 points at 10,000 customers, still 100/s) so that
    the throttle binds in the same proportion as at full size; a 10k store on the standard
    bucket would fit in the first burst and have no floor at all.

Every measured part runs in its own child process (this same file with --child), so the
simulator (which lives in this parent process) never shares a GIL with what is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import pstats
import resource
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _common

FULL_CUSTOMERS = 100_000
QUICK_CUSTOMERS = 10_000
RATE_TARGET = 0.3
PAGES_TARGET = 1.15
RSS_TARGET_MB = 250.0
FULL_APPLY_LIMIT = 90.0
QUICK_APPLY_LIMIT = 8.0


# =========================================================================================
# children
# =========================================================================================


def _profile_report(profile: cProfile.Profile, limit: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def child_bulk(spec: dict[str, Any]) -> dict[str, Any]:
    """Run sync_shop(full=True) as `patronkit import` does, with timing marks."""
    from uuid import UUID

    import sqlalchemy as sa

    from patronkit.adapters.shopify.gateway import ShopifyAppConfig, ShopifyGateway
    from patronkit.bootstrap import build_runtime
    from patronkit.config import Settings
    from patronkit.core.store import tables
    from patronkit.sync.importer import sync_shop

    settings = Settings.load(
        _common.settings_environ(Path(spec["data_dir"]), spec["db_url"], spec["key"])
    )
    gateway = ShopifyGateway(
        ShopifyAppConfig(
            client_id=_common.CLIENT_ID,
            client_secret=_common.CLIENT_SECRET,
            scopes=("read_customers",),
        ),
        bulk_poll_interval=0.25,
    )
    runtime = build_runtime(settings, gateways={"shopify": gateway})

    marks: dict[str, float] = {"read": 0.0}
    limit = float(spec.get("apply_limit") or 0)
    original = gateway.customers_updated_since

    def instrumented(access: Any, since: Any) -> Iterator[Any]:
        records = original(access, since)
        marks["started"] = time.perf_counter()
        first = True
        while True:
            before = time.perf_counter()
            try:
                record = next(records)
            except StopIteration:
                break
            after = time.perf_counter()
            if first:
                marks["first_row"] = after  # bulk start + wait + first line are before this
                first = False
            else:
                marks["read"] += after - before  # download + JSON + mapping of one row
                if limit and after - marks["first_row"] > limit:
                    marks["stopped_early"] = 1.0  # sync_shop then ends as if the file ended
                    return
            yield record

    gateway.customers_updated_since = instrumented  # type: ignore[method-assign]
    batches: list[tuple[float, int]] = []

    def progress(count: int) -> None:
        batches.append((time.perf_counter(), count))

    def run() -> Any:
        return sync_shop(
            runtime.sync,
            UUID(spec["merchant_id"]),
            UUID(spec["shop_id"]),
            full=True,
            include_orders=False,
            progress=progress,
        )

    profile = cProfile.Profile() if spec.get("profile") else None
    if profile is not None:
        stats = profile.runcall(run)
        profile.dump_stats(spec["profile"])
    else:
        stats = run()
    ended = time.perf_counter()

    with runtime.engine.connect() as connection:
        counts = {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in (tables.customers, tables.store_links, tables.consent_events)
        }
    runtime.close()
    gateway.close()

    first_row = marks["first_row"]
    apply_seconds = ended - first_row
    # Rate over the first and the last tenth of the rows, to see whether it degrades.
    tenth = max(1, len(batches) // 10)
    rate_first = _batch_rate(batches[:tenth], first_row)
    rate_last = _batch_rate(
        batches[-tenth:], batches[-tenth - 1][0] if len(batches) > tenth else first_row
    )
    return {
        "customers": stats.customers,
        "pushes": stats.pushes,
        "dropped_fields": stats.dropped_fields,
        "rows": counts,
        "bulk_wait_seconds": first_row - marks["started"],
        "apply_seconds": apply_seconds,
        "read_seconds": marks["read"],
        "rate": stats.customers / apply_seconds,
        "rate_first_tenth": rate_first,
        "rate_last_tenth": rate_last,
        "stopped_early": bool(marks.get("stopped_early")),
        "peak_rss_mb": _common.peak_rss_mb_self(),
        "profile": _profile_report(profile) if profile is not None else None,
    }


def _batch_rate(batches: list[tuple[float, int]], start: float) -> float:
    if not batches:
        return 0.0
    seconds = batches[-1][0] - start
    return sum(count for _, count in batches) / seconds if seconds > 0 else 0.0


def child_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The same rows, raw `executemany` upserts, one transaction per 500 customers."""
    import sqlalchemy as sa

    from patronkit.core.store import tables
    from patronkit.core.store.database import make_engine
    from patronkit.sync.importer import BATCH

    source = make_engine(spec["source"])
    target = make_engine(spec["target"])
    copied = (tables.merchants, tables.shop_connections)
    loaded = (tables.customers, tables.store_links, tables.consent_events)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with source.connect() as connection:
        # The merchant and its shop (untimed), through SQLAlchemy's types (JSON columns).
        fixtures = {
            t.name: [dict(r) for r in connection.execute(t.select()).mappings()] for t in copied
        }
        # Raw driver values: exactly what the import stored, no SQLAlchemy type processing.
        for table in loaded:
            columns = ", ".join(c.name for c in table.columns)
            rows[table.name] = [
                tuple(row)
                for row in connection.exec_driver_sql(f"SELECT {columns} FROM {table.name}")
            ]
    source.dispose()

    marker = "?" if target.dialect.paramstyle == "qmark" else "%s"

    def insert(table: sa.Table, conflict: str) -> str:
        names = [c.name for c in table.columns]
        return (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join([marker] * len(names))}) {conflict}"
        )

    customer_cols = [c.name for c in tables.customers.columns]
    updated = ("phone", "first_name", "last_name", "updated_at")
    customers_sql = insert(
        tables.customers,
        "ON CONFLICT (merchant_id, email) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in updated if name in customer_cols),
    )
    links_sql = insert(
        tables.store_links,
        "ON CONFLICT (shop_id, remote_id) DO UPDATE SET "
        "remote_updated_at = excluded.remote_updated_at",
    )
    # The consent ledger is append-only: an existing fact is left as it is.
    events_sql = insert(
        tables.consent_events,
        "ON CONFLICT (customer_id, channel, purpose, state, opt_in_level, occurred_at) DO NOTHING",
    )

    # Group links and events with their customer, then cut into the importer's batches.
    link_customer = [c.name for c in tables.store_links.columns].index("customer_id")
    event_customer = [c.name for c in tables.consent_events.columns].index("customer_id")
    links_by: dict[Any, list[tuple[Any, ...]]] = {}
    for row in rows["store_links"]:
        links_by.setdefault(row[link_customer], []).append(row)
    events_by: dict[Any, list[tuple[Any, ...]]] = {}
    for row in rows["consent_events"]:
        events_by.setdefault(row[event_customer], []).append(row)
    customers = rows["customers"]
    batches = []
    for start in range(0, len(customers), BATCH):
        chunk = customers[start : start + BATCH]
        ids = [row[0] for row in chunk]
        batches.append(
            (
                chunk,
                [link for i in ids for link in links_by.get(i, ())],
                [event for i in ids for event in events_by.get(i, ())],
            )
        )

    with target.begin() as connection:
        for table in copied:
            connection.execute(table.insert(), fixtures[table.name])

    started = time.perf_counter()
    for chunk, links, events in batches:
        with target.begin() as connection:
            connection.exec_driver_sql(customers_sql, chunk)
            if links:
                connection.exec_driver_sql(links_sql, links)
            if events:
                connection.exec_driver_sql(events_sql, events)
    seconds = time.perf_counter() - started
    target.dispose()
    return {
        "customers": len(customers),
        "links": len(rows["store_links"]),
        "events": len(rows["consent_events"]),
        "seconds": seconds,
        "rate": len(customers) / seconds,
    }


def child_pages(spec: dict[str, Any]) -> dict[str, Any]:
    """customers_by_pages through the gateway; per-page costs and where the time went."""
    from patronkit.adapters.shopify import graphql_client
    from patronkit.adapters.shopify.gateway import ShopifyAppConfig, ShopifyGateway
    from patronkit.core.storefront import ShopAccess

    costs: list[Any] = []
    parse_cost = graphql_client._parse_cost

    def recording_parse_cost(extensions: object) -> Any:
        cost = parse_cost(extensions)
        costs.append(cost)
        return cost

    graphql_client._parse_cost = recording_parse_cost  # the client looks it up per response

    gateway = ShopifyGateway(
        ShopifyAppConfig(
            client_id=_common.CLIENT_ID,
            client_secret=_common.CLIENT_SECRET,
            scopes=("read_customers",),
        )
    )
    access = ShopAccess(spec["domain"], spec["api_url"], {"access_token": spec["token"]})
    client = gateway.client(access)
    timers = {"http": 0.0, "pacing": 0.0, "backoff": 0.0}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers[name] += time.perf_counter() - before

        return wrapper

    # Bench-only instrumentation of private attributes: where the wall time goes.
    client._session.post = timed("http", client._session.post)  # type: ignore[method-assign]
    limiter = client._limiter
    limiter._sleep = timed("pacing", limiter._sleep)
    client._sleep = timed("backoff", client._sleep)

    started = time.perf_counter()
    count = sum(1 for _ in gateway.customers_by_pages(access, None))
    wall = time.perf_counter() - started
    gateway.close()

    pages = [c for c in costs if c is not None and c.actual is not None]
    first = next(c.throttle for c in pages if c.throttle is not None)
    bucket, restore = first.maximum_available, first.restore_rate
    floor, spent = 0.0, 0
    for cost in pages:
        requested = cost.requested if cost.requested is not None else cost.actual
        floor = max(floor, (spent + requested - bucket) / restore)
        spent += cost.actual
    return {
        "customers": count,
        "pages": len(pages),
        "responses": len(costs),
        "requested_per_page": pages[0].requested,
        "actual_total": spent,
        "bucket": bucket,
        "restore_rate": restore,
        "first_available": first.currently_available,
        "floor_seconds": floor,
        "wall_seconds": wall,
        "http_seconds": timers["http"],
        "pacing_seconds": timers["pacing"],
        "backoff_seconds": timers["backoff"],
        "peak_rss_mb": _common.peak_rss_mb_self(),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "bulk": child_bulk,
    "baseline": child_baseline,
    "pages": child_pages,
}


def run_child(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    completed = subprocess.run(
        [_common.python(), __file__, "--child", kind, "--spec", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
        env=_common.env_without_pythonpath_noise(),
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{kind} child failed with exit code {completed.returncode}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# =========================================================================================
# parent
# =========================================================================================


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CUSTOMERS:,} customers")
    parser.add_argument("--customers", type=int, help="override the customer count")
    parser.add_argument("--only", choices=("all", "bulk", "pages"), default="all")
    parser.add_argument("--db-url", help="PostgreSQL server URL (fresh databases are created)")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL")
    parser.add_argument(
        "--apply-limit",
        type=float,
        help="stop the bulk apply loop after this many seconds and rate what was applied "
        f"(default {FULL_APPLY_LIMIT:.0f}, --quick {QUICK_APPLY_LIMIT:.0f}; 0 = no limit)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="cProfile the bulk child: pstats dump to FILE, top functions to FILE.txt",
    )
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(CHILDREN[args.child](json.loads(args.spec))))
        return

    count = args.customers or (QUICK_CUSTOMERS if args.quick else FULL_CUSTOMERS)
    server = (
        _common.temporary_postgres_server()
        if args.postgres
        else contextlib.nullcontext(args.db_url)
    )
    with _common.workdir("patronkit-bench-import-") as tmp, server as db_url:
        run(args, count, Path(tmp), db_url)


def run(args: argparse.Namespace, count: int, tmp: Path, db_url: str | None) -> None:
    from patronkit.adapters.shopify.simulator import ShopifySimulator

    backend = "postgresql" if db_url and not db_url.startswith("sqlite") else "sqlite"
    print(f"$ {_common.command_line()}")
    print(f"customers: {count:,}   database: {backend}   (loopback only)")

    started = time.perf_counter()
    sim = ShopifySimulator(
        customers=count,
        shop_domain=_common.SHOP_DOMAIN,
        client_id=_common.CLIENT_ID,
        client_secret=_common.CLIENT_SECRET,
        bulk_duration_seconds=0.0,
        throttle="standard",
    )
    sim.start()
    seed_seconds = time.perf_counter() - started
    print(
        f"simulator seeded {count:,} customers in {seed_seconds:.1f}s "
        f"(simulator process peak RSS {_common.peak_rss_mb_self():.0f} MB)"
    )
    token = sim.install_app()
    rows: list[list[object]] = []
    notes: list[str] = []
    try:
        if args.only in ("all", "bulk"):
            bulk_phase(args, tmp, db_url, sim, token, rows, notes)
        if args.only in ("all", "pages"):
            pages_phase(args, count, sim, token, rows, notes)
    finally:
        sim.stop()

    print()
    print(
        _common.table(("target", "measured", "baseline / floor", "ratio", "goal", "result"), rows)
    )
    for note in notes:
        print(note)


def bulk_phase(
    args: argparse.Namespace,
    tmp: Path,
    db_url: str | None,
    sim: Any,
    token: str,
    rows: list[list[object]],
    notes: list[str],
) -> None:
    if args.apply_limit is not None:
        apply_limit = args.apply_limit
    else:
        apply_limit = QUICK_APPLY_LIMIT if args.quick else FULL_APPLY_LIMIT
    print("\n(a) bulk import: sync_shop(full=True, include_orders=False) in a child process …")
    with _common.fresh_database(db_url, tmp, "import") as import_url:
        _common.migrate(import_url)
        shop = _common.create_shop(
            import_url, domain=sim.shop_domain, api_url=sim.url, access_token=token
        )
        bulk = run_child(
            "bulk",
            {
                "db_url": import_url,
                "data_dir": str(tmp / "data"),
                "key": shop.encryption_key,
                "merchant_id": str(shop.merchant_id),
                "shop_id": str(shop.shop_id),
                "profile": str(Path(args.profile).resolve()) if args.profile else None,
                "apply_limit": apply_limit,
            },
        )
        children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"    bulk job + polling (excluded): {bulk['bulk_wait_seconds']:.1f}s; "
            f"apply loop: {bulk['apply_seconds']:.1f}s for {bulk['customers']:,} customers "
            f"(of which {bulk['read_seconds']:.1f}s reading: JSONL download, json, mapping)"
        )
        if bulk["stopped_early"]:
            print(
                f"    PARTIAL: the apply loop was stopped after --apply-limit {apply_limit:.0f}s "
                f"at {bulk['customers']:,} of {sim.config.customers:,} customers; the rate, the "
                "baseline and the RSS cover those customers only (--apply-limit 0 runs all)"
            )
        print(
            f"    rows written: {bulk['rows']}; pushes queued: {bulk['pushes']}; "
            f"dropped fields: {bulk['dropped_fields']}"
        )
        print(
            f"    rate over the first tenth {bulk['rate_first_tenth']:,.0f}/s, "
            f"last tenth {bulk['rate_last_tenth']:,.0f}/s"
        )
        print("    baseline: same rows, raw executemany upserts into a fresh database …")
        with _common.fresh_database(db_url, tmp, "baseline") as baseline_url:
            _common.migrate(baseline_url)
            base = run_child("baseline", {"source": import_url, "target": baseline_url})
        print(
            f"    baseline wrote {base['customers']:,} customers, {base['links']:,} links, "
            f"{base['events']:,} consent events in {base['seconds']:.1f}s"
        )
    ratio = bulk["rate"] / base["rate"]
    rows.append(
        [
            "bulk apply rate" + (" (PARTIAL)" if bulk["stopped_early"] else ""),
            f"{bulk['rate']:,.0f} customers/s",
            f"{base['rate']:,.0f} customers/s",
            f"{ratio:.2f}",
            f">= {RATE_TARGET}",
            _common.verdict(ratio >= RATE_TARGET),
        ]
    )
    rss = max(bulk["peak_rss_mb"], children_rss)
    rows.append(
        [
            "import peak RSS" + (" (PARTIAL)" if bulk["stopped_early"] else ""),
            f"{rss:.0f} MB",
            "",
            "",
            f"< {RSS_TARGET_MB:.0f} MB",
            _common.verdict(rss < RSS_TARGET_MB),
        ]
    )
    if bulk.get("profile"):
        path = Path(args.profile + ".txt")
        path.write_text(bulk["profile"])
        notes.append(f"cProfile of the bulk child: {args.profile} (pstats), {path} (top 30)")


def pages_phase(
    args: argparse.Namespace,
    count: int,
    sim: Any,
    token: str,
    rows: list[list[object]],
    notes: list[str],
) -> None:
    if count >= FULL_CUSTOMERS:
        sim.set_throttle("standard")
        throttle = "standard preset"
    else:
        sim.set_throttle(maximum_available=2000.0 * count / FULL_CUSTOMERS, restore_rate=100.0)
        throttle = f"bucket scaled to {count:,} customers"
    sim.shop.stats.reset()
    status = sim.stats()["throttle"]
    print(
        f"\n(b) paginated reads: customers_by_pages(shop, None) in a child process; throttle "
        f"{status['maximumAvailable']:.0f} points, {status['restoreRate']:.0f}/s ({throttle}) …"
    )
    pages = run_child("pages", {"domain": sim.shop_domain, "api_url": sim.url, "token": token})
    api = sim.stats()["api"]
    wall, floor = pages["wall_seconds"], pages["floor_seconds"]
    other = wall - pages["http_seconds"] - pages["pacing_seconds"] - pages["backoff_seconds"]
    print(
        f"    {pages['customers']:,} customers in {pages['pages']} pages, "
        f"{pages['requested_per_page']} points requested per page, {pages['actual_total']:,} "
        f"spent; simulator throttled {api['limit_violations']} requests"
    )
    print(
        f"    floor = max_i (sum_{{j<i}} A_j + R_i - B) / r = {floor:.1f}s "
        f"(B = {pages['bucket']:.0f}, r = {pages['restore_rate']:.0f}/s)"
    )
    print(
        f"    wall {wall:.1f}s = HTTP round trips {pages['http_seconds']:.1f}s "
        f"({pages['http_seconds'] / max(pages['responses'], 1) * 1000:.0f} ms each, mostly the "
        f"simulator serving the page) + pacing sleeps {pages['pacing_seconds']:.1f}s + "
        f"retry backoff {pages['backoff_seconds']:.1f}s + client work {other:.1f}s"
    )
    ratio = wall / floor if floor > 0 else None
    rows.append(
        [
            "paged read wall time",
            f"{wall:.1f} s",
            f"{floor:.1f} s floor",
            f"{ratio:.2f}" if ratio is not None else "n/a",
            f"<= {PAGES_TARGET}",
            _common.verdict(ratio <= PAGES_TARGET if ratio is not None else None),
        ]
    )
    rows.append(
        [
            "paged read peak RSS",
            f"{pages['peak_rss_mb']:.0f} MB",
            "",
            "",
            f"< {RSS_TARGET_MB:.0f} MB",
            _common.verdict(pages["peak_rss_mb"] < RSS_TARGET_MB),
        ]
    )
    if pages["http_seconds"] > floor:
        notes.append(
            "note: the HTTP round trips alone exceed the floor: the simulator serves pages "
            "slower than its bucket refills, so no client could reach the floor here."
        )


if __name__ == "__main__":
    main()
