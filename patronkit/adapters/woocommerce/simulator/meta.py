"""Meta data updates with WC_Data::update_meta_data() semantics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import RestError
from .state import MetaEntry


def apply_meta_input(
    meta: list[MetaEntry], items: Any, next_id: Callable[[], int]
) -> tuple[list[MetaEntry], bool]:
    """Apply REST `meta_data` input; returns the new list and whether anything changed.

    Without an id, the first entry with the key gets the value and later duplicates are
    removed; with an id, that entry is changed (or a new one added if the id is unknown).
    A null value deletes, as saving a null meta value does.
    """
    if not isinstance(items, list):
        raise RestError("rest_invalid_param", "Invalid parameter(s): meta_data", 400)
    result = [MetaEntry(m.id, m.key, m.value) for m in meta]
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise RestError("rest_invalid_param", "Invalid parameter(s): meta_data", 400)
        key, value, meta_id = item["key"], item.get("value"), item.get("id")
        target: MetaEntry | None = None
        if meta_id:
            target = next((m for m in result if m.id == int(meta_id)), None)
        else:
            matches = [m for m in result if m.key == key]
            if matches:
                target = matches[0]
                result = [m for m in result if m.key != key or m is target]
        if target is None:
            result.append(MetaEntry(next_id(), key, value))
        else:
            target.key, target.value = key, value
    result = [m for m in result if m.value is not None]
    changed = [(m.id, m.key, m.value) for m in result] != [(m.id, m.key, m.value) for m in meta]
    return result, changed


def set_meta(meta: list[MetaEntry], key: str, value: Any, next_id: Callable[[], int]) -> bool:
    """update_user_meta()/update_post_meta(): one row per key; False if the value is equal."""
    existing = [m for m in meta if m.key == key]
    if existing and existing[0].value == value and len(existing) == 1:
        return False
    if existing:
        existing[0].value = value
        for extra in existing[1:]:
            meta.remove(extra)
    else:
        meta.append(MetaEntry(next_id(), key, value))
    return True
