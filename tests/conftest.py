"""Shared fixtures: a database built by ``alembic upgrade head``, emptied before each test.

The suite runs on SQLite by default. With ``MEDIATION_TEST_DATABASE_URL`` set (a
PostgreSQL database the suite may wipe), the database tests run there instead; the
Makefile runs ``-m db`` a second time that way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from mediation import db as dbmod
from mediation.engine import Engine as WorkflowEngine
from mediation.enums import Role
from mediation.models import Base, Enterprise, Organisation, User
from mediation.services import UnitOfWork
from mediation.workflow import Registry

from . import factories

CASES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "cases"
KEEP_TABLES = {"workflow_definitions", "workflow_states", "alembic_version"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the database with ``db``."""
    for item in items:
        if "database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses the test database (runs on SQLite and PostgreSQL)")


@dataclass
class Database:
    """The test database: its URL, engine and session factory."""

    url: str
    engine: Engine
    session_factory: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def _wipe_postgres(url: str) -> None:
    engine = dbmod.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The shipped workflow definitions."""
    return Registry.from_directory()


@pytest.fixture(scope="session")
def workflow_engine(registry: Registry) -> WorkflowEngine:
    """One engine (one machine per definition) for the whole run."""
    return WorkflowEngine(registry)


@pytest.fixture(scope="session")
def database_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, registry: Registry
) -> Iterator[Database]:
    """The migrated database, created once per run (once per worker under pytest-xdist).

    On PostgreSQL each xdist worker gets its own database beside the one named, created
    here and dropped at the end.
    """
    url = os.environ.get("MEDIATION_TEST_DATABASE_URL")
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    own_database = None
    if url:
        url = dbmod.normalise_url(url)
        if worker:
            own_database = f"{url.rsplit('/', 1)[1]}_{worker}"
            _create_database(url, own_database)
            url = url.rsplit("/", 1)[0] + "/" + own_database
        _wipe_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    dbmod.upgrade(url, registry)
    engine = dbmod.make_engine(url)
    yield Database(url, engine, dbmod.make_session_factory(engine))
    engine.dispose()
    if own_database:
        _drop_database(url, own_database)


def _server(url: str) -> Engine:
    return create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")


def _create_database(url: str, name: str) -> None:
    server = _server(url)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def _drop_database(url: str, name: str) -> None:
    server = _server(url)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def database(database_session: Database) -> Iterator[Database]:
    """The migrated database, emptied of everything but the workflow definitions."""
    meta = MetaData()
    # The models' tables only: SQLite's FTS5 search tables follow their tables by triggers.
    meta.reflect(bind=database_session.engine, only=lambda name, _meta: name in Base.metadata.tables)
    with database_session.engine.begin() as conn:
        tables = [t for t in reversed(meta.sorted_tables) if t.name not in KEEP_TABLES]
        if database_session.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
    yield database_session


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A plain session for arranging data and reading results."""
    with database.session_factory() as s:
        factories.bind(s)
        yield s


@pytest.fixture
def uow(database: Database, workflow_engine: WorkflowEngine) -> UnitOfWork:
    """A unit of work for calling services."""
    return UnitOfWork(database.session_factory, workflow_engine)


@pytest.fixture
def organisation(session: Session) -> Organisation:
    """The station 温溪派出所."""
    return factories.OrganisationFactory()


@pytest.fixture
def make_user(session: Session, organisation: Organisation) -> Callable[..., User]:
    """Make a user of ``role`` (in the station, optionally bound to an enterprise)."""

    def make(role: Role, enterprise: Enterprise | None = None, **kwargs: object) -> User:
        return factories.UserFactory(
            role=role, organisation=organisation, enterprise=enterprise, **kwargs
        )

    return make


@pytest.fixture
def cases_dir() -> Path:
    """``../shared/cases``; the tests that need it skip with a reason when it is absent."""
    if not CASES_DIR.is_dir():
        pytest.skip(f"{CASES_DIR} does not exist: the real cases are not available here")
    return CASES_DIR


# Keep an explicit reference so linters see Base is the metadata the migrations cover.
_ = Base
