"""Database connections, migrations and the workflow-state sync.

SQLite (a file under ``instance/``) is the embedded default; PostgreSQL is chosen by
``MEDIATION_DATABASE_URL`` (e.g. ``postgresql+psycopg://user@host/db``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from .models import WorkflowDefinition, WorkflowState
from .workflow import Registry

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"
DEFAULT_URL = f"sqlite:///{INSTANCE_DIR / 'mediation.db'}"
#: Connection execution option marking a transaction that will write (see ``make_engine``).
WRITE_OPTION = "mediation_write"


def database_url() -> str:
    """The configured database URL (``MEDIATION_DATABASE_URL`` or the embedded SQLite file)."""
    return os.environ.get("MEDIATION_DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a bare ``postgresql://`` URL."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; on SQLite: WAL, a busy timeout, foreign keys enforced, a 16 MiB
    page cache per connection and ``BEGIN IMMEDIATE`` writes.

    A transaction on a connection with the ``WRITE_OPTION`` execution option (every unit
    of work) begins IMMEDIATE, so concurrent SQLite writers queue for the write lock
    instead of failing with "database is locked" on upgrading a read lock; plain reads
    begin deferred and never block a writer (WAL).
    """
    url = normalise_url(url or database_url())
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below rule
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # 16 MiB of pages per connection instead of SQLite's 2 MiB: a ledger of a million
            # cases is gigabytes, and the ledger and statistics re-read the same index pages.
            # Filled only as pages are read; at most 16 MiB × the pool's connections a process.
            cursor.execute("PRAGMA cache_size=-16384")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic configuration for ``url`` using the repository's ``alembic.ini``."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, registry: Registry | None = None) -> None:
    """Migrate the database to the newest revision and record the workflow definitions."""
    url = url or database_url()
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            sync_workflows(session, registry or Registry.from_directory())
    finally:
        engine.dispose()


def sync_workflows(session: Session, registry: Registry) -> None:
    """Store every definition version and its states (cases reference them), in one commit.

    A stored version whose text changed is refreshed (issue 3 makes such a change a new version).
    """
    with session.begin():
        for d in registry:
            stored = session.get(WorkflowDefinition, (d.name, d.version))
            if stored is None:
                session.add(
                    WorkflowDefinition(name=d.name, version=d.version, digest=d.digest, source=d.source_text)
                )
                session.flush()
            elif stored.digest != d.digest:
                stored.digest, stored.source = d.digest, d.source_text
            known = set(
                session.scalars(
                    select(WorkflowState.name).where(
                        WorkflowState.workflow == d.name, WorkflowState.version == d.version
                    )
                )
            )
            for s in d.states.values():
                if s.name not in known:
                    session.add(WorkflowState(workflow=d.name, version=d.version, name=s.name, final=s.final))
