"""The ``mediation`` command (click); also mounted under ``flask mediation``.

``mediation db upgrade`` · ``mediation demo [--if-empty]`` · ``mediation serve`` ·
``mediation replay PATH…`` · ``mediation sweep [--now]``. The database is
``--database URL``, else ``MEDIATION_DATABASE_URL``, else the embedded SQLite file.
Errors are one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from . import db
from .clocks import SHANGHAI
from .engine import Engine as WorkflowEngine
from .errors import MediationError
from .services import UnitOfWork

#: Shown when a database has not been migrated yet.
NOT_MIGRATED = "the database has no tables yet: run `mediation db upgrade` first"


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (also for a URL SQLAlchemy cannot parse)."""
    try:
        return make_url(db.normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn database, migration and domain errors into one-line ``ClickException`` messages."""
    from alembic.util.exc import CommandError

    shown = hide_password(url)
    try:
        yield
    except (ArgumentError, NoSuchModuleError) as exc:
        raise click.ClickException(f"not a usable database URL {shown}: {_first_line(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or "connect" in _first_line(exc).lower() or isinstance(
            exc.orig, ConnectionError
        ):
            raise click.ClickException(f"cannot reach the database {shown}: {_first_line(exc)}") from exc
        if re.search(r"no such table|does not exist|undefined ?table", _first_line(exc), re.IGNORECASE):
            raise click.ClickException(f"{NOT_MIGRATED} ({shown})") from exc
        raise click.ClickException(f"database error on {shown}: {_first_line(exc)}") from exc
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error on {shown}: {_first_line(exc)}") from exc
    except CommandError as exc:
        raise click.ClickException(f"migration failed on {shown}: {_first_line(exc)}") from exc
    except MediationError as exc:
        raise click.ClickException(str(exc)) from exc


def _url(database: str | None) -> str:
    return db.normalise_url(database or db.database_url())


def _unit_of_work(url: str, *, require_schema: bool = True) -> UnitOfWork:
    """A unit of work on ``url`` with the shipped workflow definitions (call inside ``database_errors``)."""
    from .workflow import Registry

    engine = db.make_engine(url)
    if require_schema and not inspect(engine).has_table("cases"):
        engine.dispose()
        raise click.ClickException(f"{NOT_MIGRATED} ({hide_password(url)})")
    return UnitOfWork(db.make_session_factory(engine), WorkflowEngine(Registry.from_directory()))


def _dispose(uow: UnitOfWork) -> None:
    bind = uow.session_factory.kw.get("bind")
    if bind is not None:
        bind.dispose()


database_option = click.option(
    "--database",
    metavar="URL",
    help="Database URL (default: MEDIATION_DATABASE_URL, else the SQLite file under instance/).",
)


class IsoDateTime(click.ParamType[datetime]):
    """An ISO-8601 date-time; without a zone it is taken as Asia/Shanghai."""

    name = "ISO-8601"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """The aware ``datetime`` of ``value``; a usage error names the option otherwise."""
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not an ISO-8601 date-time such as 2026-03-20T09:00+08:00", param, ctx)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Dispute-mediation workflow engine (矛盾纠纷调处): database, demo data, server, replay, sweep."""


@cli.group("db")
def db_group() -> None:
    """The database: migrations and workflow definitions."""


@db_group.command("upgrade")
@database_option
def db_upgrade(database: str | None) -> None:
    """Migrate the database to the newest schema and record the workflow definitions."""
    url = _url(database)
    with database_errors(url):
        db.upgrade(url)
    click.echo(f"Database {hide_password(url)} is at the newest schema; workflow definitions recorded.")


@cli.command()
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has an organisation.")
@database_option
def demo(if_empty: bool, database: str | None) -> None:
    """Load the demo station, one user per role, demo cases and the real cases (../shared/cases)."""
    from . import demo as demo_data

    url = _url(database)
    with database_errors(url):
        db.upgrade(url)
        uow = _unit_of_work(url)
        try:
            if if_empty and demo_data.has_organisation(uow):
                click.echo(f"Database {hide_password(url)} already has an organisation: demo data not loaded.")
                return
            report = demo_data.load_demo(uow)
            logins = demo_data.working_logins(uow)
        finally:
            _dispose(uow)
    click.echo(f"Demo data loaded into {hide_password(url)}:")
    click.echo(f"  {len(report.users_created)} users created, {len(report.demo_cases)} demo cases")
    for result in report.demo_cases:
        if not result.ok:
            click.echo(f"  demo case {result.line()}", err=True)
    if report.real_cases:
        good = sum(r.ok for r in report.real_cases)
        click.echo(f"  {len(report.real_cases)} real cases replayed from {demo_data.SHARED_CASES_DIR} ({good} OK)")
        for result in report.real_cases:
            if not result.ok:
                click.echo(f"  {result.line()}", err=True)
    click.echo("")
    click.echo(demo_data.logins_table(logins))


#: Threads per gunicorn worker process (``gthread``): requests served at once by one process.
SERVE_THREADS = 8
#: Where the web app keeps its rate-limit counts (web/__init__.py ``RATELIMIT_STORAGE_URI``).
RATELIMIT_ENV = "MEDIATION_RATELIMIT_STORAGE_URI"
#: Hosts a browser elsewhere cannot reach: serving on them, the default verification address is right.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def gunicorn_options(host: str, port: int, workers: int | None, ratelimit_storage: str) -> tuple[dict[str, Any], str]:
    """gunicorn settings for ``mediation serve`` and a warning ("" for none).

    Each process serves ``SERVE_THREADS`` requests at once (``gthread``). The rate limits
    (登录/核验次数限制) count in ``ratelimit_storage``: in ``memory://`` (the default) each
    process counts alone, so one process serves unless ``workers`` (processes) asks for more,
    and then the warning says the limits are per process; with a shared storage (``redis://…``)
    ``workers`` defaults to 2.
    """
    private = ratelimit_storage.strip().lower().startswith("memory://")
    processes = workers if workers is not None else (1 if private else 2)
    warning = ""
    if private and processes > 1:
        warning = (f"Warning: {processes} worker processes each count the rate limits alone ({RATELIMIT_ENV} is "
                   f"memory://), so they allow up to {processes} times the numbers set; set {RATELIMIT_ENV}="
                   "redis://host:6379/1 to share them.")
    shown_host = f"[{host}]" if ":" in host else host
    options = {"bind": f"{shown_host}:{port}", "workers": processes, "worker_class": "gthread",
               "threads": SERVE_THREADS}
    return options, warning


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64),
              help=f"gunicorn worker processes, {SERVE_THREADS} threads each (default: 1 while the rate limits "
                   f"are counted in memory, 2 with {RATELIMIT_ENV}=redis://…).")
@database_option
def serve(host: str, port: int, workers: int | None, database: str | None) -> None:
    """Serve the web UI (web:create_app) under gunicorn."""
    from . import demo as demo_data
    from .documents import DEFAULT_VERIFY_BASE
    from .tasks import QueueError, check_queue_url, chosen_queue

    if database:
        os.environ["MEDIATION_DATABASE_URL"] = database  # read by the web app in each worker
    url = _url(database)
    try:
        from web import create_app
    except ImportError as exc:
        raise click.ClickException(f"the web UI is not available (web.create_app): {exc}") from exc
    queue, source = chosen_queue(None)
    try:
        check_queue_url(queue, url, source=source)
    except QueueError as exc:
        raise click.ClickException(str(exc)) from exc
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            logins = demo_data.working_logins(uow)
        finally:
            _dispose(uow)
    options, warning = gunicorn_options(host, port, workers, os.environ.get(RATELIMIT_ENV) or "memory://")
    click.echo(f"Serving http://{options['bind']}/ with {options['workers']} worker process(es) of "
               f"{options['threads']} threads on {hide_password(url)}")
    if warning:
        click.echo(warning, err=True)
    if not os.environ.get("MEDIATION_VERIFY_BASE_URL") and host not in LOCAL_HOSTS:
        click.echo(f"Warning: MEDIATION_VERIFY_BASE_URL is not set: the QR codes of the documents point at "
                   f"{DEFAULT_VERIFY_BASE}, which only this computer reaches; set it to this site's public address.",
                   err=True)
    if logins:
        click.echo("Demo logins:")
        click.echo(demo_data.logins_table(logins))
    run_gunicorn(create_app, options)


def run_gunicorn(app_factory: Callable[[], Any], options: dict[str, Any]) -> None:
    """Run ``app_factory()`` under gunicorn with ``options`` (gunicorn settings); each worker builds its own app.

    Each worker, once it runs, starts consuming the app's embedded task queue (``web.renders.start_consumer``:
    threads of that worker) and stops it when it exits (``worker_exit``: the running task finishes first).
    """
    from gunicorn.app.base import BaseApplication

    def with_queue(worker: Any) -> Any:
        """The worker's app when it is the web app with a task queue (else None)."""
        wsgi = getattr(worker, "wsgi", None)
        return wsgi if "task_queue" in getattr(wsgi, "extensions", {}) else None

    def started(worker: Any) -> None:
        if (app := with_queue(worker)) is not None:
            from web.renders import start_consumer

            start_consumer(app)

    def exiting(_server: Any, worker: Any) -> None:
        if (app := with_queue(worker)) is not None:
            from web.renders import stop_consumer

            stop_consumer(app)

    hooks = {"post_worker_init": started, "worker_exit": exiting}

    class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
        def load_config(self) -> None:
            for key, value in {**hooks, **options}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app_factory()

    _Server().run()


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write every case's PDFs here.")
@click.option(
    "--start", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="Day 0 (default 2026-03-02)."
)
@database_option
def replay(paths: tuple[Path, ...], out: Path | None, start: datetime | None, database: str | None) -> None:
    """Replay real case files (or folders of them) into new cases and compare with their outcome.

    One line per case, "c01 OK ..." or "c01 MISMATCH step N (action) ..."; the exit
    status is 1 when any case mismatches. See ../shared/cases/README.md.
    """
    from .replay import DEFAULT_START, CaseFileError, case_files, check_against, load_case, replay_spec
    from .workflow import Registry

    url = _url(database)
    day0: date = start.date() if start else DEFAULT_START
    try:
        registry = Registry.from_directory()
        specs = [load_case(p) for p in case_files(paths)]
        for spec in specs:
            check_against(spec, registry)
    except (CaseFileError, MediationError) as exc:
        raise click.ClickException(str(exc)) from exc
    with database_errors(url):
        db.upgrade(url)
        uow = _unit_of_work(url)
        try:
            results = []
            for spec in specs:
                result = replay_spec(uow, spec, day0, pdf_dir=out)
                click.echo(result.line())
                results.append(result)
        finally:
            _dispose(uow)
    bad = sum(not r.ok for r in results)
    click.echo(
        f"{len(results)} case(s) replayed into {hide_password(url)} from day 0 = {day0.isoformat()}: "
        f"{len(results) - bad} OK, {bad} mismatched" + (f"; PDFs under {out}" if out else ""),
        err=True,
    )
    if bad:
        sys.exit(1)


@cli.command()
@click.option("--now", type=IsoDateTime(), metavar="ISO-8601", help="Act as if it were this instant (default: now).")
@database_option
def sweep(now: datetime | None, database: str | None) -> None:
    """Act on every case clock that has run out (期限届满): record the lapse, remind, or escalate."""
    from . import services
    from .models import Case

    url = _url(database)
    moment = now or services.utcnow()
    acted: list[tuple[int, str]] = []
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            batch_size = 500
            while True:
                with uow:
                    batch = services.sweep(uow, now=moment, limit=batch_size)
                acted.extend(batch)
                if len(batch) < batch_size:
                    break
            with uow:
                rows = uow.session.execute(
                    select(Case.id, Case.number).where(Case.id.in_({case_id for case_id, _ in acted}))
                )
                numbers = {case_id: number for case_id, number in rows}
        finally:
            _dispose(uow)
    local = moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    click.echo(f"Sweep at {local} (Asia/Shanghai): {len(acted)} clock(s) acted on")
    for case_id, clock in acted:
        click.echo(f"  {numbers.get(case_id, case_id)}  {clock}")


def main() -> None:
    """Console entry point of ``mediation``; an unexpected error is one line, not a traceback."""
    try:
        cli.main(prog_name="mediation", standalone_mode=True)
    except Exception as exc:  # the last line of defence; MEDIATION_DEBUG=1 shows the traceback
        if os.environ.get("MEDIATION_DEBUG"):
            raise
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc} (set MEDIATION_DEBUG=1 for details)", err=True)
        sys.exit(1)


def _register() -> None:
    """Attach the command groups kept in their own modules."""
    from .cli_documents import documents
    from .cli_operations import audit_group, deliver_command, worker_command, workflows_group
    from .cli_reports import report

    cli.add_command(documents)
    cli.add_command(audit_group)
    cli.add_command(deliver_command)
    cli.add_command(worker_command)
    cli.add_command(workflows_group)
    cli.add_command(report)


_register()
