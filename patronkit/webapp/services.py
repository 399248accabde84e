"""Access to the running system from a request: the Runtime built once per app."""

from __future__ import annotations

from flask import current_app

from patronkit.bootstrap import Runtime


def runtime() -> Runtime:
    found: Runtime = current_app.extensions["patronkit"]
    return found
