"""What every platform simulator shares: its Flask app on a threaded werkzeug server on
loopback, started in the background for tests and the demo or in the foreground for
`patronkit simulate <platform>`. The platform parts (routes, state, behaviour) stay in each
platform's own simulator package."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines carry OAuth codes and signatures, keys, tokens in query
    strings and email addresses."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class LoopbackServer:
    """Serves `app` on host:port (a free port unless given). Subclasses release their own
    resources in `_close` and may finish setting up in `_bound` once the port is known."""

    thread_name = "simulator"

    def __init__(self, app: Flask, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> BaseWSGIServer:
        """Open the listening socket (so `url` is known) without serving yet."""
        if self._server is None:
            self._server = make_server(
                self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler
            )
            self._port = self._server.server_port
            self._bound()
        return self._server

    def start(self) -> Self:
        server = self.bind()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown for tests
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Blocking variant for the command line."""
        server = self.bind()
        try:
            server.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def _bound(self) -> None:
        """Called once the socket is open."""

    def _close(self) -> None:
        """Release what the simulator holds (delivery threads, state)."""
