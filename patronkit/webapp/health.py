"""GET /health: is the app up, and can it reach its database."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from patronkit import __version__
from patronkit.core.store.database import READ_ONLY
from patronkit.webapp.services import runtime

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    try:
        with runtime().engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="degraded", database="unreachable", version=__version__), 503
    return jsonify(status="ok", database="ok", version=__version__)
