"""Substring indexes of the ledger's search (pg_trgm on PostgreSQL, FTS5 trigram on SQLite); covering statistics indexes.

Revision ID: c7f3a9d2e815
Revises: b6e1d2c3a4f5
Create Date: 2026-11-30 00:30:00.000000

The ledger searches with ``LIKE '%key%'`` on the stored search keys (case number and
text, a party's name key, ID number and phone, a group member's name, ID number and
phone). A B-tree cannot serve a pattern that starts with a wildcard, so each searched
column gets an index of its trigrams:

- PostgreSQL: the ``pg_trgm`` extension (created if missing; a trusted extension, so the
  database owner may) and one GIN ``gin_trgm_ops`` index per column; the LIKE itself
  uses them. The downgrade drops the indexes and leaves the extension (other schemas of
  the database may use it).
- SQLite: one FTS5 table per searched table with the ``trigram`` tokenizer, an external
  content table over that table (``content=``, ``rowid`` = its id, so nothing is stored
  twice), kept by AFTER INSERT / UPDATE OF / DELETE triggers and filled here by
  ``rebuild``. Beware: a later batch migration that recreates ``cases``, ``parties`` or
  ``group_members`` drops their triggers and must create them again
  (``tests/integration/test_search_indexes.py`` checks they are there at head).

The statistics' and the ledger's range indexes also hold the columns they count by, so
a month of a million-case ledger is counted from the index alone (issue 6, point 5):
``ix_cases_org_filed`` + category, tier; ``ix_cases_org_closed`` + workflow, version,
state, tier, accepted_at, closed cases only; ``ix_agreements_effective`` + case, kind;
and ``ix_agreements_case_effective`` for "no earlier agreement in force". (Not
``ix_events_trigger_at``: with the case in it, SQLite took it over the case index for a
page's "when did these cases last …" query, reading every event of those triggers.) A whole ID number is found by equality:
``ix_group_members_id_number`` (parties have theirs).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c7f3a9d2e815'
down_revision: str | None = 'b6e1d2c3a4f5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The searched columns of each table.
SEARCHED: dict[str, tuple[str, ...]] = {
    "cases": ("number", "search_key"),
    "parties": ("name_key", "id_number", "phone"),
    "group_members": ("name", "id_number", "phone"),
}


def _trigram_indexes() -> list[tuple[str, str, str]]:
    return [(f"ix_{table}_{column}_trgm", table, column) for table, columns in SEARCHED.items() for column in columns]


#: (name, table, columns before, columns after, partial) of the widened range indexes.
WIDENED: list[tuple[str, str, list[str], list[str], bool]] = [
    ("ix_cases_org_filed", "cases", ["organisation_id", "filed_at", "id"],
     ["organisation_id", "filed_at", "id", "category", "tier"], False),
    ("ix_cases_org_closed", "cases", ["organisation_id", "closed_at"],
     ["organisation_id", "closed_at", "workflow", "workflow_version", "state", "tier", "accepted_at"], True),
    ("ix_agreements_effective", "agreements", ["effective_at"], ["effective_at", "case_id", "kind"], False),
]


def _widen(after: bool) -> None:
    for name, table, before, wide, partial in WIDENED:
        op.drop_index(name, table_name=table)
        where = {"sqlite_where": sa.text("closed_at IS NOT NULL"), "postgresql_where": sa.text("closed_at IS NOT NULL")}
        op.create_index(name, table, wide if after else before, unique=False, **(where if partial and after else {}))


def upgrade() -> None:
    _widen(after=True)
    op.create_index("ix_agreements_case_effective", "agreements", ["case_id", "effective_at"], unique=False)
    op.create_index("ix_group_members_id_number", "group_members", ["id_number"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema = bind.execute(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )).scalar_one()
        for name, table, column in _trigram_indexes():
            op.execute(f'CREATE INDEX {name} ON {table} USING gin ({column} "{schema}".gin_trgm_ops)')
    elif bind.dialect.name == "sqlite":
        for table, columns in SEARCHED.items():
            fts = f"{table}_fts"
            listed = ", ".join(columns)
            new = ", ".join(f"new.{c}" for c in columns)
            old = ", ".join(f"old.{c}" for c in columns)
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{table}', content_rowid='id', "
                       "tokenize='trigram')")
            op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
                       f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.id, {new}); END")
            op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.id, {old}); END")
            op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {listed} ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.id, {old}); "
                       f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.id, {new}); END")
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def downgrade() -> None:
    op.drop_index("ix_group_members_id_number", table_name="group_members")
    op.drop_index("ix_agreements_case_effective", table_name="agreements")
    _widen(after=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, _table, _column in reversed(_trigram_indexes()):
            op.execute(f"DROP INDEX IF EXISTS {name}")
    elif bind.dialect.name == "sqlite":
        for table in reversed(list(SEARCHED)):
            fts = f"{table}_fts"
            for action in ("update", "delete", "insert"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{action}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
