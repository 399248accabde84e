"""serve (web app and worker together) and worker (job consumer only)."""

from __future__ import annotations

import threading

import click

from patronkit.cli.common import load_settings, migrated_runtime
from patronkit.sync.queue import make_consumer


@click.command()
@click.option("--host", default=None, help="Interface to bind (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from settings: 8000).")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Also run the job consumer in this process (the embedded default).")  # fmt: skip
@click.option("--workers", default=2, show_default=True, help="Job consumer threads.")
def serve(host: str | None, port: int | None, worker: bool, workers: int) -> None:
    """Run the web app, and the worker beside it (migrations are applied first)."""
    from patronkit.webapp import create_app
    from patronkit.webapp.serving import make_server

    settings = load_settings()
    runtime = migrated_runtime(settings)
    server = make_server(
        create_app(runtime=runtime),
        host=host or settings.host,
        port=port or settings.port,
        # Behind PATRONKIT_TRUSTED_PROXIES the app reads X-Forwarded-For itself.
        trust_forwarded=settings.trusted_proxies > 0,
    )
    click.echo(f"patronkit listening on http://{host or settings.host}:{port or settings.port}")
    if not worker:
        server.run()
        return
    # The consumer wants the main thread (it handles SIGINT/SIGTERM); the web server does not.
    web = threading.Thread(target=server.run, name="web", daemon=True)
    web.start()
    try:
        make_consumer(runtime.huey, workers=workers).run()
    finally:
        server.close()


@click.command()
@click.option("--workers", default=4, show_default=True, help="Consumer threads.")
def worker(workers: int) -> None:
    """Run only the job consumer (scale out by running several)."""
    runtime = migrated_runtime(load_settings())
    click.echo(f"patronkit worker consuming {runtime.settings.queue_url.split('://')[0]} queue")
    make_consumer(runtime.huey, workers=workers).run()
