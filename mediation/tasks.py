"""The task queue (任务队列): long documents rendered in the background, the sweep and the deliveries.

Huey runs the tasks; where its queue lives is ``MEDIATION_QUEUE_URL`` (the web app's
``QUEUE_URL``):

- ``redis://host:6379/0`` (also ``rediss://``, ``unix://``): a ``RedisHuey`` for production on
  several hosts; ``mediation worker`` runs its consumer on any host that reaches Redis, the
  database and the document cache (``MEDIATION_DOCUMENT_CACHE``, shared storage when the web
  processes are on other hosts).
- ``sqlite:///path/queue.db``: a ``SqliteHuey`` in that file (one host), consumed like the embedded one.
- unset, the embedded default: a ``SqliteHuey`` in a file beside the SQLite database
  (``instance/mediation-queue.db``), consumed by threads inside each web process
  (``TaskQueue.start_in_process``); ``mediation worker`` may consume it as well.

Tasks:

- ``render_document(document_id)`` renders a document's PDF into the archive cache
  (``archive.document_pdf``) and records its progress (渲染进度) in huey's key-value store under
  ``render:<cache name>``: queued → preparing → layout (pages laid out) → writing → done, or
  failed with a reason (``FAILED_WRITE``, ``FAILED_RENDER``; the error itself goes to the log).
  Every web process reads it there. Asking for a render that is already queued or running starts
  no second one (``put_if_empty`` claims the key).
- ``sweep`` every minute: ``services.sweep`` in batches, as ``mediation sweep`` does.
- ``deliver`` every minute: ``delivery.deliver``, as ``mediation deliver`` does.
- ``forget_renders`` daily at 03:17: removes render statuses not updated for ``FORGET_AFTER_DAYS``
  days (the PDF stays in the cache; a status is only needed while a render runs or just after).

Renders go first (``RENDER_PRIORITY``; Redis uses huey's priority storage, which needs Redis 5).
The periodic tasks expire ``PERIODIC_EXPIRES`` seconds after they were queued: when a slow
delivery holds the workers, the runs that piled up behind it are dropped, not run one after another.

Where the scheduler runs: a consumer schedules the periodic tasks only while it holds the
scheduler lock, a file beside a queue on this host (``<queue file>.scheduler.lock``): of the
web processes and ``mediation worker`` consuming one embedded queue, one schedules. On Redis
each ``mediation worker`` schedules unless started with ``--no-periodic`` (run one with it on;
duplicates are harmless, see below, and expire).

Both periodic tasks are safe when several workers (or the consumers of several web processes)
run them at once: rows are taken with SKIP LOCKED on PostgreSQL, SQLite lets one writer at a
time, and running either twice changes nothing. No queue lock guards them, so a worker killed
mid-run leaves nothing behind that would stop the next run.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer, ConsumerStopped
from huey.storage import SqliteStorage
from redis import ConnectionPool
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from . import archive
from .db import INSTANCE_DIR, normalise_url
from .delivery import DEFAULT_LOG

try:
    import fcntl
except ImportError:  # pragma: no cover  # not on Windows: every consumer schedules
    fcntl = None  # type: ignore[assignment]
from .engine import Engine
from .errors import MediationError
from .models import Document
from .services import ISSUED_HOOK, IssuedDocument, UnitOfWork

log = logging.getLogger(__name__)

#: The environment variable naming the queue (``redis://…`` or ``sqlite:///…``); unset: the embedded queue.
ENV_URL = "MEDIATION_QUEUE_URL"
#: Huey's name for the queue (Redis keys ``huey.*.mediation``; give each installation its own Redis db).
QUEUE_NAME = "mediation"
#: Kinds rendered in the background when their PDF is not cached: the dossier (卷宗) holds every document of
#: the case in one file. Other documents are one or two pages and render while the request waits.
LONG_KINDS = frozenset({"dossier"})
#: A running render that has reported nothing for this many seconds has stopped (its worker was killed), as
#: has a queued one whose task is no longer in the queue: it may be retried. A queued render whose task
#: still waits is never stalled.
STALE_AFTER = 300.0
#: Seconds after which a queued sweep or delivery that no worker took is dropped (the next minute queues another).
PERIODIC_EXPIRES = 60
#: Renders are taken before the periodic tasks (higher first; huey's default is 0).
RENDER_PRIORITY = 10
#: Render statuses not updated for this many days are removed by the daily ``forget_renders`` task.
FORGET_AFTER_DAYS = 7
#: Queued this many seconds with no worker taking it: the page says the worker may be busy or stopped.
SLOW_START = 30.0
#: Clocks the sweep acts on per transaction.
SWEEP_BATCH = 500

QUEUED, DONE, FAILED = "queued", "done", "failed"
#: Why a render failed (``RenderStatus.message`` of a failed one): the PDF could not be stored in the
#: document cache; it could not be rendered; it stopped without finishing; the queue cannot be reached.
#: The web pages say each in the user's language; the error itself is only in the log.
FAILED_WRITE, FAILED_RENDER, FAILED_STALLED, FAILED_UNREACHABLE = "write", "render", "stalled", "unreachable"
#: The states of a render a worker is working on: only these can stall.
RUNNING = frozenset({archive.PREPARING, archive.LAYOUT, archive.WRITING})
#: The states of a render in order, and how far along each is (per cent) for the progress bar.
PERCENT: Mapping[str, int] = {QUEUED: 0, archive.PREPARING: 10, archive.LAYOUT: 40, archive.WRITING: 85, DONE: 100}
#: What a storage raises when Redis or the SQLite file cannot be used.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (RedisError, sqlite3.Error, OSError)


class QueueError(MediationError):
    """The task queue (任务队列) URL is not one this module knows, or cannot be used here; the message names
    where it came from (``MEDIATION_QUEUE_URL`` or ``--queue``)."""


class QueueUnavailable(MediationError):
    """The task queue's (任务队列) storage (Redis, the SQLite file) cannot be reached; the message says
    which and why."""


@dataclass(frozen=True)
class RenderStatus:
    """How the background render of one document goes (渲染进度), as stored in the queue.

    ``state`` is ``queued``, ``preparing``, ``layout``, ``writing``, ``done`` or ``failed``;
    ``pages`` the pages laid out so far; ``message`` why a render failed (``FAILED_WRITE``,
    ``FAILED_RENDER``, ``FAILED_STALLED``, ``FAILED_UNREACHABLE``; never the error's text, which is logged);
    ``queued_at`` and ``updated_at`` are Unix times in seconds.
    """

    state: str
    pages: int = 0
    message: str = ""
    queued_at: float = 0.0
    updated_at: float = 0.0

    @property
    def finished(self) -> bool:
        """Done or failed: nothing is working on it any more."""
        return self.state in (DONE, FAILED)

    def stalled(self, now: float) -> bool:
        """Running (preparing, laying out, writing) and nothing reported for ``STALE_AFTER`` seconds at
        Unix time ``now``: its worker died. A queued render waits for a worker however long it takes
        (``TaskQueue.stalled`` also finds a queued one whose task was lost)."""
        return self.state in RUNNING and now - self.updated_at > STALE_AFTER

    def waiting_long(self, now: float) -> bool:
        """Still queued ``SLOW_START`` seconds after it was asked for."""
        return self.state == QUEUED and now - self.queued_at > SLOW_START

    @property
    def percent(self) -> int:
        """0–100 for the progress bar, by stage."""
        return PERCENT.get(self.state, 0)

    def as_dict(self) -> dict[str, Any]:
        """Plain values, as stored."""
        return asdict(self)

    @classmethod
    def from_stored(cls, raw: Any) -> RenderStatus | None:
        """The status stored as ``raw`` (``as_dict``), or None when nothing usable is there."""
        if not isinstance(raw, dict) or not isinstance(raw.get("state"), str):
            return None
        try:
            return cls(
                state=raw["state"], pages=int(raw.get("pages") or 0), message=str(raw.get("message") or ""),
                queued_at=float(raw.get("queued_at") or 0.0), updated_at=float(raw.get("updated_at") or 0.0),
            )
        except (TypeError, ValueError):
            return None


def status_key(kind: str, digest: str) -> str:
    """The key of a document's render status: ``render:`` and its archive cache name."""
    return f"render:{archive.cache_name(kind, digest)}"


def renders_in_background(kind: str) -> bool:
    """True for the kinds a request does not wait for when their PDF is not cached (``LONG_KINDS``)."""
    return kind in LONG_KINDS


@dataclass(frozen=True)
class TaskContext:
    """What the tasks work on (任务上下文): the database and workflow engine, the document cache
    (``cache_dir``, None: ``MEDIATION_DOCUMENT_CACHE`` or ``instance/documents``), the notice log."""

    session_factory: sessionmaker[Session]
    engine: Engine
    cache_dir: Path | None = None
    notice_log: Path | None = DEFAULT_LOG

    def uow(self, *, write: bool = True) -> UnitOfWork:
        """A unit of work on the database (``write=False`` for reading only)."""
        return UnitOfWork(self.session_factory, self.engine, write=write)


class _InProcessConsumer(Consumer):  # type: ignore[misc]  # huey is untyped
    """Huey's consumer run from a thread of the web process: the server owns the signal handlers."""

    def _set_signal_handlers(self) -> None:
        """Install none (huey's own would replace gunicorn's, and fail outside the main thread)."""

    def run(self) -> None:
        """Huey's ``run`` without its ``start``: ``TaskQueue.start_in_process`` starts the workers and the
        scheduler before this thread runs, so a ``stop`` right after the start finds them started."""
        health_check = time.monotonic()
        while True:
            try:
                health_check = self.loop(health_check)
            except ConsumerStopped:
                break
        self.huey.notify_interrupted_tasks()


@dataclass
class TaskQueue:
    """The task queue (任务队列): a huey instance with the mediation tasks registered on it, and the work they do.

    Build one with ``build_queue``. ``local``: the queue is on this host (SQLite, memory) and the web
    process consumes it (``start_in_process``); else Redis, consumed by ``mediation worker``.
    ``clock`` gives the Unix time (tests fix it).
    """

    huey: Huey
    work: TaskContext
    location: str
    local: bool = False
    clock: Callable[[], float] = time.time
    _consumer: Consumer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _scheduler_lock: IO[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        every_minute = crontab(minute="*")
        periodic = self.huey.periodic_task
        self.render_document = self.huey.task(name="render_document", priority=RENDER_PRIORITY)(self._render_document)
        self.sweep = periodic(every_minute, name="sweep", expires=PERIODIC_EXPIRES)(self._sweep)
        self.deliver = periodic(every_minute, name="deliver", expires=PERIODIC_EXPIRES)(self._deliver)
        self.forget_renders = periodic(crontab(minute="17", hour="3"), name="forget_renders",
                                       expires=3600)(self._forget_renders)

    # --- asking for renders ----------------------------------------------------

    def render_status(self, document: Document) -> RenderStatus | None:
        """The recorded status of ``document``'s render, or None if none was asked for.

        Raises ``QueueUnavailable``.
        """
        return self._get(status_key(document.kind, document.digest))

    def request_render(self, document: Document) -> RenderStatus:
        """Queue ``document``'s render unless one is queued, running or recorded; its status.

        Two requests at once start one render (the status key is claimed with ``put_if_empty``).
        A render recorded as done whose PDF is not in this process's cache, or a failed or
        stalled one, is left as it is: see ``retry_render``. Raises ``QueueUnavailable``.
        """
        return self._claim(status_key(document.kind, document.digest), document.id)

    def retry_render(self, document: Document) -> RenderStatus:
        """Queue ``document``'s render again after it failed, stalled or its PDF left the cache.

        A render still queued or running is left alone (no second one starts). Raises
        ``QueueUnavailable``.
        """
        key = status_key(document.kind, document.digest)
        current = self._get(key)
        cached = archive.is_cached(document, self.work.cache_dir)
        if current is not None and not current.finished and not self.stalled(document, current):
            return current
        if current is not None and current.state == DONE and cached:
            return current
        try:
            self.huey.delete(key)
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc) from exc
        return self._claim(key, document.id)

    def stalled(self, document: Document, status: RenderStatus) -> bool:
        """True when ``status`` (``document``'s) will not finish by itself: a running render silent for
        ``STALE_AFTER`` seconds, or one queued that long whose task is no longer waiting in the queue
        (the queue was emptied, or a worker died between taking it and starting). Raises ``QueueUnavailable``."""
        now = self.clock()
        if status.stalled(now):
            return True
        if status.state != QUEUED or now - status.updated_at <= STALE_AFTER:
            return False
        try:
            waiting = self.huey.pending()
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc) from exc
        return not any(task.name == "render_document" and tuple(task.args or ()) == (document.id,)
                       for task in waiting)

    def documents_issued(self, issued: Sequence[IssuedDocument]) -> None:
        """Queue the renders of the long documents a committed transaction issued (``services.ISSUED_HOOK``).

        Never raises: when the queue cannot be reached the document is rendered when first asked for.
        """
        for doc in issued:
            if not renders_in_background(doc.kind):
                continue
            try:
                self._claim(status_key(doc.kind, doc.digest), doc.id)
            except QueueUnavailable as exc:
                log.warning("document %s was not queued for rendering: %s", doc.id, exc)

    def check(self) -> int:
        """The number of tasks waiting; raises ``QueueUnavailable`` when the storage cannot be reached."""
        try:
            return int(self.huey.pending_count())
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc) from exc

    def _claim(self, key: str, document_id: int) -> RenderStatus:
        now = self.clock()
        fresh = RenderStatus(QUEUED, queued_at=now, updated_at=now)
        try:
            if not self.huey.put_if_empty(key, fresh.as_dict()):
                current = self._get(key)
                if current is not None:
                    return current
                self.huey.put(key, fresh.as_dict())  # it was removed between the two calls
            try:
                self.render_document(document_id)
            except BaseException:
                self.huey.delete(key)  # a claim without a task would wait until it stalls
                raise
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc) from exc
        return fresh

    def _get(self, key: str) -> RenderStatus | None:
        try:
            return RenderStatus.from_stored(self.huey.get(key, peek=True))
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc) from exc

    def _put(self, key: str, status: RenderStatus) -> None:
        self.huey.put(key, status.as_dict())

    def _unavailable(self, exc: BaseException) -> QueueUnavailable:
        return QueueUnavailable(f"the task queue {self.location} cannot be reached: {type(exc).__name__}: {exc}")

    # --- the tasks ---------------------------------------------------------------

    def _render_document(self, document_id: int) -> None:
        """Render document ``document_id`` into the cache, recording each stage (the ``render_document`` task)."""
        with self.work.uow(write=False) as uow:
            document = uow.session.get(Document, document_id)
            if document is not None:
                uow.session.expunge(document)  # its loaded context stays usable after the session
        if document is None:
            log.warning("render_document: there is no document %s", document_id)
            return
        key = status_key(document.kind, document.digest)
        before = self._get(key)
        queued_at = before.queued_at if before is not None else self.clock()
        seen = {"pages": 0}

        def record(state: str, pages: int = 0, message: str = "") -> None:
            seen["pages"] = max(seen["pages"], pages)
            self._put(key, RenderStatus(state, seen["pages"], message, queued_at, self.clock()))

        if archive.is_cached(document, self.work.cache_dir):
            record(DONE, before.pages if before is not None else 0)  # a duplicate task: the first one did it
            return
        try:
            archive.document_pdf(document, self.work.cache_dir, progress=record)
        except archive.CacheError:
            log.exception("document %s (%s) was rendered but could not be stored", document_id, document.kind)
            record(FAILED, message=FAILED_WRITE)
            return
        except Exception:
            log.exception("rendering document %s (%s) failed", document_id, document.kind)
            record(FAILED, message=FAILED_RENDER)
            return
        record(DONE)

    def _forget_renders(self) -> int:
        """Remove render statuses not updated for ``FORGET_AFTER_DAYS`` days (the ``forget_renders`` task);
        how many. A document asked for again afterwards is found in the cache, or rendered anew."""
        oldest = self.clock() - FORGET_AFTER_DAYS * 86400
        forgotten = 0
        for key, raw in self.huey.all_results().items():
            name = key.decode() if isinstance(key, bytes) else str(key)
            if not name.startswith("render:"):
                continue
            try:
                status = RenderStatus.from_stored(self.huey.serializer.deserialize(raw))
            except Exception:  # an unreadable entry is as good as an old one
                status = None
            if status is None or status.updated_at < oldest:
                self.huey.delete(name)
                forgotten += 1
        if forgotten:
            log.info("forget_renders: %d render status(es) removed", forgotten)
        return forgotten

    def _sweep(self) -> int:
        """Act on every lapsed clock, in batches (the ``sweep`` task; what ``mediation sweep`` does)."""
        from .services import sweep, utcnow

        uow, moment, acted = self.work.uow(), utcnow(), 0
        while True:
            with uow:
                batch = sweep(uow, now=moment, limit=SWEEP_BATCH)
            acted += len(batch)
            if len(batch) < SWEEP_BATCH:
                break
        if acted:
            log.info("sweep: %d clock(s) acted on", acted)
        return acted

    def _deliver(self) -> int:
        """Deliver the pending notices (the ``deliver`` task; what ``mediation deliver`` does)."""
        from .delivery import SmtpSettings, deliver

        report = deliver(self.work.uow(), log_path=self.work.notice_log, smtp=SmtpSettings.from_env())
        for message_id, error in report.failed:
            log.warning("deliver: outbox %s failed: %s (will be retried)", message_id, error)
        return report.delivered

    # --- consumers -----------------------------------------------------------------

    def consumer(self, workers: int = 1, *, periodic: bool = True) -> Consumer:
        """Huey's consumer for ``mediation worker`` (``run()`` blocks; SIGINT/SIGTERM stop it). With
        ``periodic`` it schedules the periodic tasks if it gets the scheduler lock (``scheduling``)."""
        return Consumer(self.huey, workers=workers, periodic=periodic and self._take_scheduler(),
                        worker_type="thread", max_delay=1.0, shutdown_timeout=60)

    def start_in_process(self, workers: int = 1, *, periodic: bool = True) -> None:
        """Consume the queue from daemon threads of this process (the embedded default's web process):
        ``workers`` task threads and, when ``periodic`` and this process gets the scheduler lock, huey's
        scheduler (the sweep and deliveries every minute). Stopped by ``stop``, at the latest at exit."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._consumer = _InProcessConsumer(self.huey, workers=workers, periodic=periodic and self._take_scheduler(),
                                            worker_type="thread", max_delay=1.0, shutdown_timeout=25)
        self._consumer.start()
        self._thread = threading.Thread(target=self._consumer.run, name="mediation-queue", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    @property
    def scheduling(self) -> bool:
        """True while this process holds the scheduler lock of a queue on this host."""
        return self._scheduler_lock is not None

    def _take_scheduler(self) -> bool:
        """Take the scheduler lock (a file beside the queue's SQLite file) unless another process holds it;
        whether this process may schedule. Redis, memory and systems without ``flock``: always True."""
        if self._scheduler_lock is not None:
            return True
        filename = getattr(self.huey.storage, "filename", None)
        if not filename or fcntl is None:
            return True
        handle = open(f"{filename}.scheduler.lock", "ab")  # noqa: SIM115  # held until ``stop``
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            log.info("another process schedules the periodic tasks of %s", self.location)
            return False
        self._scheduler_lock = handle
        return True

    def release_scheduler(self) -> None:
        """Give up the scheduler lock (another process's next consumer may take it)."""
        if self._scheduler_lock is not None:
            self._scheduler_lock.close()
            self._scheduler_lock = None

    @property
    def consuming(self) -> bool:
        """True while ``start_in_process`` threads run."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the in-process consumer, letting a running task finish (huey waits at most 25 s, then this
        at most ``timeout`` seconds more for its thread), and give up the scheduler lock."""
        atexit.unregister(self.stop)
        if self._consumer is not None and self._thread is not None:
            self._consumer.stop(graceful=True)
            self._thread.join(timeout)
            self._consumer = self._thread = None
        self.release_scheduler()


def embedded_queue_path(database_url: str) -> Path | None:
    """The embedded queue's SQLite file for ``database_url``: beside a SQLite database
    (``instance/mediation.db`` → ``instance/mediation-queue.db``), else under ``instance/`` named
    after the database; None for an in-memory database."""
    try:
        url = make_url(normalise_url(database_url))
    except ArgumentError:
        url = None
    if url is not None and url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        database = Path(url.database)
        return database.with_name(f"{database.stem}-queue.db")
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return INSTANCE_DIR / f"queue-{digest}.db"


def make_huey(url: str | None, database_url: str, name: str = QUEUE_NAME,
              *, source: str = ENV_URL) -> tuple[Huey, str, bool]:
    """Huey for queue ``url`` (see the module docstring; ``memory://`` is a queue of this process
    only, for tests): the instance, where it is (password hidden), and whether it is local to this
    host (SQLite or memory: the web process consumes it).

    Raises ``QueueError``, its message starting with ``source`` (where ``url`` came from: the
    variable ``MEDIATION_QUEUE_URL`` or an option such as ``--queue``), for an empty URL, one of
    an unknown scheme, a Redis database that is not a number, or a SQLite file that cannot be
    opened (nothing connects to Redis here).
    """
    if url is not None and not url.strip():
        raise QueueError(f"{source}: the queue URL is empty: write redis://host:6379/0 or sqlite:///path/queue.db"
                         + (", or leave it unset for the embedded queue" if source == ENV_URL else ""))
    if url == "memory://":
        return MemoryHuey(name, results=False), "memory (this process only)", True
    if url:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme in ("redis", "rediss", "unix"):
            _check_redis_database(url, source)
            try:
                pool = ConnectionPool.from_url(url, socket_connect_timeout=5, socket_timeout=15,
                                               health_check_interval=30)
            except ValueError as exc:
                raise QueueError(f"{source}: {exc}") from exc
            shown = _hide_password(url)
            return PriorityRedisHuey(name, results=False, connection_pool=pool), shown, False
        if scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            return _sqlite_huey(Path(url[len("sqlite:///"):]), name, source), url, True
        shown = url if "://" not in url and "@" not in url else _hide_password(url)  # no password to hide
        raise QueueError(
            f"{source}: {shown!r} is not a queue URL: write redis://host:6379/0 "
            "(rediss:// for TLS) or sqlite:///path/queue.db"
            + (", or leave it unset for the embedded queue" if source == ENV_URL else "")
        )
    path = embedded_queue_path(database_url)
    if path is None:
        return MemoryHuey(name, results=False), "memory (this process only)", True
    return _sqlite_huey(path, name, "the embedded queue"), f"sqlite:///{path}", True


def _check_redis_database(url: str, source: str) -> None:
    """Refuse a Redis database number that is not one (``redis://host:6379/abc``, ``?db=abc``), which
    redis-py would silently take as database 0."""
    parts = urlsplit(url)
    path = parts.path.strip("/") if parts.scheme.lower() in ("redis", "rediss") else ""
    for number in ([path] if path else []) + parse_qs(parts.query).get("db", []):
        if not number.isdigit():
            raise QueueError(f"{source}: the Redis database {number!r} in {_hide_password(url)!r} is not a number: "
                             "write redis://host:6379/0")


def _sqlite_huey(path: Path, name: str, source: str) -> SqliteHuey:
    """A ``SqliteHuey`` in ``path`` (its folder made); raises ``QueueError`` when the file cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, results=False, filename=str(path))
    except (sqlite3.Error, OSError) as exc:
        raise QueueError(f"{source}: the queue file sqlite:///{path} cannot be opened: {exc}") from exc


def _hide_password(url: str) -> str:
    """``url`` with its password shown as ``***`` (only the scheme of one SQLAlchemy cannot parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return f"{url.split('://', 1)[0]}://…" if "://" in url else "(not a URL)"


def queue_url(configured: str | None = None) -> str | None:
    """``configured`` (the app's ``QUEUE_URL``), else ``MEDIATION_QUEUE_URL``, else None (embedded)."""
    return configured or os.environ.get(ENV_URL) or None


def chosen_queue(option: str | None, option_name: str = "--queue") -> tuple[str | None, str]:
    """The queue URL a command uses and where it came from: ``option`` (even empty, which ``make_huey``
    refuses) named ``option_name``, else ``MEDIATION_QUEUE_URL`` (None when unset: the embedded queue)."""
    if option is not None:
        return option, option_name
    return queue_url(), ENV_URL


def check_queue_url(url: str | None, database_url: str, *, source: str = ENV_URL) -> str:
    """Where the queue ``url`` is (as ``make_huey`` shows it), opening a SQLite queue's file but connecting
    to nothing else; raises ``QueueError`` naming ``source`` as ``make_huey`` does (``mediation serve``
    calls this before its workers start)."""
    huey, location, _local = make_huey(url, database_url, source=source)
    if isinstance(huey.storage, SqliteStorage):
        huey.storage.close()
    return location


def build_queue(url: str | None, database_url: str, work: TaskContext, *, name: str = QUEUE_NAME,
                source: str = ENV_URL) -> TaskQueue:
    """The queue at ``url`` (None: the embedded one beside ``database_url``) doing ``work``; ``name``
    is huey's name of the queue (tests give each their own on a shared Redis); ``source`` where
    ``url`` came from, named by the errors.

    Tells ``work.session_factory`` to queue the renders of the long documents its commits
    issue (``services.ISSUED_HOOK``). Raises ``QueueError`` as ``make_huey`` does; nothing
    is connected until the queue is used (a SQLite file is opened).
    """
    huey, location, local = make_huey(url, database_url, name, source=source)
    queue = TaskQueue(huey, work, location, local)
    work.session_factory.configure(info={ISSUED_HOOK: queue.documents_issued})
    return queue
