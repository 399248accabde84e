"""The composition root: builds the running system from settings, for every entry point.

The web app, the worker and the CLI commands all start here, so they agree on the database,
the queue, the job names and the platform gateways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from huey import Huey

from patronkit.adapters.registry import PLATFORMS, build_gateways
from patronkit.config import Settings
from patronkit.core.crypto import FernetSealer
from patronkit.core.store.database import make_engine
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import StorefrontGateway
from patronkit.mail.jobs import MailJobs
from patronkit.mail.transport import transport_from_url
from patronkit.sync.engine import SyncEngine
from patronkit.sync.queue import HueyDispatcher, make_huey


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    sealer: FernetSealer
    gateways: Mapping[str, StorefrontGateway]
    huey: Huey
    sync: SyncEngine
    mail: MailJobs

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)

    def close(self) -> None:
        self.sync.close()
        self.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    gateways: Mapping[str, StorefrontGateway] | None = None,
    immediate: bool = False,
) -> Runtime:
    """`immediate` runs jobs in the caller's thread (Huey's immediate mode), for tests."""
    engine = make_engine(settings.database_url)
    sealer = settings.sealer()
    if gateways is None:
        gateways = build_gateways({name: settings.platform_options(name) for name in PLATFORMS})
    huey = make_huey(settings.queue_url, immediate=immediate)
    dispatcher = HueyDispatcher(huey)
    sync = SyncEngine(engine, sealer, gateways, dispatcher, group_commit=not immediate)
    dispatcher.bind(sync, reconcile_every_minutes=settings.reconcile_minutes)
    transport = transport_from_url(settings.mail_url, settings.data_dir)
    mail = MailJobs(huey, engine, transport, settings.mail_from)
    return Runtime(settings, engine, sealer, gateways, huey, sync, mail)
