"""The ledger's search through its substring indexes, on SQLite and PostgreSQL (issue 6, point 5).

A search whose keys are long enough is read through the trigram indexes (``pg_trgm`` GIN
on PostgreSQL, FTS5 trigram tables on SQLite); it must find exactly the cases that
checking every row finds. The SQLite indexes follow every insert, update and delete by
triggers; the ledger counts no further than ``COUNT_LIMIT`` and says "more than".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from mediation import ledger, policy
from mediation.enums import Role
from mediation.ledger import LedgerFilters
from mediation.models import SUBSTRING_INDEXES, Case, GroupMember, Party
from mediation.services import file_case

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ID_A = "331121198001010018"
ID_B = "110101199003074573"


def filing(applicant: str, **extra: Any) -> dict[str, Any]:
    party = {"role": "applicant", "name": applicant}
    party.update({k: extra.pop(k) for k in ("id_number", "phone") if k in extra})
    return {
        "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": extra.pop("facts", "拖欠工资"),
        "claims": "请求", "parties": [party, {"role": "respondent", "kind": "organisation",
                                               "name": extra.pop("respondent", "某鞋业有限公司")}], **extra,
    }


@pytest.fixture
def filed(uow, session, make_user) -> dict[str, Any]:
    """A chief and cases with names, dots, widths, ID numbers, phones, texts and a group's members."""
    chief = make_user(Role.STATION_CHIEF)
    plan = {
        "zhang": filing("张建国", id_number=ID_A, phone="13800001234"),
        "dots": filing("阿卜杜·热合曼", facts="ＡＢＣ车间拖欠三个月工资"),
        "wide": filing("Ａ公司职工代表", respondent="温溪建筑工程有限公司"),
        "other": filing("李四", id_number=ID_B, phone="13912345678"),
        "percent": filing("王五", facts="提成100%未付"),
    }
    ids = {}
    for i, (key, data) in enumerate(plan.items()):
        with uow:
            ids[key] = file_case(uow, chief.id, data, now=NOW + timedelta(minutes=i)).case_id
    session.commit()
    group = session.get(Case, ids["other"]).party("a1")
    session.add(GroupMember(party_id=group.id, position=1, name="赵六六", id_number="330302199912120010",
                            phone="13700007777", amount_claimed=Decimal("3000.00")))
    session.commit()
    return {"chief": chief, "ids": ids}


NEEDLES = [
    ("张建国", "all"), ("建国", "party"), ("阿卜杜・热合曼", "party"), ("杜•热合", "all"), ("abc车间", "all"),
    ("a公司职工", "party"), ("建筑工程", "all"), ("100%", "text"), ("0101001", "id_number"), (ID_A, "id_number"),
    (ID_A, "all"), ("138-0000-1234", "phone"), ("１３９１２３４", "all"), ("赵六六", "all"), ("1212001", "id_number"),
    ("330302199912120010", "all"), ("警调字第0002", "number"), ("（2026）", "all"), ("无此人", "all"), ("%%%", "all"),
    ("张", "all"), ("李四", "party"),
]


def _row_by_row(session, user, search: ledger.Search) -> set[int]:
    stmt = select(Case.id).where(policy.visible_clause(user), search.clause())
    return set(session.scalars(stmt))


@pytest.mark.parametrize(("q", "where"), NEEDLES)
def test_the_indexes_find_what_checking_every_row_finds(filed, session, database, q, where):
    chief = filed["chief"]
    search = ledger.search_for(chief, q, where)
    assert search is not None
    expected = _row_by_row(session, chief, search)
    found = {c.id for c in session.scalars(ledger.ledger_query(session, chief, LedgerFilters(q=q, search_in=where)))}
    assert found == expected
    if all(len(n.key) >= ledger.INDEXED_LENGTH for n in search.needles):
        matches = search.matches(database.dialect)
        assert matches is not None  # read through the index, not row by row
        assert {i for i in session.scalars(matches)} & set(filed["ids"].values()) >= expected
    session.commit()


def test_the_searches_find_the_cases_they_are_about(filed, session):
    chief, ids = filed["chief"], filed["ids"]

    def found(q: str, where: str = "all") -> set[int]:
        return {c.id for c in session.scalars(ledger.ledger_query(session, chief, LedgerFilters(q=q, search_in=where)))}

    assert found("张建国") == {ids["zhang"]}
    assert found("杜•热合") == {ids["dots"]}
    assert found(ID_A, "id_number") == {ids["zhang"]}
    assert found("赵六六") == found("330302199912120010") == {ids["other"]}
    assert found("100%", "text") == {ids["percent"]}
    assert found("无此人") == set()
    session.commit()


def test_a_whole_id_number_is_looked_up_by_equality(filed):
    search = ledger.search_for(filed["chief"], ID_A, "id_number")
    assert search is not None and all(n.whole for n in search.needles)
    partial = ledger.search_for(filed["chief"], ID_A[:17], "id_number")
    assert partial is not None and not any(n.whole for n in partial.needles)


def test_the_sqlite_indexes_follow_inserts_updates_and_deletes(filed, session, database):
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL's GIN indexes are kept by the database itself")
    with database.engine.connect() as conn:
        triggers = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    for fts in SUBSTRING_INDEXES.values():
        assert {f"{fts}_insert", f"{fts}_update", f"{fts}_delete"} <= triggers
    chief, ids = filed["chief"], filed["ids"]
    party = session.get(Case, ids["zhang"]).party("a1")
    party.name = "张建业"
    session.commit()

    def found(q: str) -> set[int]:
        filters = LedgerFilters(q=q, search_in="party")
        return {c.id for c in session.scalars(ledger.ledger_query(session, chief, filters))}

    assert found("张建国") == set() and found("张建业") == {ids["zhang"]}
    session.delete(session.get(Case, ids["percent"]).party("r1"))
    session.commit()
    with database.engine.begin() as conn:
        for fts in SUBSTRING_INDEXES.values():  # raises when an index disagrees with its table
            conn.execute(text(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"))
    session.commit()


def test_the_postgresql_indexes_are_trigram_gin_indexes(database):
    if database.dialect != "postgresql":
        pytest.skip("SQLite has FTS5 tables instead")
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%_trgm'"))
        found = dict(rows.all())
    assert "ix_parties_name_key_trgm" in found and "ix_cases_search_key_trgm" in found
    assert all("gin" in d and "gin_trgm_ops" in d for d in found.values())


def test_the_ledger_counts_no_further_than_the_limit(uow, session, make_user, registry, monkeypatch):
    monkeypatch.setattr(ledger, "COUNT_LIMIT", 3)
    chief = make_user(Role.STATION_CHIEF)
    for i in range(5):
        with uow:
            file_case(uow, chief.id, filing("王建国"), now=NOW + timedelta(minutes=i))
    session.commit()
    for filters in (LedgerFilters(), LedgerFilters(q="王建国"), LedgerFilters(q="王建", search_in="party")):
        page = ledger.ledger_page(session, registry, chief, filters, NOW, per_page=2)
        assert (page.total, page.total_capped, len(page.rows)) == (3, True, 2)
        after = ledger.ledger_page(session, registry, chief, filters, NOW, after=page.next_cursor, per_page=2)
        last = ledger.ledger_page(session, registry, chief, filters, NOW, after=after.next_cursor, per_page=2)
        assert (after.start, last.start, len(last.rows), last.next_cursor) == (3, 5, 1, None)
    one = ledger.ledger_page(session, registry, chief, LedgerFilters(q="无此人"), NOW)
    assert (one.total, one.total_capped, one.rows) == (0, False, [])
    assert session.scalar(select(Party.id).where(Party.name_key == "王建国")) is not None
    session.commit()
