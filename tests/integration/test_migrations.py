"""The schema comes from the migrations and constrains what the domain says it must
(STYLE.md rules 5 and 10; DESIGN.md §2: everything works on SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, insert, inspect, make_url, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from mediation import db as dbmod
from mediation.clocks import SHANGHAI
from mediation.models import Base, Case, Organisation, OutboxMessage, WorkflowState
from mediation.workflow import Registry

from .journeys import Station, open_station


@pytest.fixture
def station(uow, session, make_user, organisation) -> Station:
    return open_station(uow, session, make_user, organisation)


def head_revision() -> str:
    head = ScriptDirectory.from_config(dbmod.alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


# --- built by the migrations, no drift ---------------------------------------------

def test_the_test_database_is_at_the_newest_migration(database):
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()


def test_the_models_and_the_migrated_schema_do_not_drift(database):
    """``alembic check``: autogenerate finds nothing to add, drop or alter."""
    command.check(dbmod.alembic_config(database.url))


def test_every_check_constraint_of_the_models_is_in_the_database(database):
    """Autogenerate does not compare CHECK constraints; enums and ranges must still be enforced."""
    inspector = inspect(database.engine)
    for table in Base.metadata.sorted_tables:
        wanted = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert wanted <= found, f"{table.name}: missing {sorted(wanted - found)}"


def test_every_state_of_every_definition_is_recorded_for_cases_to_reference(database, registry):
    with database.session_factory() as s:
        stored = {(w.workflow, w.version, w.name, w.final) for w in s.scalars(select(WorkflowState))}
    for d in registry:
        for state in d.states.values():
            assert (d.name, d.version, state.name, state.final) in stored


@pytest.fixture
def scratch_url(database, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test database's kind: a file on SQLite, a schema of its own on PostgreSQL.

    A schema rather than a database: DROP DATABASE forces an immediate checkpoint, which
    after the suite's writes takes half a minute.
    """
    if database.dialect != "postgresql":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    schema = f"scratch_{uuid4().hex[:12]}"
    with database.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(database.url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with database.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def tables(url: str) -> set[str]:
    engine = dbmod.make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again_on_a_scratch_database(scratch_url):
    cfg = dbmod.alembic_config(scratch_url)
    assert tables(scratch_url) == set()
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= tables(scratch_url)
    command.downgrade(cfg, "base")
    assert tables(scratch_url) <= {"alembic_version"}
    dbmod.upgrade(scratch_url, Registry.from_directory())
    assert set(Base.metadata.tables) <= tables(scratch_url)
    command.check(cfg)


BROKEN_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "badbadbad001"
down_revision = "{head}"


def upgrade():
    op.create_table("probe", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO case_clocks (case_id, organisation_id, name, status, started_on, paused_days, "
               "provisional) VALUES (999999, 999999, 'x', 'running', '2026-03-02', 0, false)")


def downgrade():
    op.drop_table("probe")
"""


def test_a_migration_that_breaks_a_foreign_key_is_undone_whole(scratch_url, tmp_path):
    """alembic/env.py: the migrations run in one transaction on both databases, SQLite with
    foreign keys unenforced for batch copies but checked before the commit."""
    scripts = tmp_path / "alembic"
    shutil.copytree(Path(dbmod.ROOT) / "alembic", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "badbadbad001_broken.py").write_text(BROKEN_MIGRATION.format(head=head_revision()))
    cfg = dbmod.alembic_config(scratch_url)
    command.upgrade(cfg, "head")
    cfg.set_main_option("script_location", str(scripts))
    with pytest.raises(Exception, match="foreign key"):
        command.upgrade(cfg, "head")
    engine = dbmod.make_engine(scratch_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
            assert conn.execute(text("SELECT count(*) FROM case_clocks")).scalar_one() == 0
        assert "probe" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


# --- the database refuses what the domain forbids -------------------------------------

INSERT_CASE = text(
    "INSERT INTO cases (organisation_id, workflow, workflow_version, state, category, filed_via, title, facts, "
    "claims, number, number_year, number_seq, tracking_code, filed_at, updated_at, risk_flag, version) VALUES "
    "(:org, :workflow, :version, :state, 'wages', 'walk_in', '测试', '', '', :number, 2026, :seq, :code, "
    "'2026-03-02 01:00:00', '2026-03-02 01:00:00', false, 1)"
)


@pytest.mark.parametrize(
    ("workflow", "version", "state", "refused"),
    [
        ("labour", 1, "registered", False),
        ("labour", 1, "nowhere", True),
        ("neighbour", 1, "tier2", False),
        ("labour", 2, "registered", True),  # no such version
        ("minor_assault", 1, "registered", True),  # a workflow never recorded
    ],
)
def test_a_case_row_must_be_in_a_state_of_its_workflow_version(database, organisation, workflow, version, state,
                                                              refused):
    """STYLE.md rule 5: states are constrained in the database (fk_cases_workflow_state)."""
    params = {"org": organisation.id, "workflow": workflow, "version": version, "state": state,
              "number": "X-1", "seq": 1, "code": "CODE000001"}
    with database.engine.connect() as conn:
        if refused:
            with pytest.raises(IntegrityError):
                conn.execute(INSERT_CASE, params)
            conn.rollback()
        else:
            conn.execute(INSERT_CASE, params)
            conn.commit()


@pytest.mark.parametrize(
    ("column", "value"),
    [("severity", "huge"), ("category", "divorce"), ("filed_via", "pigeon"), ("tier", 4), ("tier", 0),
     ("version", 0)],
)
def test_a_value_outside_its_enum_or_range_is_refused_by_the_database(database, station, column, value):
    """STYLE.md rule 5: enums are stored by value and checked by a CHECK constraint."""
    case_id = station.file().case_id
    with database.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            conn.execute(text(f"UPDATE cases SET {column} = :v WHERE id = :id"), {"v": value, "id": case_id})
        conn.rollback()
    assert station.case(case_id).state == "registered"


def test_a_negative_obligation_amount_is_refused_by_the_database(database, station):
    case_id = station.drive_to("labour", "agreement_drafted")
    with database.engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE obligations SET amount = -100 WHERE agreement_id IN "
                          "(SELECT id FROM agreements WHERE case_id = :id)"), {"id": case_id})


# --- a case's rows carry its station ---------------------------------------------------

STATION_TABLES = ("events", "agreements", "case_clocks")


def test_a_cases_events_agreements_and_clocks_carry_its_station_and_no_other(database, station):
    """``case_station_key``: the copy equals the case's station, and the database refuses another."""
    case_id = station.drive_to("labour", "agreement_drafted")
    with database.engine.connect() as conn:
        org = conn.execute(text("SELECT organisation_id FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()
        other = conn.execute(insert(Organisation).values(name="别的派出所", short_name="别", committee_name="调委会")
                             .returning(Organisation.id)).scalar_one()
        conn.commit()
        for table in STATION_TABLES:
            stations = conn.execute(text(f"SELECT DISTINCT organisation_id FROM {table} WHERE case_id = :id"),
                                    {"id": case_id}).scalars().all()
            assert stations == [org], table
        for table in ("agreements", "case_clocks"):  # events refuse any UPDATE on PostgreSQL anyway
            with pytest.raises(IntegrityError):
                conn.execute(text(f"UPDATE {table} SET organisation_id = :o WHERE case_id = :id"),
                             {"o": other, "id": case_id})
            conn.rollback()
        with pytest.raises(IntegrityError):
            conn.execute(text(
                "INSERT INTO events (case_id, organisation_id, seq, at, actor_label, \"trigger\", from_state, "
                "to_state, data, prev_hash, hash) SELECT case_id, :o, 99, at, actor_label, \"trigger\", from_state, "
                "to_state, data, prev_hash, hash FROM events WHERE case_id = :id AND seq = 1"),
                {"o": other, "id": case_id})
        conn.rollback()


def test_the_station_migration_fills_existing_rows_from_their_cases(scratch_url, registry):
    """Migration c078045a1afe on a database with a case: each row gets its case's station,
    and (PostgreSQL) the events stay append-only afterwards."""
    cfg = dbmod.alembic_config(scratch_url)
    command.upgrade(cfg, "c7f3a9d2e815")
    engine = dbmod.make_engine(scratch_url)
    try:
        with dbmod.make_session_factory(engine)() as s:
            dbmod.sync_workflows(s, registry)
        at = "'2026-03-02 01:00:00'"
        with engine.begin() as conn:
            orgs = [conn.execute(insert(Organisation)
                                 .values(name=f"站{i}", short_name=f"站{i}", committee_name="调委会")
                                 .returning(Organisation.id)).scalar_one() for i in (1, 2)]
            for n, org in enumerate(orgs, start=1):
                params = {"org": org, "workflow": "labour", "version": 1, "state": "registered",
                          "number": f"X-{n}", "seq": n, "code": f"CODE00000{n}"}
                conn.execute(INSERT_CASE, params)
            cases = conn.execute(text("SELECT id FROM cases ORDER BY id")).scalars().all()
            for case_id in cases:
                conn.execute(text("INSERT INTO events (case_id, seq, at, actor_label, \"trigger\", from_state, "
                                  f"to_state, data, prev_hash, hash) VALUES (:c, 1, {at}, 'x', 'file', 'registered', "
                                  "'registered', '{}', '0', '0')"), {"c": case_id})
                conn.execute(text("INSERT INTO agreements (case_id, version, kind, status, drafted_at) "
                                  f"VALUES (:c, 1, 'written', 'drafted', {at})"), {"c": case_id})
                conn.execute(text("INSERT INTO case_clocks (case_id, name, status, started_on, paused_days, "
                                  "provisional) VALUES (:c, 'statutory_period', 'running', '2026-03-02', 0, false)"),
                             {"c": case_id})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            for table in STATION_TABLES:
                rows = conn.execute(text(f"SELECT case_id, organisation_id FROM {table} ORDER BY case_id")).all()
                assert [tuple(r) for r in rows] == list(zip(cases, orgs, strict=True)), table
            if engine.dialect.name == "postgresql":
                with pytest.raises(Exception, match="append-only"):
                    conn.execute(text("UPDATE events SET reason = 'x'"))
                conn.rollback()
        command.downgrade(cfg, "c7f3a9d2e815")
        assert "organisation_id" not in {c["name"] for c in inspect(engine).get_columns("events")}
    finally:
        engine.dispose()


# --- datetimes and money ---------------------------------------------------------------

def test_an_aware_datetime_comes_back_as_the_same_instant_in_utc(database):
    """STYLE.md rule 10: aware in UTC in the database, whatever zone it was given in."""
    given = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    with database.session_factory() as s:
        s.add(OutboxMessage(created_at=given, kind="test", payload={}, idempotency_key="tz-1"))
        s.commit()
    with database.session_factory() as s:
        back = s.scalars(select(OutboxMessage.created_at).where(OutboxMessage.idempotency_key == "tz-1")).one()
    assert back == given
    assert back.utcoffset() == timedelta(0) and back.tzinfo is not None
    assert back == datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC)


def test_a_naive_datetime_is_refused_and_nothing_is_saved(database):
    """STYLE.md rule 10: a datetime without a zone is ambiguous; the caller must say which."""
    with database.session_factory() as s:
        s.add(OutboxMessage(created_at=datetime(2026, 3, 2, 9, 30), kind="test", payload={}, idempotency_key="tz-2"))
        with pytest.raises(StatementError, match="naive datetime"):
            s.commit()
    with database.session_factory() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == "tz-2")).all() == []


@pytest.mark.parametrize(
    "amount", ["9966.00", "0.10", "0.01", "0.00", "999999999.99", "999999999999.99"],
)
def test_money_round_trips_as_decimal_with_two_places(database, station, amount):
    """STYLE.md rule 10: money is Decimal yuan with two places, never float."""
    case_id = station.file().case_id
    with database.session_factory() as s:
        case = s.get(Case, case_id)
        case.amount_claimed = Decimal(amount)
        s.commit()
    with database.session_factory() as s:
        back = s.scalars(select(Case.amount_claimed).where(Case.id == case_id)).one()
    assert isinstance(back, Decimal)
    assert str(back) == amount and back.as_tuple().exponent == -2
    with database.engine.connect() as conn:
        raw = conn.execute(text("SELECT amount_claimed FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()
    if database.dialect == "sqlite":
        assert raw == int(Decimal(amount) * 100)  # whole fen: no float on the way
    else:
        assert isinstance(raw, Decimal) and raw == Decimal(amount)
