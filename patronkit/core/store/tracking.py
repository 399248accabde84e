"""The identity map of one unit of work, and the flush that writes what changed.

Every object loaded or added is held once per id, with the row it had in the database (its
snapshot). Flushing compares each object's row with its snapshot: new objects are inserted
(one executemany per table), changed ones updated, removed ones deleted — in foreign-key order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.domain.customer import Customer
from patronkit.core.store import mappers as m
from patronkit.core.store.bulk import bulk_insert

T = TypeVar("T")

# Parents before children: inserts run in this order, deletes in the reverse.
FLUSH_ORDER: tuple[m.Mapper[Any], ...] = (
    m.MERCHANTS, m.SHOPS, m.WORDINGS, m.CUSTOMERS, m.LINKS, m.CONSENT_EVENTS, m.ORDERS,
    m.REFERRAL_CODES, m.DUPLICATE_FLAGS, m.MERGES, m.PRIVACY_REQUESTS, m.MERCHANT_SETTINGS,
)  # fmt: skip


class IdentityMap:
    def __init__(self) -> None:
        self._objects: dict[m.Mapper[Any], dict[UUID, Any]] = defaultdict(dict)
        self._snapshots: dict[m.Mapper[Any], dict[UUID, m.Row]] = defaultdict(dict)
        self._deleted: dict[m.Mapper[Any], dict[UUID, Any]] = defaultdict(dict)

    # -- registering -----------------------------------------------------------------------

    def add(self, mapper: m.Mapper[T], obj: T) -> T:
        """Track a new object (inserted at flush). Adding a tracked object again is harmless."""
        self._objects[mapper].setdefault(mapper.key(obj), obj)
        return obj

    def loaded(self, mapper: m.Mapper[T], row: Mapping[Any, Any]) -> T:
        """The tracked object for a fetched row: the one already held, or a restored one."""
        key = row["id"]
        held = self._objects[mapper].get(key)
        if held is not None:
            found: T = held
            return found
        obj = mapper.from_row(row)
        self._objects[mapper][key] = obj
        self._snapshots[mapper][key] = dict(row)
        return obj

    def remove(self, mapper: m.Mapper[T], obj: T) -> None:
        key = mapper.key(obj)
        self._objects[mapper].pop(key, None)
        if key in self._snapshots[mapper]:
            self._deleted[mapper][key] = obj

    def get(self, mapper: m.Mapper[T], key: UUID) -> T | None:
        found: T | None = self._objects[mapper].get(key)
        return found

    def all(self, mapper: m.Mapper[T]) -> Iterator[T]:
        yield from list(self._objects[mapper].values())

    def snapshot_links(self, customer: Customer) -> None:
        """Record the loaded links and events of a customer as its children's snapshots."""
        for link in customer.links:
            key = m.LINKS.key(link)
            self._objects[m.LINKS][key] = (link, customer)
            self._snapshots[m.LINKS][key] = m.LINKS.to_row_of(link, customer.id)
        for event in customer.consent_events:
            key = m.CONSENT_EVENTS.key(event)
            self._objects[m.CONSENT_EVENTS][key] = event
            self._snapshots[m.CONSENT_EVENTS][key] = m.CONSENT_EVENTS.to_row(event)

    # -- flushing --------------------------------------------------------------------------

    def flush(self, connection: sa.Connection) -> None:
        self._collect_children()
        rows = {mapper: self._changes(mapper) for mapper in FLUSH_ORDER}
        for mapper in reversed(FLUSH_ORDER):
            deleted = self._deleted.pop(mapper, {})
            if deleted:
                connection.execute(
                    mapper.table.delete().where(mapper.table.c.id.in_(list(deleted)))
                )
                for key in deleted:
                    self._snapshots[mapper].pop(key, None)
        for mapper in FLUSH_ORDER:
            inserts, updates = rows[mapper]
            if inserts:
                bulk_insert(connection, mapper.table, inserts)
            for key, changed in updates:
                table = mapper.table
                connection.execute(table.update().where(table.c.id == key).values(**changed))
            for row in inserts:
                self._snapshots[mapper][row["id"]] = row
            for key, changed in updates:
                self._snapshots[mapper][key] = {**self._snapshots[mapper][key], **changed}

    def _collect_children(self) -> None:
        """Links and events live inside customers: find added, moved and removed ones."""
        links: dict[UUID, tuple[Any, Customer]] = {}
        events: dict[UUID, Any] = {}
        for customer in self._objects[m.CUSTOMERS].values():
            for link in customer.links:
                links[link.id] = (link, customer)
            for event in customer.consent_events:
                events[event.id] = event
        for key in set(self._snapshots[m.LINKS]) - set(links):
            self._deleted[m.LINKS][key] = None
        self._objects[m.LINKS] = links
        # Events are never deleted; one held by no loaded customer simply stays as it was.
        self._objects[m.CONSENT_EVENTS].update(events)

    def _changes(self, mapper: m.Mapper[Any]) -> tuple[list[m.Row], list[tuple[UUID, m.Row]]]:
        inserts: list[m.Row] = []
        updates: list[tuple[UUID, m.Row]] = []
        snapshots = self._snapshots[mapper]
        for key, obj in self._objects[mapper].items():
            row = _row_of(mapper, obj)
            before = snapshots.get(key)
            if before is None:
                inserts.append(row)
            else:
                changed = {name: value for name, value in row.items() if before.get(name) != value}
                if changed:
                    updates.append((key, changed))
        return inserts, updates


def _row_of(mapper: m.Mapper[Any], obj: Any) -> m.Row:
    if mapper is m.LINKS:
        link, customer = obj
        return m.LINKS.to_row_of(link, customer.id)
    return mapper.to_row(obj)


def load_customers(
    connection: sa.Connection, identity: IdentityMap, rows: Iterable[Mapping[Any, Any]]
) -> list[Customer]:
    """Customers for fetched customer rows, with links and events (two queries for all)."""
    customers: list[Customer] = []
    fresh: dict[UUID, Customer] = {}
    for row in rows:
        held = identity.get(m.CUSTOMERS, row["id"])
        if held is not None:
            customers.append(held)
            continue
        customer = identity.loaded(m.CUSTOMERS, row)
        fresh[customer.id] = customer
        customers.append(customer)
    if fresh:
        ids = list(fresh)
        link_rows = connection.execute(
            sa.select(m.LINKS.table).where(m.LINKS.table.c.customer_id.in_(ids))
        ).mappings()
        for row in link_rows:
            fresh[row["customer_id"]].links.append(m.LINKS.from_row(row))
        event_table = m.CONSENT_EVENTS.table
        event_rows = connection.execute(
            sa.select(event_table)
            .where(event_table.c.customer_id.in_(ids))
            .order_by(event_table.c.occurred_at, event_table.c.id)
        ).mappings()
        for row in event_rows:
            fresh[row["customer_id"]].consent_events.append(m.CONSENT_EVENTS.from_row(row))
        for customer in fresh.values():
            customer.links.sort(key=lambda link: str(link.shop_id))
            identity.snapshot_links(customer)
    return customers
