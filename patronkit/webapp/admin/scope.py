"""Storage for admin views, always bound to the authenticated session's merchant.

Views get their repositories and read models only from here, so none can name a merchant
of its own choosing: every query is scoped to the store the request proved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from patronkit.core.ports import Tenant
from patronkit.core.store.insights import SqlConsentInsights
from patronkit.core.store.reconsent import SqlReconsentCampaigns
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.webapp.admin.guard import current
from patronkit.webapp.services import runtime


class Scope:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        merchant_id = current().merchant_id
        self.uow = uow
        self.tenant: Tenant = uow.tenant(merchant_id)
        self.insights = SqlConsentInsights(uow.connection, merchant_id)
        self.campaigns = SqlReconsentCampaigns(uow.connection, merchant_id)


@contextmanager
def reading() -> Iterator[Scope]:
    """A read-only unit of work (on SQLite it reads beside a writer without queueing)."""
    with runtime().unit_of_work(read_only=True) as uow:
        yield Scope(uow)


@contextmanager
def writing() -> Iterator[Scope]:
    """A unit of work for a change; the caller commits."""
    with runtime().unit_of_work() as uow:
        yield Scope(uow)
