"""What request handlers need, built once per app: settings, database, sealer."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from patronkit.config import Settings
from patronkit.core.crypto import FernetSealer
from patronkit.core.store.database import make_engine, make_session_factory
from patronkit.core.store.unit_of_work import SqlUnitOfWork


@dataclass
class Services:
    settings: Settings
    engine: sa.Engine
    session_factory: sessionmaker[Session]
    sealer: FernetSealer

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=make_session_factory(engine),
            sealer=settings.sealer(),
        )

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)


def services() -> Services:
    found: Services = current_app.extensions["patronkit"]
    return found
