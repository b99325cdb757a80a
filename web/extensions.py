"""Flask extensions and the per-app handle on the database and the workflow engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from mediation.engine import Engine
from mediation.services import UnitOfWork, utcnow
from mediation.workflow import Registry

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
#: Rate limits of the public pages (per client address); storage from ``RATELIMIT_STORAGE_URI``
#: (``memory://`` by default, e.g. ``redis://host:6379`` when several processes serve the app).
limiter = Limiter(key_func=get_remote_address)


@dataclass(frozen=True)
class Mediation:
    """What one app holds, built once: the database and the workflow engine."""

    db_engine: DbEngine
    session_factory: sessionmaker[Session]
    engine: Engine

    @property
    def registry(self) -> Registry:
        """The workflow definitions."""
        return self.engine.registry

    def uow(self) -> UnitOfWork:
        """A new unit of work (use ``with``; one per request)."""
        return UnitOfWork(self.session_factory, self.engine)

    def reader(self) -> UnitOfWork:
        """A unit of work for a page that only reads (it never queues for SQLite's write lock)."""
        return UnitOfWork(self.session_factory, self.engine, write=False)


def mediation() -> Mediation:
    """The current app's ``Mediation``."""
    found: Mediation = current_app.extensions["mediation"]
    return found


def now() -> datetime:
    """The current instant (UTC); the app config ``NOW`` fixes it for tests."""
    fixed = current_app.config.get("NOW")
    return fixed if isinstance(fixed, datetime) else utcnow()
