"""Filters shared by the post-type collections (orders, coupons): WC_REST_CRUD_Controller.

after/before compare date_created, modified_after/modified_before date_modified, all
strictly (WP_Date_Query is not inclusive by default) and at one-second precision. The
column is site-local wall time unless dates_are_gmt=true selects the GMT one. The value
goes through WP_Date_Query: with a zone it is first converted to site-local wall time,
even when compared with the GMT column, so "…Z" plus dates_are_gmt=true is off by the
site's UTC offset, as on a real store. Use a zone without dates_are_gmt, or a zone-less
GMT time with dates_are_gmt=true.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .errors import invalid_param
from .formats import is_rfc3339, query_wall_time, wall_time
from .rest_common import bool_param

DateCheck = Callable[[datetime, datetime], bool]


def date_filter(values: dict[str, Any], zone: ZoneInfo) -> DateCheck:
    """A predicate over (date_created, date_modified) of a record."""
    use_gmt = bool_param(values, "dates_are_gmt")
    column_zone = None if use_gmt else zone
    bounds: dict[str, datetime] = {}
    for name in ("after", "before", "modified_after", "modified_before"):
        raw = values.get(name)
        if raw is None or raw == "":
            continue
        if not is_rfc3339(str(raw)):
            raise invalid_param(name, "Invalid date.", "rest_invalid_date")
        bounds[name] = query_wall_time(str(raw), zone)

    def check(created: datetime, modified: datetime) -> bool:
        created_wall = wall_time(created, column_zone)
        modified_wall = wall_time(modified, column_zone)
        return (
            ("after" not in bounds or created_wall > bounds["after"])
            and ("before" not in bounds or created_wall < bounds["before"])
            and ("modified_after" not in bounds or modified_wall > bounds["modified_after"])
            and ("modified_before" not in bounds or modified_wall < bounds["modified_before"])
        )

    return check


def sort_key(orderby: str) -> Callable[[Any], tuple[Any, ...]]:
    """Ordering with ID as the tiebreak, as prepare_objects_query() adds for dates."""
    if orderby == "modified":
        return lambda record: (record.date_modified, record.id)
    if orderby in ("id", "include", "slug"):
        return lambda record: (record.id,)
    return lambda record: (record.date_created, record.id)
