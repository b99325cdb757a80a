"""The case's station on events, agreements and clocks; statistics read one station's month.

Revision ID: c078045a1afe
Revises: c7f3a9d2e815
Create Date: 2026-11-30 03:00:00.000000

The statistics count a station's agreements, follow-up visits, escalations and lapsed
periods of a month. Without the station on those rows, every station's month was read
and joined to ``cases`` to keep one station's: at a million cases over ten stations, ten
times the rows (issue 6, point 5). Each of ``events``, ``agreements`` and ``case_clocks``
now carries ``organisation_id``, filled from its case, NOT NULL, and its foreign key to
the case becomes ``(case_id, organisation_id)`` → ``cases (id, organisation_id)`` (a new
unique index on cases), so the database refuses a copy that differs from the case's.
The statistics' range indexes lead with the station:

- ``ix_agreements_org_effective`` (organisation, effective_at, case, kind) replaces
  ``ix_agreements_effective``;
- ``ix_events_org_trigger_at`` (organisation, trigger, at) replaces ``ix_events_trigger_at``;
- ``ix_case_clocks_org_due`` (organisation, due_at, status, name) is new
  (``ix_case_clocks_due`` stays: the sweep reads every station's due clocks).

PostgreSQL: events are append-only by trigger, so the trigger is disabled while the
column is filled (in this transaction, which no other writer sees) and enabled again.
SQLite: a table's foreign keys and NOT NULL change only by copying the table (batch
mode), which ``alembic/env.py`` runs with foreign-key enforcement off, checking every
foreign key before the one transaction of the migrations commits.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c078045a1afe'
down_revision: str | None = 'c7f3a9d2e815'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables that get their case's station.
TABLES = ("events", "agreements", "case_clocks")
#: (table, the range index it gets, its columns, the index it replaces, that one's columns).
INDEXES: list[tuple[str, str, list[str], str | None, list[str]]] = [
    ("agreements", "ix_agreements_org_effective", ["organisation_id", "effective_at", "case_id", "kind"],
     "ix_agreements_effective", ["effective_at", "case_id", "kind"]),
    ("events", "ix_events_org_trigger_at", ["organisation_id", "trigger", "at"],
     "ix_events_trigger_at", ["trigger", "at"]),
    ("case_clocks", "ix_case_clocks_org_due", ["organisation_id", "due_at", "status", "name"], None, []),
]


def _fill(table: str, postgresql: bool) -> None:
    if postgresql:
        op.execute(f"UPDATE {table} SET organisation_id = c.organisation_id FROM cases c WHERE c.id = {table}.case_id")
    else:
        op.execute(f"UPDATE {table} SET organisation_id = "
                   f"(SELECT c.organisation_id FROM cases c WHERE c.id = {table}.case_id)")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index("ix_cases_id_organisation_id", "cases", ["id", "organisation_id"], unique=True)
    for table, _name, _columns, old, _old_columns in INDEXES:  # before SQLite copies the tables
        if old is not None:
            op.drop_index(old, table_name=table)
    for table in TABLES:
        op.add_column(table, sa.Column("organisation_id", sa.Integer(), nullable=True))
        if postgresql and table == "events":
            op.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        _fill(table, postgresql)
        if postgresql and table == "events":
            op.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            batch_op.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint(f"fk_{table}_case_id_cases", type_="foreignkey")
            batch_op.create_foreign_key(f"fk_{table}_case_id_cases", "cases", ["case_id", "organisation_id"],
                                        ["id", "organisation_id"])
    for table, name, columns, _old, _old_columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns, _old, _old_columns in INDEXES:
        op.drop_index(name, table_name=table)
    for table in TABLES:
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            batch_op.drop_constraint(f"fk_{table}_case_id_cases", type_="foreignkey")
            batch_op.create_foreign_key(f"fk_{table}_case_id_cases", "cases", ["case_id"], ["id"])
            batch_op.drop_column("organisation_id")
    for table, _name, _columns, old, old_columns in INDEXES:
        if old is not None:
            op.create_index(old, table, old_columns, unique=False)
    op.drop_index("ix_cases_id_organisation_id", table_name="cases")
