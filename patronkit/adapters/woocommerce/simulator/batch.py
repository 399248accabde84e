"""POST <resource>/batch: create, update and delete in one request, at most 100 items.

Each item succeeds or fails on its own; a failed item becomes {"id": N, "error": {...}}.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from .errors import RestError
from .faults import RequestStats

BATCH_LIMIT = 100  # woocommerce_rest_batch_items_limit


def check_batch_limit(values: dict[str, Any], stats: RequestStats | None = None) -> None:
    total = sum(
        len(values[name])
        for name in ("create", "update", "delete")
        if isinstance(values.get(name), list)
    )
    if total > BATCH_LIMIT:
        if stats is not None:
            stats.count("violation:batch_too_large")
        raise RestError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )


def _one(action: Callable[[], dict[str, Any]], item_id: int) -> dict[str, Any]:
    try:
        return action()
    except RestError as error:
        return {
            "id": item_id,
            "error": {
                "code": error.code,
                "message": error.message,
                "data": {"status": error.status},
            },
        }


def run_batch(
    values: dict[str, Any],
    *,
    create: Callable[[dict[str, Any]], dict[str, Any]],
    update: Callable[[int, dict[str, Any]], dict[str, Any]],
    delete: Callable[[int], dict[str, Any]],
    invalid_id: Callable[[], RestError],
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if isinstance(values.get("create"), list):
        result["create"] = [
            _one(partial(create, dict(item) if isinstance(item, dict) else {}), 0)
            for item in values["create"]
        ]
    if isinstance(values.get("update"), list):
        updates = []
        for item in values["update"]:
            fields = dict(item) if isinstance(item, dict) else {}
            item_id = int(fields.get("id") or 0)

            def run(item_id: int = item_id, fields: dict[str, Any] = fields) -> dict[str, Any]:
                if not item_id:
                    raise invalid_id()
                return update(item_id, fields)

            updates.append(_one(run, item_id))
        result["update"] = updates
    if isinstance(values.get("delete"), list):
        deletes = []
        for raw in values["delete"]:
            item_id = int(raw.get("id", 0) if isinstance(raw, dict) else raw or 0)
            deletes.append(_one(partial(delete, item_id), item_id))
        result["delete"] = deletes
    return result
