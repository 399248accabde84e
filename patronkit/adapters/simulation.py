"""What every platform simulator shares: its Flask app on a threaded werkzeug server on
loopback, started in the background for tests and the demo or in the foreground for
`patronkit simulate <platform>`. The platform parts (routes, state, behaviour) stay in each
platform's own simulator package."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
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


# -- injected faults -------------------------------------------------------------------------

# Longer than a loopback round trip plus a busy client's reaction, far shorter than any
# Retry-After: an immediate retry that ignores the header is still caught on its next try.
RACE_ALLOWANCE_SECONDS = 0.05


@dataclass
class Fault:
    status: int
    retry_after: float = 2.0


class FaultInjector:
    """Answers the next N API requests with a chosen failure instead of the real answer."""

    def __init__(self, statuses: tuple[int, ...]) -> None:
        self.statuses = statuses
        self._lock = threading.Lock()
        self._planned: deque[Fault] = deque()
        self._blocked_from = 0.0
        self._blocked_until = 0.0

    def plan(self, status: int, count: int = 1, retry_after: float = 2.0) -> None:
        if status not in self.statuses:
            raise ValueError(f"fault status must be one of {self.statuses}")
        with self._lock:
            self._planned.extend(Fault(status, retry_after) for _ in range(count))

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
            self._blocked_from = self._blocked_until = 0.0

    def take(self) -> tuple[Fault | None, bool]:
        """The fault to serve (if any), and whether the request ignored a Retry-After."""
        with self._lock:
            now = time.monotonic()
            ignored = self._blocked_from <= now < self._blocked_until
            fault = self._planned.popleft() if self._planned else None
            if fault is not None and fault.status == 429:
                self._blocked_from = now + RACE_ALLOWANCE_SECONDS
                self._blocked_until = now + fault.retry_after
            return fault, ignored

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._planned)
