"""Customers: search, one customer's consent and its evidence, and a change made on the
customer's behalf.

    GET  /admin/customers?q=&page=            search by email or name
    GET  /admin/customers/<id>                consent per channel, full history, store links
    POST /admin/customers/<id>/consent        record a consent the customer asked for

A change goes through SyncEngine.change_consent, like the widget's, so every store the
person is linked in is pushed the new consent.
"""

from __future__ import annotations

from uuid import UUID

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue

from patronkit.core.domain.consent import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import DomainError, NotFound
from patronkit.core.domain.reconsent import ReconsentCampaign
from patronkit.core.domain.values import utcnow
from patronkit.core.reports import customer_report
from patronkit.webapp.admin.blueprint import bp
from patronkit.webapp.admin.guard import admin_url, current
from patronkit.webapp.admin.scope import Scope, reading
from patronkit.webapp.client_ip import client_ip
from patronkit.webapp.services import runtime

PAGE_SIZE = 25
MAX_QUERY = 200
# What an admin may record for a customer: a subscription they asked for, or a withdrawal.
# (Pending and never-asked are states of the widget's and the stores' flows.)
ADMIN_STATES = (ConsentState.SUBSCRIBED, ConsentState.UNSUBSCRIBED)
ADMIN_TOUCHPOINT = "admin"


def page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


@bp.get("/customers")
def customers() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    page = page_number()
    with reading() as scope:
        found = scope.tenant.customers.search(
            query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
    rows = [
        (
            customer,
            {
                key.channel.value: status.state.value
                for key, status in sorted(customer.consents().items(), key=lambda kv: kv[0].channel)
                if key.purpose == DEFAULT_PURPOSE
            },
        )
        for customer in found[:PAGE_SIZE]
    ]
    return render_template(
        "admin/customers.html",
        query=query,
        page=page,
        rows=rows,
        has_next=len(found) > PAGE_SIZE,
    )


@bp.get("/customers/<uuid:customer_id>")
def customer(customer_id: UUID) -> ResponseReturnValue:
    return _customer_page(customer_id)


@bp.post("/customers/<uuid:customer_id>/consent")
def change_consent(customer_id: UUID) -> ResponseReturnValue:
    admin = current()
    with reading() as scope:
        found = _find(scope, customer_id)
    if found.merged_into_id is not None:
        return _customer_page(
            customer_id, error="this customer was merged into another", status=409
        )
    try:
        state = ConsentState.parse(request.form.get("state", ""))
        if state not in ADMIN_STATES:
            raise DomainError("choose subscribed or unsubscribed")
        event = ConsentEvent(
            merchant_id=admin.merchant_id,
            customer_id=found.id,
            channel=Channel.parse(request.form.get("channel", "")),
            purpose=request.form.get("purpose", "").strip() or DEFAULT_PURPOSE,
            state=state,
            opt_in_level=OptInLevel.SINGLE,
            source=ConsentSource(SourceKind.ADMIN),
            occurred_at=utcnow(),
            evidence=Evidence(
                touchpoint=ADMIN_TOUCHPOINT,
                ip=client_ip(request, runtime().settings.trusted_proxies),
                user_agent=request.user_agent.string or None,
                actor=admin.actor,
            ),
        )
    except DomainError as exc:
        return _customer_page(customer_id, error=str(exc), status=400)
    try:
        changed = runtime().sync.change_consent(event)
    except NotFound:
        abort(404)
    notice = "consent-saved" if changed else "consent-unchanged"
    return redirect(admin_url("admin.customer", customer_id=customer_id, notice=notice), 303)


def _find(scope: Scope, customer_id: UUID) -> Customer:
    found = scope.tenant.customers.find(customer_id)
    if found is None:
        abort(404)
    return found


def _customer_page(
    customer_id: UUID, *, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    gateways = runtime().gateways
    with reading() as scope:
        found = _find(scope, customer_id)
        shops = scope.tenant.shops.list()
        report = customer_report(found, shops)
        waiting = _waiting(scope, found, scope.campaigns.for_customer(found.id))
    for store in report["stores"]:
        gateway = gateways.get(store["platform"] or "")
        store["admin_url"] = (
            gateway.customer_admin_url(store["domain"], store["remote_id"]) if gateway else None
        )
    page = render_template(
        "admin/customer.html",
        customer=found,
        report=report,
        waiting=waiting,
        channels=list(Channel),
        admin_states=ADMIN_STATES,
        error=error,
    )
    return page, status


def _waiting(
    scope: Scope, customer: Customer, campaigns: list[ReconsentCampaign]
) -> dict[str, ReconsentCampaign]:
    """Per consent key ("email", or "email:purpose"), the campaign still waiting for this
    customer's answer, decided by the same rule as the campaign lists (still_needed)."""
    events = {event.id: event for event in customer.consent_events}
    waiting: dict[str, ReconsentCampaign] = {}
    for campaign in campaigns:
        status = customer.consent(campaign.channel, campaign.purpose)
        wording_id = events[status.decided_by].evidence.wording_id if status else None
        wording = scope.tenant.wordings.find(wording_id) if wording_id else None
        if campaign.still_needed(status, wording):
            key = campaign.channel.value
            if campaign.purpose != DEFAULT_PURPOSE:
                key = f"{key}:{campaign.purpose}"
            waiting[key] = campaign
    return waiting
