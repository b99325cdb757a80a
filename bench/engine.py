"""Engine benchmark (issue 3, point 8).

1. Fires per second through ``services.fire`` against the same work written by hand
   (UPDATE with a version check + INSERT of the hash-chained event, one transaction
   each), on SQLite and PostgreSQL, one connection and 4 concurrent threads.
   Target: the engine reaches at least half the hand-written rate.
2. Memory growth while the engine decides for 100,000 distinct cases.
   Target: at most 20 MB per 100,000 cases.
3. Sweep time with 1,000,000 stored cases of which 1,000 are due, against 10,000 stored.
   Target: within 2x.

PostgreSQL is used when ``MEDIATION_BENCH_DATABASE_URL`` names a server database the
benchmark may create scratch databases on (default ``postgresql+psycopg://postgres@127.0.0.1/postgres``);
it is skipped with a message when the server does not answer.
"""

from __future__ import annotations

import gc
import hashlib
import os
import resource
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine as SAEngine
from sqlalchemy import create_engine, insert, select, text

from mediation import db
from mediation.engine import Engine
from mediation.enums import Category, ClockStatus, IntakeSource, Role, Severity
from mediation.models import Case, CaseClock, Event, Organisation, User
from mediation.services import GENESIS_HASH, UnitOfWork, fire, sweep
from mediation.workflow import Registry, canonical_json

PG_SERVER = os.environ.get("MEDIATION_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _line(label: str, value: str) -> None:
    print(f"  {label:<58} {value}")


@contextmanager
def scratch_database(kind: str) -> Iterator[str]:
    """A fresh, migrated database of ``kind`` (sqlite/postgresql); dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            db.upgrade(url)
            yield url
        return
    name = f"mediation_bench_{os.getpid()}_{int(time.time())}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        db.upgrade(url)
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def postgres_available() -> bool:
    """True when the benchmark's PostgreSQL server answers."""
    try:
        engine = create_engine(PG_SERVER)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def seed(engine: SAEngine, cases: int, due: int = 0, batch: int = 20_000) -> tuple[int, list[int]]:
    """Insert an organisation, an officer and ``cases`` cases in tier 2 (fast bulk insert).

    The first ``due`` cases get a statutory clock already due; the rest a clock due in a
    year. Returns the officer's id and the case ids.
    """
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Organisation).values(name="基准派出所", short_name="基准", committee_name="基准调委会",
                                        case_number_pattern="（{year}）{short_name}警调字第{seq:06d}号")
            .returning(Organisation.id)
        ).scalar_one()
        officer = conn.execute(
            insert(User).values(username="bench", password_hash="x", display_name="基准民警",
                                role=Role.LIAISON_OFFICER, organisation_id=org_id, active=True)
            .returning(User.id)
        ).scalar_one()
    ids: list[int] = []
    for start in range(0, cases, batch):
        rows = [
            {
                "organisation_id": org_id, "workflow": "labour", "workflow_version": 1, "state": "tier2",
                "tier": 2, "severity": Severity.GENERAL, "category": Category.WAGES,
                "filed_via": IntakeSource.WALK_IN, "title": f"基准案件{i}", "facts": "", "claims": "",
                "number": f"B{i:08d}", "number_year": 2026, "number_seq": i + 1, "tracking_code": f"T{i:09d}",
                "filed_at": NOW, "accepted_at": NOW, "updated_at": NOW, "risk_flag": False, "version": 1,
            }
            for i in range(start, min(cases, start + batch))
        ]
        with engine.begin() as conn:
            new_ids = list(conn.execute(insert(Case).returning(Case.id), rows).scalars())
            clocks = [
                {
                    "case_id": cid, "organisation_id": org_id, "name": "statutory_period",
                    "status": ClockStatus.RUNNING,
                    "started_on": NOW.date(), "paused_days": 0, "provisional": False,
                    "due_at": NOW - timedelta(hours=1) if start + k < due else NOW + timedelta(days=365),
                }
                for k, cid in enumerate(new_ids)
            ]
            conn.execute(insert(CaseClock), clocks)
        ids.extend(new_ids)
    return officer, ids


# --- 1. fires per second ---------------------------------------------------------------

def _engine_fire(uow_factory: Callable[[], UnitOfWork], officer: int) -> Callable[[int, int], None]:
    def do(case_id: int, n: int) -> None:
        uow = uow_factory()
        with uow:
            fire(uow, case_id, "add_note", officer, {"note": f"记录{n}"}, now=NOW)

    return do


def _hand_fire(engine: SAEngine, officer: int) -> Callable[[int, int], None]:
    """The same work by hand: version-checked UPDATE and the hash-chained INSERT."""
    state: dict[int, tuple[int, int, str]] = {}
    lock = threading.Lock()
    with engine.connect() as conn:
        station = conn.execute(select(User.organisation_id).where(User.id == officer)).scalar_one()

    def do(case_id: int, n: int) -> None:
        with lock:
            version, seq, prev = state.get(case_id, (1, 0, GENESIS_HASH))
        data = {"note": f"记录{n}"}
        fields = {"case_id": case_id, "seq": seq + 1, "at": NOW.isoformat(), "actor_id": officer,
                  "trigger": "add_note", "from": "tier2", "to": "tier2", "data": data, "reason": None,
                  "prev_hash": prev}
        digest = hashlib.sha256(canonical_json(fields).encode()).hexdigest()
        with engine.begin() as conn:
            updated = conn.execute(
                text("UPDATE cases SET version = :v + 1, updated_at = :at WHERE id = :id AND version = :v"),
                {"v": version, "at": NOW if engine.dialect.name != "sqlite" else NOW.replace(tzinfo=None),
                 "id": case_id},
            ).rowcount
            if updated != 1:
                raise RuntimeError("stale version in the baseline")
            conn.execute(
                insert(Event).values(case_id=case_id, organisation_id=station, seq=seq + 1, at=NOW, actor_id=officer,
                                     actor_label="基准民警",
                                     trigger="add_note", from_state="tier2", to_state="tier2", data=data,
                                     reason=None, prev_hash=prev, hash=digest)
            )
        with lock:
            state[case_id] = (version + 1, seq + 1, digest)

    return do


def _rate(do: Callable[[int, int], None], case_ids: list[int], fires: int, threads: int) -> float:
    """Fires per second with ``threads`` workers, each on its own cases."""
    per = fires // threads
    shares = [case_ids[i::threads] for i in range(threads)]

    def work(mine: list[int]) -> None:
        for n in range(per):
            do(mine[n % len(mine)], n)

    workers = [threading.Thread(target=work, args=(share,)) for share in shares]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return per * threads / (time.perf_counter() - start)


def fire_rates(kind: str, fires: int) -> bool:
    """Engine vs hand-written fires per second on one database kind; True when on target."""
    ok = True
    with scratch_database(kind) as url:
        engine = db.make_engine(url, pool_size=8) if kind == "postgresql" else db.make_engine(url)
        officer, ids = seed(engine, 200)
        workflows = Engine(Registry.from_directory())
        factory = db.make_session_factory(engine)
        engine_do = _engine_fire(lambda: UnitOfWork(factory, workflows), officer)
        hand_do = _hand_fire(engine, officer)
        for threads in (1, 4):
            half = len(ids) // 2
            hand = _rate(hand_do, ids[:half], fires, threads)
            ours = _rate(engine_do, ids[half:], fires, threads)
            ratio = ours / hand
            ok = ok and ratio >= 0.5
            _line(f"{kind}, {threads} connection(s): engine {ours:,.0f}/s, by hand {hand:,.0f}/s",
                  f"ratio {ratio:.2f} (target >= 0.50) {'OK' if ratio >= 0.5 else 'MISSED'}")
        engine.dispose()
    return ok


# --- 2. memory -------------------------------------------------------------------------

def memory_growth(cases: int) -> bool:
    """Memory kept after the engine decided for ``cases`` distinct cases; True when on target."""
    registry = Registry.from_directory()
    workflows = Engine(registry)
    labour = registry.get("labour")

    def decide(i: int) -> None:
        case = Case(id=i, workflow="labour", workflow_version=1, state="tier2", tier=2)
        workflows.next_state(labour, case, "add_note", {"note": "x"})
        workflows.available(labour, case)

    for i in range(1000):  # warm up caches before measuring
        decide(i)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(cases):
        decide(1000 + i)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grown = (after - before) / 1e6 * 100_000 / cases
    ok = grown <= 20
    _line(f"memory kept after {cases:,} cases (traced), per 100,000", f"{grown:.2f} MB (target <= 20) "
          f"{'OK' if ok else 'MISSED'}; peak RSS grew {(rss_after - rss_before) / 1024:.1f} MB")
    return ok


# --- 3. sweep --------------------------------------------------------------------------

def sweep_time(kind: str, stored: int, due: int) -> float:
    """Seconds for the sweep to act on ``due`` clocks among ``stored`` cases."""
    with scratch_database(kind) as url:
        engine = db.make_engine(url)
        seed(engine, stored, due=due)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        uow = UnitOfWork(db.make_session_factory(engine), Engine(Registry.from_directory()))
        start = time.perf_counter()
        acted = 0
        while True:
            with uow:
                batch = sweep(uow, now=NOW)
            acted += len(batch)
            if not batch:
                break
        elapsed = time.perf_counter() - start
        engine.dispose()
    if acted != due:
        raise RuntimeError(f"the sweep acted on {acted} clocks, expected {due}")
    return elapsed


def sweep_scaling(kind: str, small: int, large: int, due: int) -> bool:
    """Sweep time with ``large`` stored against ``small`` stored; True when within 2x."""
    t_small = sweep_time(kind, small, due)
    t_large = sweep_time(kind, large, due)
    ratio = t_large / t_small
    ok = ratio <= 2
    _line(f"{kind} sweep of {due:,} due: {large:,} stored {t_large:.2f}s, {small:,} stored {t_small:.2f}s",
          f"ratio {ratio:.2f} (target <= 2.00) {'OK' if ok else 'MISSED'}")
    return ok


def run(quick: bool = False) -> bool:
    """Run the engine benchmark; prints one line per figure; True when every target is met."""
    print("Engine benchmark" + (" (quick)" if quick else ""))
    kinds = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    if "postgresql" not in kinds:
        print(f"  PostgreSQL at {PG_SERVER} does not answer: PostgreSQL figures skipped")
    ok = True
    for kind in kinds:
        ok = fire_rates(kind, 400 if quick else 2000) and ok
    ok = memory_growth(10_000 if quick else 100_000) and ok
    for kind in kinds:
        ok = sweep_scaling(kind, 10_000, 50_000 if quick else 1_000_000, 1_000) and ok
    return ok
