"""The WSGI server the web app runs under (waitress), set up the same way wherever it runs:
`patronkit serve`, the demo and the webhook benchmark."""

from __future__ import annotations

import gc
from typing import Any

THREADS = 8


def make_server(
    app: Any, *, host: str, port: int, ident: str = "patronkit", trust_forwarded: bool = False
) -> Any:
    """A waitress server for `app` on host:port, not yet running.

    Waitress drops X-Forwarded-* headers unless `trust_forwarded` (behind a trusted proxy the
    app reads them itself: see client_ip)."""
    from waitress.server import create_server

    # What is built by now (modules, the app, SQLAlchemy's metadata: ~100k objects) lives as
    # long as the process. Frozen, it is out of the collector's reach: each full collection
    # walked all of it and held every request for ~50 ms.
    gc.freeze()
    return create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        ident=ident,
        clear_untrusted_proxy_headers=not trust_forwarded,
    )
