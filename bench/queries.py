"""Query benchmark (issue 6, point 5): the ledger, searches, the statistics and the API at scale.

Fills a database with generated cases by bulk insert (like ``bench.engine.seed``) —
1,000,000 (``--quick``: 100,000) and 10,000 — spread over ten years and ten stations,
and times, as a station chief of station 1: the ledger's filtered, sorted first page,
a search by a party's name and by an ID number, the statistics of the newest month
(figures, last year's and the charts' numbers, as ``statistics.compute`` gives them, and
the statistics page a browser gets, with the charts drawn), and one API list call.
Target: each within 2x of its time at 10,000 cases. SQLite always; PostgreSQL when
``MEDIATION_BENCH_DATABASE_URL``'s server answers (see ``bench.engine``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import insert, text, update

from bench.engine import postgres_available, scratch_database
from mediation import db, ledger
from mediation import statistics as stats
from mediation.api_tokens import create_token
from mediation.auth import hash_password
from mediation.engine import Engine
from mediation.enums import (
    AgreementKind,
    AgreementStatus,
    Category,
    ClockStatus,
    IntakeSource,
    PartyKind,
    PartyRole,
    Role,
)
from mediation.models import Agreement, Case, CaseClock, Event, Organisation, Party, User, case_search_key
from mediation.services import UnitOfWork
from mediation.snapshots import CATEGORY_LABELS
from mediation.textkeys import name_key, names_pinyin_key, pinyin_key
from mediation.workflow import Registry

END = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
YEARS = 10
STATIONS = 10
STATES = ["resolved"] * 5 + ["performing", "tier1", "tier2", "terminated", "withdrawn", "declined", "registered"]
CATEGORIES = [Category.WAGES, Category.WORK_INJURY, Category.CONTRACT_TERMINATION, Category.LABOUR_SERVICE_PAY]
#: The one applicant searched for by ID number and by name (a surname no generated name has).
ID_NUMBER = "510824196903150379"
PASSWORD = "bench-password"
NAME = "司马建业"
#: Generated names: a common surname and one or two given-name characters (some 600,000
#: different names, so most are rare, as in a real ledger), and a few transliterated ones.
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红志峰宇浩凯健俊帆鹏飞斌波宁欣怡婷雪琳晨阳"
         "东海春梅兰松林森云龙庆福德胜利光荣发祥顺安康永宏新立成金玉珍凤翠彩丹萍燕鑫磊晶晓")
TRANSLITERATED = ("阿卜杜·热合曼", "买买提·吐尔逊", "古丽·艾山", "阿依古丽・买买提")
PLACES = "温溪东村西塘南湖北港青田瓯海龙湾鹿城瑞安乐清永嘉平阳苍南"
TRADES = ("鞋业", "建筑", "服装", "电器", "物流", "餐饮", "五金", "印刷", "家具", "汽配")


def person(i: int) -> str:
    """The applicant of generated case ``i`` (deterministic, spread by a multiplicative hash)."""
    h = (i * 2654435761) % 2**32
    if h % 97 == 0:
        return TRANSLITERATED[h % len(TRANSLITERATED)]
    given = GIVEN[(h >> 8) % len(GIVEN)] + (GIVEN[(h >> 16) % len(GIVEN)] if h % 3 else "")
    return SURNAMES[(h >> 24) % len(SURNAMES)] + given


def company(i: int) -> str:
    """The respondent of generated case ``i``: one of a few hundred enterprises."""
    h = (i * 40503) % 65536
    place = PLACES[2 * (h % (len(PLACES) // 2)):][:2]
    return f"{place}{TRADES[h % len(TRADES)]}{h % 7 or ''}有限公司"


def seed(url: str, cases: int, batch: int = 20_000) -> int:
    """Insert ``STATIONS`` stations, a chief of station 1, and ``cases`` cases with parties, agreements, events
    and the 15-day period of each accepted case.

    The search and sort keys are the product's own (``case_search_key``, ``textkeys``), as
    ``models._keep_keys`` would store them, so the searches read what a real ledger holds.
    """
    engine = db.make_engine(url)
    with engine.begin() as conn:
        orgs = [conn.execute(insert(Organisation).values(name=f"基准派出所{i}", short_name=f"基{i}",
                                                         committee_name="调委会").returning(Organisation.id)
                             ).scalar_one() for i in range(STATIONS)]
        chief = conn.execute(insert(User).values(username="chief", password_hash="x", display_name="所长",
                                                 role=Role.STATION_CHIEF, organisation_id=orgs[0], active=True)
                             .returning(User.id)).scalar_one()
    span = YEARS * 365 * 86400
    planted = cases // 2 // STATIONS * STATIONS  # a case of station 1, the chief's, halfway through
    pinyin: dict[tuple[str, bool], str] = {}

    def sort_key(name: str, person: bool = True) -> str:
        if (name, person) not in pinyin:
            pinyin[name, person] = pinyin_key(name, person=person)
        return pinyin[name, person]

    for start in range(0, cases, batch):
        rows: list[dict[str, Any]] = []
        names: list[tuple[str, str]] = []
        for i in range(start, min(cases, start + batch)):
            filed = END - timedelta(seconds=(i * 7919 % span))
            state = STATES[i % len(STATES)]
            accepted = None if state in ("declined", "registered") else filed + timedelta(hours=4)
            ended = state in ("resolved", "terminated", "withdrawn", "declined")
            closed = filed + timedelta(days=20) if ended else None
            category = CATEGORIES[i % 4]
            applicant, respondent = (NAME if i == planted else person(i)), company(i)
            names.append((applicant, respondent))
            number = f"（{filed.year}）基{i % STATIONS}警调字第{i + 1:07d}号"
            title = f"{applicant}与{respondent}{CATEGORY_LABELS[category.value]}"
            owed = 1000 + i % 9000
            facts = f"申请人{applicant}在{respondent}务工，{filed.year}年{filed.month}月起被拖欠工资{owed}元。"
            claims = "请求支付拖欠的工资。"
            typed = SimpleNamespace(number=number, title=title, facts=facts, claims=claims)
            rows.append({
                "organisation_id": orgs[i % STATIONS], "workflow": "labour", "workflow_version": 1, "state": state,
                "tier": None if accepted is None else 1 + i % 3, "category": category,
                "filed_via": IntakeSource.WALK_IN, "title": title, "facts": facts, "claims": claims,
                "number": number, "number_year": filed.year, "number_seq": i + 1, "tracking_code": f"Q{i:09d}",
                "filed_at": filed, "accepted_at": accepted, "closed_at": closed, "updated_at": filed,
                "risk_flag": False, "version": 1, "search_key": case_search_key(cast(Case, typed)),
                "party_key": names_pinyin_key([applicant]),
            })
        with engine.begin() as conn:
            ids = list(conn.execute(insert(Case).returning(Case.id), rows).scalars())
            parties, agreements, events, clocks = [], [], [], []
            for k, cid in enumerate(ids):
                i = start + k
                row = rows[k]
                org = row["organisation_id"]
                applicant, respondent = names[k]
                parties.append({"case_id": cid, "position": 1, "ref": "a1", "role": PartyRole.APPLICANT,
                                "kind": PartyKind.PERSON, "name": applicant, "size": 1,
                                "name_key": name_key(applicant), "sort_key": sort_key(applicant),
                                "id_number": ID_NUMBER if i == planted else f"{330300 + i % 97:06d}{i:012d}",
                                "phone": f"1{38 + i % 12}{i:08d}"})
                parties.append({"case_id": cid, "position": 2, "ref": "r1", "role": PartyRole.RESPONDENT,
                                "kind": PartyKind.ORGANISATION, "name": respondent, "size": 1,
                                "name_key": name_key(respondent), "sort_key": sort_key(respondent, False),
                                "id_number": None, "phone": None})
                if row["state"] in ("resolved", "performing"):
                    eff = row["filed_at"] + timedelta(days=3 + i % 20)
                    agreements.append({"case_id": cid, "organisation_id": org, "version": 1,
                                       "kind": AgreementKind.WRITTEN if i % 4 else AgreementKind.ORAL,
                                       "status": AgreementStatus.EFFECTIVE, "tier": row["tier"],
                                       "drafted_at": eff, "signed_at": eff, "effective_at": eff})
                at = row["filed_at"]
                events.append({"case_id": cid, "organisation_id": org, "seq": 1, "at": at, "actor_label": "x",
                               "trigger": "file",
                               "from_state": "registered", "to_state": "registered", "data": {}, "prev_hash": "0",
                               "hash": "0"})
                if row["state"] == "resolved":
                    events.append({"case_id": cid, "organisation_id": org, "seq": 2, "at": row["closed_at"],
                                   "actor_label": "x",
                                   "trigger": "record_follow_up", "from_state": "follow_up", "to_state": "resolved",
                                   "data": {}, "prev_hash": "0", "hash": "0"})
                if row["accepted_at"] is not None:  # the 15-day period: stopped by an agreement or the
                    ended = row["state"] in ("resolved", "performing", "terminated", "withdrawn")  # end
                    clocks.append({"case_id": cid, "organisation_id": org, "name": "statutory_period",
                                   "status": ClockStatus.STOPPED if ended else ClockStatus.RUNNING,
                                   "started_on": row["accepted_at"].date(), "paused_days": 0, "provisional": False,
                                   "due_at": row["accepted_at"] + timedelta(days=15)})
            conn.execute(insert(Party), parties)
            if agreements:
                conn.execute(insert(Agreement), agreements)
            conn.execute(insert(Event), events)
            if clocks:
                conn.execute(insert(CaseClock), clocks)
    # As autovacuum leaves a settled database: statistics gathered, PostgreSQL's visibility
    # map set (its index-only scans need it).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    return chief


def _time(fn: Callable[[], Any], repeat: int = 11) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def measure(url: str, chief_id: int) -> dict[str, float]:
    """Seconds (median of 11 warm runs) of each measured query, as the station chief."""
    from web import create_app

    registry = Registry.from_directory()
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    uow = UnitOfWork(factory, Engine(registry))
    with uow:
        secret = create_token(uow, chief_id, "bench", END).secret
    with engine.begin() as conn:  # a password to log in with, for the page
        conn.execute(update(User).where(User.id == chief_id).values(password_hash=hash_password(PASSWORD)))
    with factory() as s:
        chief = s.get(User, chief_id)
        assert chief is not None
        s.expunge(chief)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "NOW": END,
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    browser = app.test_client()
    if browser.post("/login", data={"username": "chief", "password": PASSWORD}).status_code != 302:
        raise RuntimeError("the bench chief could not log in")
    out: dict[str, float] = {}

    def page(filters: ledger.LedgerFilters, found: int | None = None) -> Callable[[], Any]:
        def run() -> Any:
            with factory() as s:
                return ledger.ledger_page(s, registry, chief, filters, END)
        rows = run().rows
        if found is not None and len(rows) != found:  # a search that finds nothing measures nothing
            raise RuntimeError(f"{filters} found {len(rows)} cases, expected {found}")
        return run

    out["ledger first page (tier 2, wages, by filing)"] = _time(page(ledger.LedgerFilters(tier=2, category="wages")))
    out["search by name"] = _time(page(ledger.LedgerFilters(q=NAME, search_in="party"), 1))
    out["search by name in every field"] = _time(page(ledger.LedgerFilters(q=NAME), 1))
    out["search by ID number"] = _time(page(ledger.LedgerFilters(q=ID_NUMBER, search_in="id_number"), 1))

    def figures() -> Any:
        with factory() as s:
            return stats.compute(s, registry, chief, stats.Period.month(2026, 3), now=END)
    out["statistics of the month (figures and charts' numbers)"] = _time(figures)

    def statistics_page() -> Any:
        response = browser.get("/statistics/?month=2026-03")
        if response.status_code != 200:
            raise RuntimeError(f"the statistics page answered {response.status_code}")
        return response
    out["statistics page (the same, charts drawn, HTML)"] = _time(statistics_page)
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
            print(f"  {label:<56} {small * 1000:8.1f} ms {large * 1000:9.1f} ms  x{ratio:5.2f}"
                  f"  {'ok' if ratio <= 2 else 'MISSED'}")
    return ok
