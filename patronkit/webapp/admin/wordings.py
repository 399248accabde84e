"""Consent wording: versions per channel, purpose and locale; who consented under which; and
asking customers to consent again after a material change.

    GET  /admin/wordings                       every version, grouped, with usage counts
    POST /admin/wordings                       a new version (material or not)
    GET  /admin/wordings/<id>                  one version: text, customers subscribed under it
    POST /admin/wordings/<id>/reconsent        record a re-consent campaign for it
    GET  /admin/reconsent/<id>                 a campaign: the customers still to answer

Sending the request to those customers is the mail module's job; this records who is asked
and shows who has not answered yet.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from patronkit.core.domain.consent import DEFAULT_PURPOSE, Channel
from patronkit.core.domain.errors import DomainError, InvalidValue, NotFound
from patronkit.core.domain.settings import normalize_locale
from patronkit.core.domain.values import utcnow
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.reconsent import ask_for_reconsent
from patronkit.webapp.admin.blueprint import bp
from patronkit.webapp.admin.customers import PAGE_SIZE, page_number
from patronkit.webapp.admin.guard import admin_url, current
from patronkit.webapp.admin.scope import reading, writing
from patronkit.webapp.storefront.services import storefront

Group = tuple[Channel, str, str]  # channel, purpose, locale


@bp.get("/wordings")
def wordings() -> ResponseReturnValue:
    return _list_page()


@bp.post("/wordings")
def create_wording() -> ResponseReturnValue:
    form = request.form
    try:
        channel = Channel.parse(form.get("channel", ""))
        purpose = form.get("purpose", "").strip() or DEFAULT_PURPOSE
        locale = normalize_locale(form.get("locale", "").strip())
        text = form.get("text", "").replace("\r\n", "\n").strip()
        material = form.get("material") == "on"
        with writing() as scope:
            latest = scope.tenant.wordings.latest(channel, purpose, locale)
            if latest is not None and latest.text == text:
                raise InvalidValue(f"this is the text of version {latest.version} already")
            wording = (
                latest.next_version(text, material=material)
                if latest is not None
                else ConsentWording(
                    merchant_id=current().merchant_id,
                    channel=channel,
                    purpose=purpose,
                    locale=locale,
                    version=1,
                    text=text,
                    material=material,
                )
            )
            scope.tenant.wordings.add(wording)
            scope.uow.commit()
    except DomainError as exc:
        return _list_page(error=str(exc), status=400)
    except IntegrityError:
        return _list_page(
            error="another version was saved at the same moment: try again", status=409
        )
    return redirect(
        admin_url("admin.wording", wording_id=wording.id, notice="wording-created"), 303
    )


@bp.get("/wordings/<uuid:wording_id>")
def wording(wording_id: UUID) -> ResponseReturnValue:
    return _wording_page(wording_id)


@bp.post("/wordings/<uuid:wording_id>/reconsent")
def ask_reconsent(wording_id: UUID) -> ResponseReturnValue:
    try:
        with writing() as scope:
            campaign = ask_for_reconsent(
                scope.tenant.wordings,
                scope.insights,
                scope.campaigns,
                wording_id,
                requested_by=current().actor,
                now=utcnow(),
            )
            scope.uow.commit()
            asked = scope.campaigns.outstanding(campaign, limit=campaign.target_count)
    except NotFound:
        abort(404)
    except DomainError as exc:
        return _wording_page(wording_id, error=str(exc), status=409)
    # Each asked customer gets their preference link, where the new wording can be accepted.
    storefront().notifier.send_reconsent_requests(
        campaign.merchant_id, [ref.id for ref in asked], campaign.locale
    )
    return redirect(
        admin_url("admin.campaign", campaign_id=campaign.id, notice="reconsent-recorded"), 303
    )


@bp.get("/reconsent/<uuid:campaign_id>")
def campaign(campaign_id: UUID) -> ResponseReturnValue:
    page = page_number()
    with reading() as scope:
        found = scope.campaigns.find(campaign_id)
        if found is None:
            abort(404)
        wording = scope.tenant.wordings.find(found.wording_id)
        waiting = scope.campaigns.outstanding(found, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        waiting_count = scope.campaigns.outstanding_count(found)
    return render_template(
        "admin/campaign.html",
        campaign=found,
        wording=wording,
        waiting=waiting[:PAGE_SIZE],
        waiting_count=waiting_count,
        page=page,
        has_next=len(waiting) > PAGE_SIZE,
    )


def _list_page(*, error: str | None = None, status: int = 200) -> tuple[str, int]:
    prefill = _prefill()
    with reading() as scope:
        versions = scope.tenant.wordings.list()
        usage = scope.insights.wording_usage()
        groups: dict[Group, list[ConsentWording]] = defaultdict(list)
        for version in versions:
            groups[(version.channel, version.purpose, version.locale)].append(version)
        unknown = {
            (channel, purpose): scope.insights.subscribed_without_wording(channel, purpose)
            for channel, purpose in sorted({(c, p) for c, p, _ in groups})
        }
        if prefill["channel"]:
            latest = scope.tenant.wordings.latest(
                Channel(prefill["channel"]), prefill["purpose"], prefill["locale"]
            )
            prefill["text"] = latest.text if latest else ""
    if error:  # keep what the merchant typed
        prefill.update({k: request.form.get(k, "") for k in ("channel", "purpose", "locale")})
        prefill["text"] = request.form.get("text", "")
        prefill["material"] = request.form.get("material") == "on"
    page = render_template(
        "admin/wordings.html",
        groups={key: sorted(v, key=lambda w: -w.version) for key, v in sorted(groups.items())},
        usage=usage,
        unknown=unknown,
        channels=list(Channel),
        prefill=prefill,
        error=error,
    )
    return page, status


def _prefill() -> dict[str, Any]:
    """The create form filled for "new version of this group" links (?channel=&purpose=&locale=)."""
    args = request.args
    try:
        channel = Channel.parse(args["channel"]).value if args.get("channel") else ""
        locale = normalize_locale(args["locale"]) if args.get("locale") else "en"
    except DomainError:
        channel, locale = "", "en"
    return {
        "channel": channel,
        "purpose": args.get("purpose", DEFAULT_PURPOSE)[:64],
        "locale": locale,
        "text": "",
        "material": False,
    }


def _wording_page(
    wording_id: UUID, *, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    page = page_number()
    with reading() as scope:
        found = scope.tenant.wordings.find(wording_id)
        if found is None:
            abort(404)
        latest = scope.tenant.wordings.latest(found.channel, found.purpose, found.locale)
        usage = scope.insights.wording_usage().get(found.id)
        subscribed = scope.insights.subscribed_under(
            found.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE
        )
        asked = scope.campaigns.targeted(found.id)
        older = [
            c
            for c in scope.insights.subscribed_under_older(
                found.channel, found.purpose, found.locale, found.version
            )
            if c not in asked
        ]
        campaigns = [
            (c, scope.campaigns.outstanding_count(c)) for c in scope.campaigns.for_wording(found.id)
        ]
        unknown = scope.insights.subscribed_without_wording(found.channel, found.purpose)
    rendered = render_template(
        "admin/wording.html",
        wording=found,
        is_latest=latest is not None and latest.id == found.id,
        latest=latest,
        usage=usage,
        subscribed=subscribed[:PAGE_SIZE],
        page=page,
        has_next=len(subscribed) > PAGE_SIZE,
        older_count=len(older),
        campaigns=campaigns,
        unknown=unknown,
        error=error,
    )
    return rendered, status
