"""The consent insights read model in SQL (window functions: SQLite ≥ 3.25 and PostgreSQL).

Every query here is scoped to one merchant and leaves out customers merged into another.
The deciding event of each (customer, channel, purpose) is ranked exactly as
`ConsentEvent.precedence` orders events: occurred_at, then the state's and the level's
precedence (the very tables derive_current uses), then the id. Ids compare the same way in
both databases (SQLite keeps them as lower-case hex, PostgreSQL's uuid compares bytewise),
and the same way as `str(uuid)`, whose dashes sit at the same places in every id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

# The precedence tables themselves, so the SQL cannot drift from derive_current.
from patronkit.core.domain.consent import (
    _LEVEL_PRECEDENCE,
    _STATE_PRECEDENCE,
    DEFAULT_PURPOSE,
    Channel,
    ConsentState,
    OptInLevel,
    SourceKind,
)
from patronkit.core.insights import (
    OPT_IN_ANSWERS,
    ConsentInsights,
    CustomerRef,
    RatePoint,
    RateSeries,
    RecentEvent,
    StateCounts,
    WordingUsage,
)
from patronkit.core.store import tables as t
from patronkit.core.store.types import UTCDateTime

_MAX_PAGE = 500
_e = t.consent_events.c
_c = t.customers.c


def _live_events(merchant_id: UUID) -> sa.Select[Any]:
    """The merchant's events of customers that were not merged away (a select to extend).

    An anti-join on the few merged customers, not a join on every event's customer: on SQLite
    the join's look-up per event was a third of the dashboard's time."""
    merged = sa.select(_c.id).where(_c.merchant_id == merchant_id, _c.merged_into_id.is_not(None))
    return (
        sa.select()
        .select_from(t.consent_events)
        .where(_e.merchant_id == merchant_id, _e.customer_id.not_in(merged))
    )


def _state_rank() -> sa.Case[Any]:
    return sa.case(
        *[(_e.state == state.value, rank) for state, rank in _STATE_PRECEDENCE.items()],
        else_=-1,
    )


def _level_rank() -> sa.Case[Any]:
    return sa.case(
        *[(_e.opt_in_level == level.value, rank) for level, rank in _LEVEL_PRECEDENCE.items()],
        else_=-1,
    )


def deciding_events(merchant_id: UUID) -> sa.Subquery:
    """One row per (customer, channel, purpose): the event derive_current would pick."""
    rank = sa.func.row_number().over(
        partition_by=(_e.customer_id, _e.channel, _e.purpose),
        order_by=(_e.occurred_at.desc(), _state_rank().desc(), _level_rank().desc(), _e.id.desc()),
    )
    ranked = (
        _live_events(merchant_id)
        .add_columns(
            _e.id,
            _e.customer_id,
            _e.channel,
            _e.purpose,
            _e.state,
            _e.opt_in_level,
            _e.wording_id,
            _e.occurred_at,
            rank.label("rank"),
        )
        .subquery("ranked")
    )
    return sa.select(ranked).where(ranked.c.rank == 1).subquery("deciding")


def _edge(value: datetime) -> sa.BindParameter[datetime]:
    return sa.literal(value, UTCDateTime)


def _as_of_bucket(column: sa.ColumnElement[datetime], edges: Sequence[datetime]) -> sa.Case[Any]:
    """0 for what happened by edges[0] (the baseline), k for (edges[k-1], edges[k]]; NULL
    after the last edge."""
    return sa.case(*[(column <= _edge(edge), i) for i, edge in enumerate(edges)], else_=None)


def _period_bucket(column: sa.ColumnElement[datetime], edges: Sequence[datetime]) -> sa.Case[Any]:
    """k for (edges[k-1], edges[k]] with k ≥ 1; callers filter out what lies outside."""
    return sa.case(
        *[(column <= _edge(edge), i) for i, edge in enumerate(edges) if i > 0], else_=None
    )


def _refs(rows: Any) -> list[CustomerRef]:
    return [CustomerRef(r.id, r.email, r.first_name, r.last_name) for r in rows]


class SqlConsentInsights(ConsentInsights):
    def __init__(self, connection: sa.Connection, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.connection = connection

    def state_counts(self) -> list[StateCounts]:
        d = deciding_events(self.merchant_id)
        rows = self.connection.execute(
            sa.select(d.c.channel, d.c.purpose, d.c.state, sa.func.count().label("n")).group_by(
                d.c.channel, d.c.purpose, d.c.state
            )
        )
        found: dict[tuple[Channel, str], dict[str, int]] = defaultdict(dict)
        for row in rows:
            found[(Channel(row.channel), row.purpose)][ConsentState(row.state).value] = row.n
        return [
            StateCounts(channel, purpose, **counts)
            for (channel, purpose), counts in sorted(found.items())
        ]

    def channel_rates(
        self, edges: Sequence[datetime], purpose: str = DEFAULT_PURPOSE
    ) -> list[RateSeries]:
        """Each key's state changes only at an event that wins its second (the greatest
        precedence among events with its occurred_at); between two such events the earlier
        one decides. So each winner adds +1 subscribed when it subscribes, -1 when the winner
        before it had, and +1 known when it is the key's first: running sums of these deltas
        over the periods give the state counts as of every period end."""
        if len(edges) < 2:
            return []
        in_second = sa.func.row_number().over(
            partition_by=(_e.customer_id, _e.channel, _e.occurred_at),
            order_by=(_state_rank().desc(), _level_rank().desc(), _e.id.desc()),
        )
        ranked = (
            _live_events(self.merchant_id)
            .add_columns(
                _e.customer_id, _e.channel, _e.state, _e.occurred_at, in_second.label("rank")
            )
            .where(_e.purpose == purpose)
            .subquery("ranked")
        )
        previous = sa.func.lag(ranked.c.state).over(
            partition_by=(ranked.c.customer_id, ranked.c.channel), order_by=ranked.c.occurred_at
        )
        winners = (
            sa.select(
                ranked.c.channel,
                ranked.c.state,
                ranked.c.occurred_at,
                previous.label("previous"),
            )
            .where(ranked.c.rank == 1)
            .subquery("winners")
        )
        subscribed = ConsentState.SUBSCRIBED.value
        delta_subscribed = sa.case((winners.c.state == subscribed, 1), else_=0) - sa.case(
            (winners.c.previous == subscribed, 1), else_=0
        )
        delta_known = sa.case((winners.c.previous.is_(None), 1), else_=0)
        bucket = _as_of_bucket(winners.c.occurred_at, edges).label("bucket")
        deltas = sa.select(
            winners.c.channel,
            bucket,
            delta_subscribed.label("subscribed"),
            delta_known.label("known"),
        ).subquery("deltas")
        rows = self.connection.execute(
            sa.select(
                deltas.c.channel,
                deltas.c.bucket,
                sa.func.sum(deltas.c.subscribed).label("subscribed"),
                sa.func.sum(deltas.c.known).label("known"),
            )
            .where(deltas.c.bucket.is_not(None))
            .group_by(deltas.c.channel, deltas.c.bucket)
        )
        by_channel: dict[Channel, dict[int, tuple[int, int]]] = defaultdict(dict)
        for row in rows:
            by_channel[Channel(row.channel)][int(row.bucket)] = (
                int(row.subscribed),
                int(row.known),
            )
        series = []
        for channel, buckets in sorted(by_channel.items()):
            subscribed_total = known_total = 0
            points = []
            for k, edge in enumerate(edges):
                add_subscribed, add_known = buckets.get(k, (0, 0))
                subscribed_total += add_subscribed
                known_total += add_known
                if k > 0:
                    points.append(RatePoint(edge, subscribed_total, known_total))
            series.append(RateSeries(channel.value, tuple(points)))
        return series

    def touchpoint_rates(
        self, edges: Sequence[datetime], purpose: str = DEFAULT_PURPOSE, limit: int = 6
    ) -> list[RateSeries]:
        if len(edges) < 2:
            return []
        opted_in = sa.case((_e.state.in_([s.value for s in OPT_IN_ANSWERS]), 1), else_=0)
        answers = (
            _live_events(self.merchant_id)
            .add_columns(
                _e.touchpoint,
                _period_bucket(_e.occurred_at, edges).label("bucket"),
                opted_in.label("opted_in"),
            )
            .where(
                _e.purpose == purpose,
                _e.touchpoint.is_not(None),
                _e.occurred_at > _edge(edges[0]),
                _e.occurred_at <= _edge(edges[-1]),
            )
            .subquery("answers")
        )
        rows = self.connection.execute(
            sa.select(
                answers.c.touchpoint,
                answers.c.bucket,
                sa.func.sum(answers.c.opted_in).label("opted_in"),
                sa.func.count().label("answers"),
            ).group_by(answers.c.touchpoint, answers.c.bucket)
        )
        by_touchpoint: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
        for row in rows:
            by_touchpoint[row.touchpoint][int(row.bucket)] = (int(row.opted_in), int(row.answers))
        busiest = sorted(
            by_touchpoint, key=lambda tp: (-sum(n for _, n in by_touchpoint[tp].values()), tp)
        )[:limit]
        return [
            RateSeries(
                touchpoint,
                tuple(
                    RatePoint(edge, *by_touchpoint[touchpoint].get(k, (0, 0)))
                    for k, edge in enumerate(edges)
                    if k > 0
                ),
            )
            for touchpoint in sorted(busiest)
        ]

    def recent_events(self, limit: int = 20) -> list[RecentEvent]:
        shops = t.shop_connections.c
        query = (
            sa.select(
                _e.id,
                _e.customer_id,
                _c.email,
                _e.channel,
                _e.purpose,
                _e.state,
                _e.opt_in_level,
                _e.source_kind,
                shops.platform,
                shops.domain,
                _e.touchpoint,
                _e.actor,
                _e.occurred_at,
                _e.recorded_at,
            )
            .select_from(
                t.consent_events.join(t.customers, _c.id == _e.customer_id).outerjoin(
                    t.shop_connections, shops.id == _e.source_shop_id
                )
            )
            .where(_e.merchant_id == self.merchant_id, _c.merchant_id == self.merchant_id)
            .order_by(_e.recorded_at.desc(), _e.id.desc())
            .limit(min(limit, _MAX_PAGE))
        )
        return [
            RecentEvent(
                id=row.id,
                customer_id=row.customer_id,
                customer_email=row.email,
                channel=Channel(row.channel),
                purpose=row.purpose,
                state=ConsentState(row.state),
                opt_in_level=OptInLevel(row.opt_in_level),
                source=SourceKind(row.source_kind),
                shop_platform=row.platform,
                shop_domain=row.domain,
                touchpoint=row.touchpoint,
                actor=row.actor,
                occurred_at=row.occurred_at,
                recorded_at=row.recorded_at,
            )
            for row in self.connection.execute(query)
        ]

    def wording_usage(self) -> dict[UUID, WordingUsage]:
        d = deciding_events(self.merchant_id)
        now: dict[UUID, int] = dict(
            self.connection.execute(
                sa.select(d.c.wording_id, sa.func.count(sa.distinct(d.c.customer_id)))
                .where(d.c.state == ConsentState.SUBSCRIBED.value, d.c.wording_id.is_not(None))
                .group_by(d.c.wording_id)
            ).all()
        )
        ever: dict[UUID, int] = dict(
            self.connection.execute(
                _live_events(self.merchant_id)
                .add_columns(_e.wording_id, sa.func.count(sa.distinct(_e.customer_id)))
                .where(_e.state.in_([s.value for s in OPT_IN_ANSWERS]), _e.wording_id.is_not(None))
                .group_by(_e.wording_id)
            ).all()
        )
        return {
            wording_id: WordingUsage(int(now.get(wording_id, 0)), int(ever.get(wording_id, 0)))
            for wording_id in {*now, *ever}
        }

    def subscribed_without_wording(self, channel: Channel, purpose: str) -> int:
        d = deciding_events(self.merchant_id)
        query = (
            sa.select(sa.func.count())
            .select_from(d)
            .where(
                d.c.state == ConsentState.SUBSCRIBED.value,
                d.c.wording_id.is_(None),
                d.c.channel == Channel.parse(channel).value,
                d.c.purpose == purpose,
            )
        )
        return int(self.connection.execute(query).scalar_one())

    def subscribed_under(
        self, wording_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[CustomerRef]:
        d = deciding_events(self.merchant_id)
        # A customer subscribed under one wording on two purposes is listed once.
        query = (
            sa.select(_c.id, _c.email, _c.first_name, _c.last_name)
            .distinct()
            .select_from(d.join(t.customers, _c.id == d.c.customer_id))
            .where(d.c.wording_id == wording_id, d.c.state == ConsentState.SUBSCRIBED.value)
            .order_by(_c.email, _c.id)
            .limit(min(limit, _MAX_PAGE))
            .offset(offset)
        )
        return _refs(self.connection.execute(query))

    def subscribed_under_older(
        self, channel: Channel, purpose: str, locale: str, version: int
    ) -> list[UUID]:
        d = deciding_events(self.merchant_id)
        w = t.consent_wordings.c
        channel = Channel.parse(channel)
        query = (
            sa.select(d.c.customer_id)
            .select_from(d.join(t.consent_wordings, w.id == d.c.wording_id))
            .where(
                d.c.state == ConsentState.SUBSCRIBED.value,
                d.c.channel == channel.value,
                d.c.purpose == purpose,
                w.merchant_id == self.merchant_id,
                w.channel == channel.value,
                w.purpose == purpose,
                w.locale == locale,
                w.version < version,
            )
            .order_by(d.c.customer_id)
        )
        return list(self.connection.scalars(query))
