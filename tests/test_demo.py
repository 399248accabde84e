"""`patronkit demo`, run as a user would: a real process, its own data folder, real HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

PATRONKIT = [sys.executable, "-m", "patronkit"]
SECONDS = r"(\d+\.\d+) s"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_demo_walks_through_install_import_and_consent_both_ways(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRONKIT_")}
    data = tmp_path / "demo"
    port = _free_port()
    command = ["demo", "--customers", "300", "--exit", "--port", str(port), "--data-dir", str(data)]
    result = subprocess.run(
        [*PATRONKIT, *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr

    # The real install flow, step by step, ending with a connected shop and its webhooks.
    assert "[install] GET /install/shopify?shop=sim-shop.myshopify.com -> 302" in out
    assert "302 to our /install/shopify/callback" in out
    assert re.search(r"shop connected, \d+ webhook topics registered", out)
    # Every customer imported.
    assert re.search(r"\[import\] 300 customers and \d+ orders imported in " + SECONDS, out)
    # Consent both ways, each with its measured time.
    assert re.search(r"\[shop -> core\] core shows email UNSUBSCRIBED after " + SECONDS, out)
    assert re.search(
        r"\[core -> shop\] the shop shows SUBSCRIBED / CONFIRMED_OPT_IN after " + SECONDS, out
    )
    assert "echo changed nothing" in out
    # Both customers' summaries, then where to look, then a clean stop.
    assert out.count("[customer] ") == 2
    assert "via widget preference_link" in out
    assert f"http://127.0.0.1:{port}/health" in out
    assert f"PATRONKIT_DATA_DIR={data.resolve()} patronkit customers show " in out
    assert "[done] stopped cleanly" in out
    assert (data / "patronkit.db").exists()
    # No secret reaches the output: not the app's client secret, nor the key file's key.
    assert "sim-client-secret" not in out + result.stderr
    key = (data / "encryption.keys").read_text().split()[0]
    assert key not in out + result.stderr
