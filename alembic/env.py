"""Alembic environment: migrations run on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from alembic import context

from mediation.db import database_url, make_engine
from mediation.models import SUBSTRING_INDEXES, Base

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave SQLite's FTS5 search tables and their shadow tables out of the comparison (the
    migration makes them; they are not SQLAlchemy tables)."""
    tables = SUBSTRING_INDEXES.values()
    return type_ != "table" or not any(name == t or (name or "").startswith(t + "_") for t in tables)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Compare an index marked for one database (``models.postgresql_only``) on that database only."""
    if type_ != "index" or reflected:
        return True
    wanted = getattr(obj, "info", {}).get("dialect")
    return wanted is None or wanted == context.get_context().dialect.name


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    url = config.get_main_option("sqlalchemy.url") or database_url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"), compare_type=True,
                      include_name=include_name, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live connection."""
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode copies a table and drops the old one; with foreign keys
                # enforced, dropping a table others refer to fails (and a rename rewrites
                # their references). The pragma only changes outside a transaction: set it
                # on the driver's connection before the migrations' transaction begins. The
                # engine is thrown away afterwards, so no connection serves without it.
                # (Meanwhile ON DELETE CASCADE does not fire: a migration deletes by hand.)
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            # One transaction for all the migrations, on SQLite too (the engine issues its
            # own BEGIN, so SQLite's DDL is transactional): a failure leaves nothing done.
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=sqlite, compare_type=True, transactional_ddl=True,
                              include_name=include_name, include_object=include_object)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:  # what enforcement would have refused, refused before the commit
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"the migration left rows whose foreign key points nowhere: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
