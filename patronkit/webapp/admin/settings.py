"""Settings: double opt-in per channel, the widget's texts per locale, storefront origins.

    GET  /admin/settings?locale=               the three forms (texts for one locale)
    POST /admin/settings/double-opt-in         one checkbox per channel
    POST /admin/settings/texts                 one locale's texts; an empty field falls back
    POST /admin/settings/origins               one origin per line

The model and its rules are core's MerchantSettings; this only turns forms into its calls.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.errors import DomainError
from patronkit.core.domain.settings import (
    DEFAULT_TEXTS,
    FALLBACK_LOCALE,
    MerchantSettings,
    normalize_locale,
)
from patronkit.webapp.admin.blueprint import bp
from patronkit.webapp.admin.guard import admin_url
from patronkit.webapp.admin.scope import reading, writing

MAX_ORIGIN_LINES = 100


@bp.get("/settings")
def settings() -> ResponseReturnValue:
    return _page(_locale(request.args.get("locale")))


@bp.post("/settings/double-opt-in")
def save_double_opt_in() -> ResponseReturnValue:
    def change(settings: MerchantSettings) -> None:
        for channel in Channel:
            settings.set_double_opt_in(
                channel, request.form.get(f"double_opt_in.{channel}") == "on"
            )

    return _save(change)


@bp.post("/settings/texts")
def save_texts() -> ResponseReturnValue:
    locale = request.form.get("locale", "")

    def change(settings: MerchantSettings) -> None:
        texts = {
            key: request.form.get(f"text.{key}", "").strip()
            for key in DEFAULT_TEXTS
            if request.form.get(f"text.{key}", "").strip()
        }
        settings.set_widget_texts(locale, texts)

    return _save(change, locale=locale)


@bp.post("/settings/origins")
def save_origins() -> ResponseReturnValue:
    def change(settings: MerchantSettings) -> None:
        lines = request.form.get("origins", "").splitlines()[:MAX_ORIGIN_LINES]
        settings.set_storefront_origins([line.strip() for line in lines if line.strip()])

    return _save(change)


def _save(
    change: Callable[[MerchantSettings], None], locale: str | None = None
) -> ResponseReturnValue:
    try:
        with writing() as scope:
            settings = scope.tenant.settings.get()
            change(settings)
            scope.tenant.settings.save(settings)
            scope.uow.commit()
    except DomainError as exc:
        return _page(_locale(locale), error=str(exc), status=400)
    return redirect(
        admin_url("admin.settings", locale=_locale(locale), notice="settings-saved"), 303
    )


def _locale(value: str | None) -> str:
    try:
        return normalize_locale(value) if value else FALLBACK_LOCALE
    except DomainError:
        return FALLBACK_LOCALE


def _page(locale: str, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    with reading() as scope:
        settings = scope.tenant.settings.get()
    own = dict(settings.widget_texts.get(locale, {}))
    if error and request.form.get("locale") is not None:  # keep what the merchant typed
        own = {key: request.form.get(f"text.{key}", "") for key in DEFAULT_TEXTS}
    page = render_template(
        "admin/settings.html",
        settings=settings,
        channels=list(Channel),
        locale=locale,
        locales=sorted({FALLBACK_LOCALE, locale, *settings.widget_texts}),
        own_texts=own,
        effective=settings.texts_for(locale),
        defaults=DEFAULT_TEXTS,
        error=error,
    )
    return page, status
