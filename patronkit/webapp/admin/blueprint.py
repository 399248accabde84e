"""The admin blueprint object, on its own so that every view module can register on it."""

from __future__ import annotations

from flask import Blueprint

# Templates live under templates/admin/ and static files under /admin/static/, so neither
# collides with another blueprint's.
bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
)
