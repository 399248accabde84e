"""GET /admin: opt-in rates over time, state counts per channel, the latest consent events."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import utcnow
from patronkit.core.insights import Span
from patronkit.webapp.admin.blueprint import bp
from patronkit.webapp.admin.charts import rate_chart
from patronkit.webapp.admin.scope import reading

RECENT_EVENTS = 20


@bp.get("")
def dashboard() -> ResponseReturnValue:
    try:
        span = Span.parse(request.args.get("span"))
    except InvalidValue:
        span = Span.DAYS
    edges = span.edges(utcnow())
    with reading() as scope:
        counts = scope.insights.state_counts()
        by_channel = scope.insights.channel_rates(edges)
        by_touchpoint = scope.insights.touchpoint_rates(edges)
        recent = scope.insights.recent_events(RECENT_EVENTS)
    period = "day" if span is Span.DAYS else "week"
    return render_template(
        "admin/dashboard.html",
        span=span,
        spans=list(Span),
        counts=counts,
        channel_chart=rate_chart(
            by_channel,
            "Opt-in rate per channel",
            f"At the end of each {period}: the share of customers with a consent state on the "
            "channel who were subscribed then (marketing purpose).",
        ),
        touchpoint_chart=rate_chart(
            by_touchpoint,
            "Opt-in rate per touchpoint",
            f"Of the answers given at each touchpoint during each {period}: the share that "
            "asked to subscribe (subscribed, or pending confirmation).",
        ),
        recent=recent,
    )
