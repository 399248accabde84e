"""Sorted indexes over a shop's records, so a page is found by bisecting, not by sorting.

Each index holds the pagination key `(value, id)` of every record in ascending order: the
same tuple the connection puts in its cursors, so `after`/`before` bisect straight to
their position. `ShopState` keeps the indexes in step on every write (insert, delete, a
change of an indexed field such as `updated_at`); they are plain data guarded by the
shop's lock like everything else in the state.

As a safety net against a write that went around `ShopState` (code assigning into
`state.customers` or `customer.updated_at` directly), `RecordIndexes.fresh` rebuilds when
the record count disagrees, and readers rebuild when a key they visit no longer matches
its record (see `resolvers`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Generic, TypeVar

from .pagination import SortValue

R = TypeVar("R")
IndexKey = tuple[int, int]
KeyFunction = Callable[[R], IndexKey]

# Keys added out of order wait in a tail; up to this many are inserted one by one when the
# index is next used, more (a seed of thousands) are merged by one sort.
_INSORT_LIMIT = 64
# Below every real id: `(value, _LOWEST_ID)` sorts before all keys with that value.
_LOWEST_ID = -1


def epoch_seconds(value: datetime | None) -> int:
    """Whole seconds since the epoch: the sort value of timestamps in cursors."""
    return int(value.timestamp()) if value else 0


class SortedIndex(Generic[R]):
    """The keys of all records of one kind in ascending order."""

    def __init__(self, key: KeyFunction[R]) -> None:
        self.key = key
        self._keys: list[IndexKey] = []
        self._tail: list[IndexKey] = []  # added out of order, not yet in `_keys`
        self.broken = False  # a removal did not find its key: rebuild before use

    def __len__(self) -> int:
        return len(self._keys) + len(self._tail)

    def rebuild(self, records: Iterable[R]) -> None:
        self._keys = sorted(self.key(record) for record in records)
        self._tail = []
        self.broken = False

    def add(self, key: IndexKey) -> None:
        # New records and fresh `updated_at` stamps usually sort last: append.
        if not self._tail and (not self._keys or key > self._keys[-1]):
            self._keys.append(key)
        else:
            self._tail.append(key)

    def remove(self, key: IndexKey) -> None:
        keys = self.keys()
        position = bisect_left(keys, key)
        if position < len(keys) and keys[position] == key:
            del keys[position]
        else:
            self.broken = True

    def keys(self) -> list[IndexKey]:
        """All keys, sorted. The list is the index itself: do not modify it."""
        if self._tail:
            if len(self._tail) <= _INSORT_LIMIT:
                for key in self._tail:
                    insort(self._keys, key)
            else:
                self._keys.extend(self._tail)
                self._keys.sort()
            self._tail = []
        return self._keys


class RecordIndexes(Generic[R]):
    """Named sorted indexes over one dict of records (id -> record)."""

    def __init__(self, keys: Mapping[str, KeyFunction[R]]) -> None:
        self._indexes = {name: SortedIndex(key) for name, key in keys.items()}
        self.rebuilds = 0  # times the safety net had to step in (see the module docstring)

    def add(self, record: R) -> None:
        for index in self._indexes.values():
            index.add(index.key(record))

    def remove(self, record: R) -> None:
        for index in self._indexes.values():
            index.remove(index.key(record))

    @contextmanager
    def changing(self, record: R) -> Iterator[None]:
        """Wrap a change of an indexed record; moves its keys that changed."""
        before = [index.key(record) for index in self._indexes.values()]
        try:
            yield
        finally:
            for index, old in zip(self._indexes.values(), before, strict=True):
                new = index.key(record)
                if new != old:
                    index.remove(old)
                    index.add(new)

    def rebuild(self, records: Iterable[R]) -> None:
        snapshot = list(records)
        self.rebuilds += 1
        for index in self._indexes.values():
            index.rebuild(snapshot)

    def fresh(self, name: str, records: Mapping[int, R]) -> SortedIndex[R] | None:
        """The index `name`, rebuilt first if it is visibly out of step with `records`."""
        index = self._indexes.get(name)
        if index is None:
            return None
        if index.broken or len(index) != len(records):
            self.rebuild(records.values())
        return index


class StaleIndex(Exception):
    """An index key no longer matches its record: a write went around `ShopState`."""


def window(
    index: SortedIndex[R],
    records: Mapping[int, R],
    matches: Callable[[R], bool],
    *,
    low: int | None = None,
    high: int | None = None,
    first: int | None = None,
    last: int | None = None,
    after: tuple[SortValue, int] | None = None,
    before: tuple[SortValue, int] | None = None,
    reverse: bool = False,
) -> list[R] | None:
    """Enough of the matching records, in connection order, for `pagination.connection`.

    What `connection` would cut from the full sorted and filtered list, found by bisecting
    instead: the records strictly between the cursors, limited to sort values in
    [low, high] (a superset of what the filter allows; `matches` decides), and of those
    only the first `first + 1` (or the last `last + 1`) so `connection` can still tell
    whether another page follows. None when a cursor cannot be compared with this index
    (a cursor of another sort); the caller then scans, as before, and fails the same way.
    Raises StaleIndex if a visited key disagrees with its record.
    """
    for cursor in (after, before):
        if cursor is not None and not isinstance(cursor[0], int):
            return None
    keys = index.keys()
    start = 0 if low is None else bisect_left(keys, (low, _LOWEST_ID))
    stop = len(keys) if high is None else bisect_left(keys, (high + 1, _LOWEST_ID))
    # Cursors in ascending terms: `after` means "greater" unless the order is reversed.
    lower, upper = (before, after) if reverse else (after, before)
    if lower is not None:
        start = max(start, bisect_right(keys, lower))
    if upper is not None:
        stop = min(stop, bisect_left(keys, upper))
    if start >= stop:
        return []
    # Positions in connection order; `first` counts from its start, `last` from its end.
    positions = range(stop - 1, start - 1, -1) if reverse else range(start, stop)
    if first is not None:
        wanted: int | None = first + 1
    elif last is not None:
        wanted = last + 1
        positions = positions[::-1]
    else:
        wanted = None
    found: list[R] = []
    key_of = index.key
    for position in positions:
        key = keys[position]
        record = records.get(key[1])
        if record is None or key_of(record) != key:
            raise StaleIndex(key)
        if matches(record):
            found.append(record)
            if wanted is not None and len(found) >= wanted:
                break
    if first is None and last is not None:
        found.reverse()
    return found
