"""`patronkit worker` whose real platform gateway stalls once, mid-job, on cue.

The killed-worker scenario runs this as a subprocess (`python -m tests.conformance.stalling
worker`) against a simulator. The gateway is the platform's own, built from the usual
settings; it only stalls, after leaving a marker file (see tests/sync/workerfakes.py):

- applying a webhook about customer CONFORMANCE_STALL_APPLY (inside the apply transaction,
  so the kill leaves that delivery unapplied), or
- right after the store accepted a push to customer CONFORMANCE_STALL_PUSH (so the store has
  it, but the outbox row is not yet marked sent).

The test waits for the marker and kills the worker: the kill lands mid-job by construction,
not by timing. Settings for this module are plain environment variables, not PATRONKIT_*
ones: they configure the test's stall, not the product.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from patronkit.core.storefront import (
    ConsentPush,
    InboundChange,
    PushOutcome,
    ShopAccess,
    StorefrontGateway,
)
from tests.sync.workerfakes import stall_once

PLATFORM = "CONFORMANCE_PLATFORM"  # whose gateway stalls
REAL_BUILDER = "CONFORMANCE_REAL_BUILDER"  # its registry entry before this module replaced it
STALL_DIR = "CONFORMANCE_STALL_DIR"
STALL_APPLY = "CONFORMANCE_STALL_APPLY"
STALL_PUSH = "CONFORMANCE_STALL_PUSH"


def stalling(
    gateway: StorefrontGateway, directory: Path, apply_remote_id: str, push_remote_id: str
) -> StorefrontGateway:
    """The same gateway, with parse_webhook and push_consent stalling once on cue."""
    parse, send = gateway.parse_webhook, gateway.push_consent

    def parse_webhook(topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
        changes = parse(topic, payload)
        about = {change.customer.remote_id for change in changes if change.customer}
        if apply_remote_id and apply_remote_id in about:
            stall_once(directory, f"apply-{apply_remote_id}")
        return changes

    def push_consent(shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        outcome = send(shop, push)
        if push_remote_id and push.customer_remote_id == push_remote_id:
            stall_once(directory, f"push-{push_remote_id}")
        return outcome

    gateway.parse_webhook = parse_webhook  # type: ignore[method-assign]
    gateway.push_consent = push_consent  # type: ignore[method-assign]
    return gateway


def build(options: Mapping[str, str]) -> StorefrontGateway:
    """The registry's builder signature: the real platform's gateway, made to stall."""
    module, _, function = os.environ[REAL_BUILDER].partition(":")
    real: Callable[[Mapping[str, str]], StorefrontGateway] = getattr(
        importlib.import_module(module), function
    )
    return stalling(
        real(options),
        Path(os.environ[STALL_DIR]),
        os.environ.get(STALL_APPLY, ""),
        os.environ.get(STALL_PUSH, ""),
    )


def main() -> None:
    from patronkit.adapters import registry
    from patronkit.cli import main as cli

    platform = os.environ[PLATFORM]
    # Kept in the environment, not in this module: the registry imports this module again
    # under its own name, apart from the copy running as __main__.
    os.environ[REAL_BUILDER] = registry.PLATFORMS[platform]
    cast(dict[str, str], registry.PLATFORMS)[platform] = "tests.conformance.stalling:build"
    cli()


if __name__ == "__main__":
    main()
