"""The task queue (mediation.tasks, Huey): background renders with progress, the periodic sweep and
deliveries, the post-commit enqueue, a real consumer on the embedded queue and on Redis.

Most tests drive huey by hand (``dequeue`` + ``execute``) so each step can be looked at; two run
real consumer threads. Runs on SQLite and on PostgreSQL (``-m db``); the Redis test skips, saying
why, when no Redis answers at ``MEDIATION_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from mediation import archive, tasks
from mediation import db as dbmod
from mediation.cli import cli
from mediation.enums import ClockStatus, Role
from mediation.models import CaseClock, Document, OutboxMessage
from mediation.services import UnitOfWork, utcnow

from .journeys import Station, open_station

REDIS_URL = os.environ.get("MEDIATION_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def work(database: Any, workflow_engine: Any, tmp_path: Path) -> tasks.TaskContext:
    """The tasks' work on the test database, with a session factory of its own (the queue hooks into it)."""
    return tasks.TaskContext(dbmod.make_session_factory(database.engine), workflow_engine,
                      cache_dir=tmp_path / "documents", notice_log=tmp_path / "notices.log")


@pytest.fixture
def queue(work: tasks.TaskContext, database: Any, tmp_path: Path) -> tasks.TaskQueue:
    """A SQLite-file queue nobody consumes: the tests run its tasks themselves."""
    return tasks.build_queue(f"sqlite:///{tmp_path / 'queue.db'}", database.url, work)


@pytest.fixture
def station(uow: UnitOfWork, session: Any, make_user: Any, organisation: Any) -> Station:
    return open_station(uow, session, make_user, organisation)


def run_pending(queue: tasks.TaskQueue) -> int:
    """Execute every waiting task in this thread, as a consumer's worker would; how many ran."""
    ran = 0
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task)
        ran += 1
    return ran


def dossier_of(station: Station, case_id: int) -> Document:
    def load(s: Any) -> Document:
        doc = s.scalars(select(Document).where(Document.case_id == case_id, Document.kind == "dossier")).one()
        s.expunge(doc)
        return doc

    found: Document = station.read(load)
    return found


def resolved_dossier(station: Station) -> tuple[int, Document]:
    case_id = station.drive_to("labour", "resolved")
    return case_id, dossier_of(station, case_id)


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def wait_for(predicate: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"not done within {timeout} s")
        time.sleep(0.2)


# --- renders -------------------------------------------------------------------------------

def test_a_render_records_each_stage_and_fills_the_cache(station, queue, monkeypatch):
    """queued → preparing → layout (pages counted up) → writing → done; the PDF is the case's dossier."""
    case_id, dossier = resolved_dossier(station)
    assert tasks.renders_in_background("dossier") and not tasks.renders_in_background("agreement")
    recorded: list[tasks.RenderStatus] = []
    put = queue._put
    monkeypatch.setattr(queue, "_put", lambda key, status: (recorded.append(status), put(key, status)))

    first = queue.request_render(dossier)
    assert first.state == tasks.QUEUED and first.percent == 0
    assert queue.render_status(dossier) == first
    assert queue.check() == 1

    assert run_pending(queue) == 1
    states = [s.state for s in recorded]
    assert states[0] == "preparing" and states[-1] == "done"
    assert "layout" in states and "writing" in states
    assert states.index("writing") > max(i for i, s in enumerate(states) if s == "layout")
    layout_pages = [s.pages for s in recorded if s.state == "layout"]
    assert layout_pages == sorted(layout_pages) and layout_pages[0] == 1
    done = queue.render_status(dossier)
    assert done is not None and done.state == tasks.DONE and done.percent == 100
    assert done.pages == len(PdfReader(archive.cache_path(dossier, queue.work.cache_dir)).pages) >= 2
    assert done.queued_at == first.queued_at and done.updated_at >= first.updated_at
    number = station.case(case_id).number
    assert number in pdf_text(archive.document_pdf(dossier, queue.work.cache_dir))


def test_asking_twice_while_it_renders_starts_one_render(station, queue):
    _, dossier = resolved_dossier(station)
    first = queue.request_render(dossier)
    again = queue.request_render(dossier)
    queue.documents_issued([tasks.IssuedDocument(dossier.id, dossier.case_id, dossier.kind, dossier.digest)])
    assert again == first
    assert queue.check() == 1
    assert run_pending(queue) == 1
    assert queue.request_render(dossier).state == tasks.DONE  # recorded: nothing new is queued
    assert queue.check() == 0


def test_a_duplicate_task_finds_the_pdf_made_and_renders_nothing(station, queue, monkeypatch):
    """Two tasks of one document (a retry raced a slow render): the second sees the cache and stops."""
    _, dossier = resolved_dossier(station)
    queue.request_render(dossier)
    queue.render_document(dossier.id)
    renders: list[str] = []
    real = archive.render_pdf
    monkeypatch.setattr(archive, "render_pdf", lambda kind, *a, **k: (renders.append(kind), real(kind, *a, **k))[1])
    assert run_pending(queue) == 2
    assert renders == ["dossier"]
    assert queue.render_status(dossier).state == tasks.DONE


def test_a_failed_render_says_why_and_may_be_retried(station, queue, monkeypatch, caplog):
    _, dossier = resolved_dossier(station)

    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise RuntimeError("font AR PL UMing CN is missing")

    monkeypatch.setattr(archive, "render_pdf", broken)
    queue.request_render(dossier)
    run_pending(queue)
    failed = queue.render_status(dossier)
    assert failed is not None and failed.state == tasks.FAILED and failed.finished
    assert failed.message == tasks.FAILED_RENDER  # a reason for the page; the error itself is in the log
    assert "font AR PL UMing CN is missing" in caplog.text
    assert not archive.is_cached(dossier, queue.work.cache_dir)

    assert queue.request_render(dossier) == failed  # asking again shows the failure; only a retry queues
    assert queue.check() == 0
    monkeypatch.undo()
    retried = queue.retry_render(dossier)
    assert retried.state == tasks.QUEUED and queue.check() == 1
    assert queue.retry_render(dossier) == retried  # a second retry while it waits queues nothing
    assert queue.check() == 1
    run_pending(queue)
    assert queue.render_status(dossier).state == tasks.DONE


def test_a_render_that_stopped_reporting_is_stalled_and_may_be_retried(station, queue):
    _, dossier = resolved_dossier(station)
    now = [1_000_000.0]
    queue.clock = lambda: now[0]
    queue.request_render(dossier)
    queue.huey.flush()  # the worker died with the task: nothing is left to run it
    queue._put(tasks.status_key(dossier.kind, dossier.digest),
               tasks.RenderStatus("layout", 3, queued_at=now[0], updated_at=now[0]))
    now[0] += tasks.STALE_AFTER - 1
    assert not queue.render_status(dossier).stalled(now[0])
    assert queue.retry_render(dossier).state == "layout"  # still working: left alone
    assert queue.check() == 0
    now[0] += 2
    assert queue.render_status(dossier).stalled(now[0])
    assert queue.retry_render(dossier).state == tasks.QUEUED
    assert queue.check() == 1


def asked_on_a_fixed_clock(station: Station,
                           queue: tasks.TaskQueue) -> tuple[Document, list[float], tasks.RenderStatus]:
    """A resolved case's dossier asked for at a clock the test moves (``now[0]``): the dossier, clock, status."""
    _, dossier = resolved_dossier(station)
    now = [1_000_000.0]
    queue.clock = lambda: now[0]
    return dossier, now, queue.request_render(dossier)


def test_a_render_queued_long_with_its_task_waiting_never_stalls(station, queue):
    """Busy workers are no failure: a queued render whose task is still in the queue is not retried."""
    dossier, now, status = asked_on_a_fixed_clock(station, queue)
    now[0] += tasks.STALE_AFTER * 10
    assert not status.stalled(now[0]) and not queue.stalled(dossier, status)
    assert queue.retry_render(dossier) == status  # left alone: no second task
    assert queue.check() == 1


def test_a_render_queued_long_whose_task_was_lost_is_stalled(station, queue):
    dossier, now, status = asked_on_a_fixed_clock(station, queue)
    queue.huey.storage.flush_queue()  # the task is gone (the queue emptied, its worker died)
    assert not queue.stalled(dossier, status)  # not yet: it was asked for a moment ago
    now[0] += tasks.STALE_AFTER + 1
    assert queue.stalled(dossier, status)
    assert queue.retry_render(dossier).state == tasks.QUEUED and queue.check() == 1


def test_a_render_waiting_long_for_a_worker_says_so(station, queue):
    _, dossier = resolved_dossier(station)
    now = [5_000.0]
    queue.clock = lambda: now[0]
    status = queue.request_render(dossier)
    assert not status.waiting_long(now[0] + tasks.SLOW_START)
    assert status.waiting_long(now[0] + tasks.SLOW_START + 1)


def test_a_stored_status_that_is_not_one_reads_as_none(station, queue):
    _, dossier = resolved_dossier(station)
    queue.huey.put(tasks.status_key(dossier.kind, dossier.digest), ["not", "a", "status"])
    assert queue.render_status(dossier) is None
    assert tasks.RenderStatus.from_stored({"state": "layout", "pages": "4"}) == tasks.RenderStatus("layout", 4)
    assert tasks.RenderStatus.from_stored({"state": "layout", "pages": "many"}) is None


def test_a_missing_document_is_logged_and_skipped(queue, caplog):
    queue.render_document(987654)
    assert run_pending(queue) == 1
    assert "there is no document 987654" in caplog.text


# --- enqueue after the commit ---------------------------------------------------------------

def test_closing_a_case_queues_its_dossier_after_the_commit(station, queue, work, workflow_engine):
    """The dossier's render is queued by the session's after-commit hook; the shorter documents are not."""
    hooked = Station(UnitOfWork(work.session_factory, workflow_engine), station.make_user, station.enterprise)
    case_id = hooked.drive_to("labour", "resolved")
    dossier = dossier_of(station, case_id)
    assert queue.check() == 1
    status = queue.render_status(dossier)
    assert status is not None and status.state == tasks.QUEUED
    assert len(station.documents(case_id)) > 1  # the agreement and the rest were not queued
    run_pending(queue)
    assert archive.is_cached(dossier, work.cache_dir)


def test_a_rolled_back_transaction_queues_nothing(station, queue, work, workflow_engine):
    """Documents flushed in a transaction that then rolls back are forgotten, even if the session commits later."""
    from mediation.errors import ConflictError
    from mediation.services import fire

    from .journeys import DATA

    class CommitFails(UnitOfWork):
        def commit(self) -> None:
            self.session.flush()
            raise ConflictError("lost the race")

    case_id = station.drive_to("labour", "follow_up")
    failing = CommitFails(work.session_factory, workflow_engine)
    with failing:
        with pytest.raises(ConflictError):
            fire(failing, case_id, "record_follow_up", station.user(Role.STATION_CHIEF).id,
                 DATA["record_follow_up"])
        failing.session.rollback()
        failing.session.commit()
    assert "dossier" not in station.documents(case_id)
    assert queue.check() == 0


def test_a_queue_that_cannot_be_reached_does_not_stop_the_case_closing(station, work, database, workflow_engine,
                                                                     caplog):
    tasks.build_queue("redis://127.0.0.1:1/0", database.url, work)  # nothing listens on port 1
    hooked = Station(UnitOfWork(work.session_factory, workflow_engine), station.make_user, station.enterprise)
    case_id = hooked.drive_to("labour", "resolved")
    assert "dossier" in station.documents(case_id)
    assert "was not queued for rendering" in caplog.text and "cannot be reached" in caplog.text


# --- periodic tasks ----------------------------------------------------------------------------

def test_the_sweep_and_deliveries_run_every_minute(queue):
    due = {type(t).__name__ for t in queue.huey.read_periodic(datetime(2026, 3, 2, 9, 17))}
    assert due == {"sweep", "deliver"}


def test_renders_go_before_the_periodic_tasks_which_expire(station, queue):
    """A backlog of sweeps and deliveries neither delays a render nor runs once per missed minute."""
    _, dossier = resolved_dossier(station)
    for _ in range(3):
        queue.huey.enqueue(queue.sweep.s())
    queue.request_render(dossier)
    assert queue.huey.dequeue().name == "render_document"
    stale = queue.huey.dequeue()
    assert stale.name == "sweep" and stale.expires == tasks.PERIODIC_EXPIRES
    stale.expires_resolved = queue.huey._get_timestamp() - timedelta(seconds=1)  # queued over a minute ago
    assert queue.huey.execute(stale) is None
    assert queue.huey.execute(queue.huey.dequeue()) == 0  # a fresh one runs: no clock has lapsed


def test_one_consumer_of_a_queue_on_this_host_schedules(work, database, tmp_path):
    """Several web processes (and a worker) on one embedded queue: the first to start schedules, the
    others consume renders only; when it stops another may take over."""
    url = f"sqlite:///{tmp_path / 'shared-queue.db'}"
    first, second = (tasks.build_queue(url, database.url, work) for _ in range(2))
    first.start_in_process(1)
    try:
        second.start_in_process(1)
        try:
            assert first.scheduling and not second.scheduling
            assert first._consumer.periodic and not second._consumer.periodic
        finally:
            second.stop()
    finally:
        first.stop()
    assert not first.scheduling
    worker = second.consumer(1)
    assert second.scheduling and worker.periodic
    second.release_scheduler()
    assert not second.consumer(1, periodic=False).periodic and not second.scheduling


def test_old_render_statuses_are_forgotten_daily(station, queue):
    _, dossier = resolved_dossier(station)
    now = [1_000_000.0]
    queue.clock = lambda: now[0]
    queue.request_render(dossier)
    run_pending(queue)
    queue.huey.put("render:junk", "not a status")
    queue.huey.put("something-else", {"kept": True})
    due = {t.name for t in queue.huey.read_periodic(datetime(2026, 3, 2, 3, 17))}
    assert due == {"sweep", "deliver", "forget_renders"}
    now[0] += tasks.FORGET_AFTER_DAYS * 86400 - 60
    assert queue._forget_renders() == 1  # only the junk entry: the status is a few days old
    assert queue.render_status(dossier).state == tasks.DONE
    now[0] += 120
    assert queue._forget_renders() == 1
    assert queue.render_status(dossier) is None
    assert queue.huey.get("something-else", peek=True) == {"kept": True}
    assert queue.request_render(dossier).state == tasks.QUEUED  # asked for again: the render is queued anew


def test_the_periodic_sweep_acts_on_a_lapsed_clock(station, queue):
    """The task calls services.sweep: the 3-day tier-1 clock of a case accepted a month ago lapses."""
    long_ago = utcnow() - timedelta(days=30)
    case_id = station.file("labour", now=long_ago).case_id
    station.fire(case_id, "accept", {"severity": "simple"}, now=long_ago)
    running = station.read(lambda s: s.scalars(select(CaseClock).where(CaseClock.case_id == case_id,
                                                                        CaseClock.status == ClockStatus.RUNNING)).all())
    assert running
    queue.sweep()  # enqueue the periodic task now, as the scheduler does each minute
    assert run_pending(queue) == 1
    clocks = station.read(lambda s: s.scalars(select(CaseClock).where(CaseClock.case_id == case_id)).all())
    assert {c.name: c.status for c in clocks if c.name in {r.name for r in running}} == {
        r.name: ClockStatus.EXPIRED for r in running
    }
    triggers = [e.trigger for e in station.events(case_id)]
    assert "clock_expired" in triggers or triggers.count("escalate") == 1
    queue.sweep()
    run_pending(queue)
    assert [e.trigger for e in station.events(case_id)] == triggers  # a second sweep changes nothing


def test_the_periodic_delivery_delivers_the_outbox(station, queue, work):
    case_id = station.file("labour").case_id
    pending = station.read(lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all())
    assert pending and all(m.delivered_at is None for m in pending)
    queue.deliver()
    assert run_pending(queue) == 1
    delivered = station.read(lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all())
    assert all(m.delivered_at is not None for m in delivered)
    lines = [json.loads(line) for line in work.notice_log.read_text(encoding="utf-8").splitlines()]
    assert {line["case_id"] for line in lines} == {case_id}


def test_two_workers_sweeping_at_once_act_once_on_each_clock(station, queue):
    """No queue lock guards the periodic tasks: the sweep itself takes each clock once (SKIP LOCKED / one writer)."""
    long_ago = utcnow() - timedelta(days=30)
    case_ids = []
    for _ in range(4):
        case_ids.append(station.file("labour", now=long_ago).case_id)
        station.fire(case_ids[-1], "accept", {"severity": "simple"}, now=long_ago)
    due = station.read(lambda s: len(s.scalars(select(CaseClock).where(CaseClock.status == ClockStatus.RUNNING)).all()))
    acted: list[int] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        acted.append(queue.sweep.call_local())

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(acted) == due and len(acted) == 2
    lapses = [e for case_id in case_ids for e in station.events(case_id) if e.trigger in ("clock_expired", "escalate")]
    assert len(lapses) == due


# --- real consumers ------------------------------------------------------------------------------

def test_the_in_process_consumer_renders_in_the_background(station, queue):
    """The embedded default: huey's consumer in threads of this process, with the periodic tasks too."""
    case_id, dossier = resolved_dossier(station)
    assert queue.request_render(dossier).state == tasks.QUEUED
    queue.start_in_process(2)
    try:
        assert queue.consuming
        wait_for(lambda: queue.render_status(dossier).state in (tasks.DONE, tasks.FAILED))
        assert queue.render_status(dossier).state == tasks.DONE
        assert station.case(case_id).number in pdf_text(archive.document_pdf(dossier, queue.work.cache_dir))
        # The scheduler enqueues the sweep and the deliveries on its first round: the outbox gets delivered.
        wait_for(lambda: all(m.delivered_at is not None for m in station.outbox(case_id)), timeout=30)
    finally:
        queue.stop()
    assert not queue.consuming


@pytest.fixture
def redis_queue(work: tasks.TaskContext, database: Any) -> Iterator[tasks.TaskQueue]:
    """A Redis queue under a name of its own (so parallel test processes never share tasks)."""
    queue = tasks.build_queue(REDIS_URL, database.url, work, name=f"mediation_test_{uuid.uuid4().hex[:12]}")
    try:
        queue.check()
    except tasks.QueueUnavailable as exc:
        pytest.skip(f"no Redis to test against: {exc}")
    yield queue
    queue.stop()
    queue.huey.flush()  # its queue, schedule and stored statuses


def test_a_consumer_on_redis_renders_in_the_background(station, redis_queue):
    case_id, dossier = resolved_dossier(station)
    assert redis_queue.request_render(dossier).state == tasks.QUEUED
    assert redis_queue.request_render(dossier).state == tasks.QUEUED
    assert redis_queue.check() == 1
    redis_queue.start_in_process(1, periodic=False)
    wait_for(lambda: redis_queue.render_status(dossier).state in (tasks.DONE, tasks.FAILED))
    done = redis_queue.render_status(dossier)
    assert done.state == tasks.DONE and done.pages >= 2
    assert station.case(case_id).number in pdf_text(archive.document_pdf(dossier, redis_queue.work.cache_dir))


# --- configuration and the command line ------------------------------------------------------------

def test_the_embedded_queue_lives_beside_the_database(tmp_path):
    assert tasks.embedded_queue_path(f"sqlite:///{tmp_path}/mediation.db") == tmp_path / "mediation-queue.db"
    assert tasks.embedded_queue_path("sqlite://") is None
    named = tasks.embedded_queue_path("postgresql+psycopg://u:p@db/mediation")
    assert named is not None and named.parent == dbmod.INSTANCE_DIR and named.name.startswith("queue-")


def test_an_unknown_queue_url_is_refused_naming_the_variable(work, database):
    with pytest.raises(tasks.QueueError, match="MEDIATION_QUEUE_URL: 'ftp://u:\\*\\*\\*@x/q' is not a queue URL"):
        tasks.build_queue("ftp://u:secret@x/q", database.url, work)


def test_the_worker_command_says_when_the_queue_cannot_be_reached(database):
    result = CliRunner().invoke(cli, ["worker", "--queue", "redis://127.0.0.1:1/0", "--database", database.url])
    assert result.exit_code == 1
    assert "the task queue redis://127.0.0.1:1/0 cannot be reached" in result.output


def test_the_worker_command_refuses_an_unknown_queue(database, monkeypatch):
    """The message names where the URL came from: the option, else the variable."""
    result = CliRunner().invoke(cli, ["worker", "--queue", "amqp://rabbit/", "--database", database.url])
    assert result.exit_code == 1
    assert "Error: --queue: 'amqp://rabbit/' is not a queue URL" in result.output
    assert "MEDIATION_QUEUE_URL" not in result.output
    monkeypatch.setenv("MEDIATION_QUEUE_URL", "garbage")
    from_env = CliRunner().invoke(cli, ["worker", "--database", database.url])
    assert from_env.exit_code == 1
    assert from_env.output == ("Error: MEDIATION_QUEUE_URL: 'garbage' is not a queue URL: write redis://host:6379/0 "
                               "(rediss:// for TLS) or sqlite:///path/queue.db, or leave it unset for the embedded "
                               "queue\n")


@pytest.mark.parametrize(("queue_url", "message"), [
    ("", "Error: --queue: the queue URL is empty"),
    ("   ", "Error: --queue: the queue URL is empty"),
    ("garbage", "Error: --queue: 'garbage' is not a queue URL"),
    ("sqlite:////proc/q.db", "Error: --queue: the queue file sqlite:////proc/q.db cannot be opened"),
    ("redis://127.0.0.1:6379/abc", "Error: --queue: the Redis database 'abc' in 'redis://127.0.0.1:6379/abc' "
                                   "is not a number"),
    ("redis://127.0.0.1:6379/0?db=x", "Error: --queue: the Redis database 'x'"),
    ("unix:///run/redis.sock?db=two", "Error: --queue: the Redis database 'two'"),
    ("memory://", "Error: --queue: memory:// is a queue private to one process: a worker cannot consume a private "
                  "in-memory queue"),
])
def test_the_worker_command_refuses_a_queue_it_cannot_use_in_one_line(database, queue_url, message):
    result = CliRunner().invoke(cli, ["worker", "--queue", queue_url, "--database", database.url])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(message) and result.output.count("\n") == 1, result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output


def test_a_redis_database_number_is_taken_as_given():
    huey, shown, _local = tasks.make_huey("redis://127.0.0.1:6379/7", "sqlite://")
    assert shown == "redis://127.0.0.1:6379/7"
    assert huey.storage.conn.connection_pool.connection_kwargs["db"] == 7
    unix, _shown, _local = tasks.make_huey("unix:///run/redis.sock?db=3", "sqlite://")
    assert unix.storage.conn.connection_pool.connection_kwargs["db"] == 3


def test_checking_a_queue_url_opens_no_connection_and_names_its_source(tmp_path):
    assert tasks.check_queue_url(f"sqlite:///{tmp_path / 'q.db'}", "sqlite://") == f"sqlite:///{tmp_path / 'q.db'}"
    assert tasks.check_queue_url("redis://127.0.0.1:1/0", "sqlite://") == "redis://127.0.0.1:1/0"  # nobody there
    with pytest.raises(tasks.QueueError, match=r"^MEDIATION_QUEUE_URL: the queue URL is empty"):
        tasks.check_queue_url("", "sqlite://")
    with pytest.raises(tasks.QueueError, match=r"^--queue: 'x' is not a queue URL"):
        tasks.check_queue_url("x", "sqlite://", source="--queue")


def test_the_worker_command_needs_a_migrated_database(tmp_path):
    result = CliRunner().invoke(cli, ["worker", "--database", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1
    assert "run `mediation db upgrade` first" in result.output


def test_a_redis_queue_hides_its_password_and_takes_priorities():
    huey, shown, local = tasks.make_huey("redis://:s3cret@redis.internal:6379/0", "sqlite://")
    assert shown == "redis://:***@redis.internal:6379/0" and not local
    assert huey.storage.priority  # huey's sorted-set queue: renders first


def test_issued_documents_outside_long_kinds_are_not_queued(queue):
    queue.documents_issued([tasks.IssuedDocument(1, 1, "agreement", "ab" * 32)])
    assert queue.check() == 0


def test_a_pdf_that_cannot_be_stored_fails_as_a_write_leaving_no_part_file(station, queue, caplog):
    """The cache entry is a folder (the tester's IsADirectoryError): the status says "write", the log has
    the error with its paths, and the temporary ``.part`` file is gone."""
    _, dossier = resolved_dossier(station)
    target = archive.cache_path(dossier, queue.work.cache_dir)
    target.mkdir(parents=True)
    queue.request_render(dossier)
    run_pending(queue)
    failed = queue.render_status(dossier)
    assert failed is not None and failed.state == tasks.FAILED and failed.message == tasks.FAILED_WRITE
    assert "IsADirectoryError" in caplog.text and str(target.parent) in caplog.text
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no .part file left behind
    expected = re.escape(f"document cache {target.parent}: IsADirectoryError")
    with pytest.raises(archive.CacheError, match=expected) as info:
        archive.document_pdf(dossier, queue.work.cache_dir)
    assert isinstance(info.value, OSError) and isinstance(info.value.__cause__, IsADirectoryError)
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_the_verification_address_is_part_of_the_cache_key(station, queue, monkeypatch):
    """Another MEDIATION_VERIFY_BASE_URL renders anew: the old PDF's QR code points at the old address."""
    _, dossier = resolved_dossier(station)
    rendered_for: list[str | None] = []
    real_render = archive.render_pdf

    def spy(*args: Any, verify_base: str | None = None, **kwargs: Any) -> bytes:
        rendered_for.append(verify_base)
        return real_render(*args, verify_base=verify_base, **kwargs)

    monkeypatch.setattr(archive, "render_pdf", spy)
    monkeypatch.setenv("MEDIATION_VERIFY_BASE_URL", "https://old.example.cn")
    old_path = archive.cache_path(dossier, queue.work.cache_dir)
    old_key = tasks.status_key(dossier.kind, dossier.digest)
    old = archive.document_pdf(dossier, queue.work.cache_dir)
    assert archive.document_pdf(dossier, queue.work.cache_dir) == old  # cached: not rendered again
    monkeypatch.setenv("MEDIATION_VERIFY_BASE_URL", "https://verify.example.cn/")
    new_path = archive.cache_path(dossier, queue.work.cache_dir)
    assert new_path != old_path and tasks.status_key(dossier.kind, dossier.digest) != old_key
    assert not archive.is_cached(dossier, queue.work.cache_dir)
    new = archive.document_pdf(dossier, queue.work.cache_dir)
    assert old_path.is_file() and new_path.is_file() and new != old  # another QR code
    assert rendered_for == ["https://old.example.cn", "https://verify.example.cn"]
    assert archive.fingerprint("https://verify.example.cn") == archive.fingerprint()  # the trailing / is dropped


def test_progress_is_reported_by_stage_and_not_after_a_failure(station, queue, monkeypatch):
    """The render holds the process-wide render lock: a slow or failing store is not asked on every page."""
    _, dossier = resolved_dossier(station)
    heard: list[tuple[str, int]] = []
    monkeypatch.setattr(archive, "REPORT_EVERY", 3600.0)  # no page reports within a stage
    archive.document_pdf(dossier, queue.work.cache_dir, progress=lambda stage, pages: heard.append((stage, pages)))
    assert [stage for stage, _ in heard] == ["preparing", "layout", "writing"]
    assert heard[1][1] == 1 and heard[2][1] >= 2  # the writing stage carries the final page count
    archive.cache_path(dossier, queue.work.cache_dir).unlink()

    calls = []

    def down(stage: str, pages: int) -> None:
        calls.append(stage)
        raise OSError("Redis is down")

    pdf = archive.document_pdf(dossier, queue.work.cache_dir, progress=down)
    assert calls == ["preparing"] and pdf.startswith(b"%PDF")
