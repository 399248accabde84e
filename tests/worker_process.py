"""A real `patronkit worker` in a subprocess, for tests that kill one with SIGKILL.

The test holds each process's handle and stops only its own. `module` names what runs as
`python -m <module> worker`: ``patronkit`` itself, or a test module that first adjusts the
adapter registry (a fake platform, a gateway that stalls on cue) and then runs the CLI.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from patronkit.core.domain.values import utcnow
from patronkit.sync.engine import INBOX_GRACE, SyncEngine

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    def __init__(
        self, env: Mapping[str, str], log: Path, *, module: str = "patronkit", workers: int = 2
    ) -> None:
        self.log = log
        self.killed = False
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, "worker", "--workers", str(workers)],
                cwd=ROOT,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def check_running(self) -> None:
        """Fail at once, with its log, if the worker exited by itself (say, it cannot start)."""
        if not self.killed and self.process.poll() is not None:
            raise AssertionError(
                f"{self.log.name} exited with {self.process.returncode}:\n"
                + self.log.read_text()[-3000:]
            )

    def kill(self) -> None:
        self.killed = True
        self.process.kill()  # SIGKILL: no handler, no cleanup, no graceful anything
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sweep_past_grace(sync: SyncEngine) -> tuple[int, int]:
    """The periodic sweep, run now as if the grace period had passed: hands out again what a
    killed worker took with it. (stale deliveries, due pushes)"""
    sync.clock = lambda: utcnow() + INBOX_GRACE + timedelta(seconds=1)
    try:
        return sync.sweep()
    finally:
        sync.clock = utcnow
