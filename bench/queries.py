"""Query benchmark (issue 6, point 5): the ledger, searches, the statistics and the API at scale.

Fills a database with generated cases by bulk insert (like ``bench.engine.seed``) —
1,000,000 (``--quick``: 100,000) and 10,000 — spread over ten years and ten stations,
and times, as a station chief of station 1: the ledger's filtered, sorted first page,
a search by a party's name and by an ID number, the statistics of the newest month
(figures, last year's and the charts' numbers), and one API list call. Target: each
within 2x of its time at 10,000 cases. SQLite always; PostgreSQL when
``MEDIATION_BENCH_DATABASE_URL``'s server answers (see ``bench.engine``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from bench.engine import postgres_available, scratch_database
from mediation import db, ledger
from mediation import statistics as stats
from mediation.api_tokens import create_token
from mediation.engine import Engine
from mediation.enums import AgreementKind, AgreementStatus, Category, IntakeSource, PartyKind, PartyRole, Role
from mediation.models import Agreement, Case, Event, Organisation, Party, User
from mediation.services import UnitOfWork
from mediation.workflow import Registry

END = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
YEARS = 10
STATIONS = 10
STATES = ["resolved"] * 5 + ["performing", "tier1", "tier2", "terminated", "withdrawn", "declined", "registered"]
CATEGORIES = [Category.WAGES, Category.WORK_INJURY, Category.CONTRACT_TERMINATION, Category.LABOUR_SERVICE_PAY]
ID_NUMBER = "510824196903150379"


def seed(url: str, cases: int, batch: int = 20_000) -> int:
    """Insert ``STATIONS`` stations, a chief of station 1, and ``cases`` cases with parties, agreements and events."""
    engine = db.make_engine(url)
    with engine.begin() as conn:
        orgs = [conn.execute(insert(Organisation).values(name=f"基准派出所{i}", short_name=f"基{i}",
                                                         committee_name="调委会").returning(Organisation.id)
                             ).scalar_one() for i in range(STATIONS)]
        chief = conn.execute(insert(User).values(username="chief", password_hash="x", display_name="所长",
                                                 role=Role.STATION_CHIEF, organisation_id=orgs[0], active=True)
                             .returning(User.id)).scalar_one()
    span = YEARS * 365 * 86400
    for start in range(0, cases, batch):
        rows = []
        for i in range(start, min(cases, start + batch)):
            filed = END - timedelta(seconds=(i * 7919 % span))
            state = STATES[i % len(STATES)]
            accepted = None if state in ("declined", "registered") else filed + timedelta(hours=4)
            closed = filed + timedelta(days=20) if state in ("resolved", "terminated", "withdrawn", "declined") else None
            rows.append({
                "organisation_id": orgs[i % STATIONS], "workflow": "labour", "workflow_version": 1, "state": state,
                "tier": None if accepted is None else 1 + i % 3, "category": CATEGORIES[i % 4],
                "filed_via": IntakeSource.WALK_IN, "title": f"案件{i}", "facts": "", "claims": "",
                "number": f"Q{i:08d}", "number_year": filed.year, "number_seq": i + 1, "tracking_code": f"Q{i:09d}",
                "filed_at": filed, "accepted_at": accepted, "closed_at": closed, "updated_at": filed,
                "risk_flag": False, "version": 1, "search_key": f"案件{i}", "party_key": f"zhang0san{i % 1000}",
            })
        with engine.begin() as conn:
            ids = list(conn.execute(insert(Case).returning(Case.id), rows).scalars())
            parties, agreements, events = [], [], []
            for k, cid in enumerate(ids):
                i = start + k
                row = rows[k]
                name = f"张{i}号"
                parties.append({"case_id": cid, "position": 1, "ref": "a1", "role": PartyRole.APPLICANT,
                                "kind": PartyKind.PERSON, "name": name, "size": 1, "name_key": name, "sort_key": "",
                                "id_number": ID_NUMBER if i == cases // 2 else f"{i:018d}"})
                parties.append({"case_id": cid, "position": 2, "ref": "r1", "role": PartyRole.RESPONDENT,
                                "kind": PartyKind.ORGANISATION, "name": "某公司", "size": 1, "name_key": "某公司", "id_number": None,
                                "sort_key": ""})
                if row["state"] in ("resolved", "performing"):
                    eff = row["filed_at"] + timedelta(days=3 + i % 20)
                    agreements.append({"case_id": cid, "version": 1, "kind": AgreementKind.WRITTEN if i % 4 else
                                       AgreementKind.ORAL, "status": AgreementStatus.EFFECTIVE, "tier": row["tier"],
                                       "drafted_at": eff, "signed_at": eff, "effective_at": eff})
                at = row["filed_at"]
                events.append({"case_id": cid, "seq": 1, "at": at, "actor_label": "x", "trigger": "file",
                               "from_state": "registered", "to_state": "registered", "data": {}, "prev_hash": "0",
                               "hash": "0"})
                if row["state"] == "resolved":
                    events.append({"case_id": cid, "seq": 2, "at": row["closed_at"], "actor_label": "x",
                                   "trigger": "record_follow_up", "from_state": "follow_up", "to_state": "resolved",
                                   "data": {}, "prev_hash": "0", "hash": "0"})
            conn.execute(insert(Party), parties)
            if agreements:
                conn.execute(insert(Agreement), agreements)
            conn.execute(insert(Event), events)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return chief


def _time(fn: Callable[[], Any], repeat: int = 5) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def measure(url: str, chief_id: int) -> dict[str, float]:
    """Seconds (median of 5 warm runs) of each measured query, as the station chief."""
    from web import create_app

    registry = Registry.from_directory()
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    uow = UnitOfWork(factory, Engine(registry))
    with uow:
        secret = create_token(uow, chief_id, "bench", END).secret
    with factory() as s:
        chief = s.get(User, chief_id)
        assert chief is not None
        s.expunge(chief)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "NOW": END})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    out: dict[str, float] = {}

    def page(filters: ledger.LedgerFilters) -> Callable[[], Any]:
        def run() -> Any:
            with factory() as s:
                return ledger.ledger_page(s, registry, chief, filters, END)
        return run

    out["ledger first page (tier 2, wages, by filing)"] = _time(page(ledger.LedgerFilters(tier=2, category="wages")))
    out["search by name"] = _time(page(ledger.LedgerFilters(q="张4242号", search_in="party")))
    out["search by ID number"] = _time(page(ledger.LedgerFilters(q=ID_NUMBER, search_in="id_number")))

    def figures() -> Any:
        with factory() as s:
            return stats.compute(s, registry, chief, stats.Period.month(2026, 3), now=END)
    out["statistics of the month"] = _time(figures)
    out["API list call"] = _time(lambda: client.get("/api/v1/cases?tier=2&limit=50", headers=auth))
    app.extensions["mediation"].db_engine.dispose()
    engine.dispose()
    return out


def run(quick: bool) -> bool:
    """Run on SQLite (and PostgreSQL when reachable); print the ratios; True when every one is within 2x."""
    big = 100_000 if quick else 1_000_000
    kinds = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    ok = True
    for kind in kinds:
        results = {}
        for n in (10_000, big):
            with scratch_database(kind) as url:
                t = time.perf_counter()
                chief = seed(url, n)
                print(f"{kind}: seeded {n:,} cases in {time.perf_counter() - t:.0f} s")
                results[n] = measure(url, chief)
        print(f"queries on {kind}: {big:,} vs 10,000 cases (target: within 2x)")
        for label, small in results[10_000].items():
            large = results[big][label]
            ratio = large / small if small else float("inf")
            ok = ok and ratio <= 2
            print(f"  {label:<48} {small * 1000:8.1f} ms {large * 1000:9.1f} ms  x{ratio:5.2f}"
                  f"  {'ok' if ratio <= 2 else 'MISSED'}")
    return ok
