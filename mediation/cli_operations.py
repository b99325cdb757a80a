"""``mediation audit verify``, ``mediation deliver``, ``mediation worker`` and ``mediation workflows …`` (click)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import click

from .cli import IsoDateTime, _dispose, _unit_of_work, _url, database_errors, database_option, hide_password


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident trail (操作留痕)."""


@audit_group.command("verify")
@database_option
def audit_verify(database: str | None) -> None:
    """Check every case's hash chain; name each broken case and exit 1 if any is."""
    from .audit import verify_all

    url = _url(database)
    broken: dict[str, list[str]] = {}
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            with uow:
                for b in verify_all(uow.session):
                    where = f"event {b.seq}: " if b.seq is not None else ""
                    broken.setdefault(b.number, []).append(where + b.problem)
        finally:
            _dispose(uow)
    if not broken:
        click.echo("Every case's event chain is intact.")
        return
    for number, problems in broken.items():
        click.echo(f"BROKEN {number}")
        for p in problems:
            click.echo(f"  {p}")
    raise click.ClickException(f"{len(broken)} case(s) with a broken event chain")


@click.command("deliver")
@click.option("--now", type=IsoDateTime(), metavar="ISO-8601", help="Act as if it were this instant (default: now).")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Append notices to this log file (default: instance/notices.log).")
@database_option
def deliver_command(now: datetime | None, log_path: Path | None, database: str | None) -> None:
    """Deliver pending notices: in-app, log file, and e-mail when MEDIATION_SMTP_HOST is set."""
    from .delivery import DEFAULT_LOG, SmtpSettings, deliver

    url = _url(database)
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            report = deliver(uow, now, log_path=log_path or DEFAULT_LOG, smtp=SmtpSettings.from_env())
        finally:
            _dispose(uow)
    click.echo(f"{report.delivered} notice(s) delivered ({report.deliveries} deliveries), {len(report.failed)} failed")
    for message_id, error in report.failed:
        click.echo(f"  outbox {message_id}: {error} (will be retried)")


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Tasks run at once (threads); renders take turns, the sweep and deliveries run beside them.")
@click.option("--queue", "queue", metavar="URL",
              help="The task queue: redis://host:6379/0 (default: MEDIATION_QUEUE_URL, else the embedded queue).")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also run the sweep and the deliveries every minute.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Append delivered notices to this log file (default: instance/notices.log).")
@database_option
def worker_command(workers: int, queue: str | None, periodic: bool, log_path: Path | None,
                   database: str | None) -> None:
    """Run the background worker: document renders, and the sweep and deliveries every minute.

    With MEDIATION_QUEUE_URL=redis://… run one or more on any host that reaches Redis, the
    database and the document cache; stop it with Ctrl-C or SIGTERM (a running task finishes).
    Without it, it consumes the embedded queue beside the database, which the web process
    (`mediation serve`) already consumes itself: a second consumer is optional there.
    """
    from .delivery import DEFAULT_LOG
    from .tasks import QueueError, QueueUnavailable, TaskContext, build_queue, chosen_queue

    url = _url(database)
    chosen, source = chosen_queue(queue)
    if chosen is not None and chosen.strip().lower() == "memory://":
        raise click.ClickException(f"{source}: memory:// is a queue private to one process: a worker cannot "
                                   "consume a private in-memory queue; write redis://host:6379/0 or "
                                   "sqlite:///path/queue.db")
    with database_errors(url):
        uow = _unit_of_work(url)
    work = TaskContext(uow.session_factory, uow.engine, notice_log=log_path or DEFAULT_LOG)
    try:
        task_queue = build_queue(chosen, url, work, source=source)
        pending = task_queue.check()
    except (QueueError, QueueUnavailable) as exc:
        _dispose(uow)
        raise click.ClickException(str(exc)) from exc
    if chosen is None:
        click.echo("MEDIATION_QUEUE_URL is not set: consuming the embedded queue, which the web process "
                   "consumes too (set MEDIATION_QUEUE_URL=redis://host:6379/0 for workers on other hosts).")
    consumer = task_queue.consumer(workers, periodic=periodic)
    if not periodic:
        scheduled = "off"
    elif task_queue.scheduling:
        scheduled = "on"
    else:
        scheduled = "left to the process that schedules them already (a web process)"
    click.echo(f"Worker on {task_queue.location} with {workers} thread(s), database {hide_password(url)}; "
               f"{pending} task(s) waiting; periodic sweep and deliveries {scheduled}.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        consumer.run()
    finally:
        task_queue.release_scheduler()
        _dispose(uow)


@click.group("workflows")
def workflows_group() -> None:
    """Workflow definitions and their versions (流程定义)."""


def _split(spec: str) -> tuple[str, int | None]:
    name, _, version = spec.partition("@")
    if version and not version.isdigit():
        raise click.BadParameter(f"{spec!r}: write NAME or NAME@VERSION, e.g. labour@2")
    return name, int(version) if version else None


@workflows_group.command("list")
@database_option
def workflows_list(database: str | None) -> None:
    """Every definition version, the newest marked, with its cases per state."""
    from .versions import case_counts
    from .workflow import Registry

    registry = Registry.from_directory()
    counts: dict[tuple[str, int], dict[str, int]] = {}
    url = _url(database)
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            with uow:
                counts = case_counts(uow.session)
        finally:
            _dispose(uow)
    for d in registry:
        newest = " (newest)" if registry.get(d.name).version == d.version else ""
        states = counts.get(d.key, {})
        summary = ", ".join(f"{s} {n}" for s, n in sorted(states.items())) or "no cases"
        click.echo(f"{d.name}@{d.version}{newest}  {d.title['zh_CN']} / {d.title['en']}  {Path(d.path).name}  "
                   f"[{summary}]")


@workflows_group.command("show")
@click.argument("spec", metavar="NAME[@VERSION]")
def workflows_show(spec: str) -> None:
    """States, triggers and clocks of one definition."""
    from .workflow import Registry, pick_label

    name, version = _split(spec)
    try:
        d = Registry.from_directory().get(name, version)
    except KeyError as exc:
        raise click.ClickException(f"no workflow {spec!r}") from exc
    click.echo(f"{d.name}@{d.version}  {d.title['zh_CN']} / {d.title['en']}  ({Path(d.path).name})")
    click.echo("states:")
    for s in d.states.values():
        marks = [m for m, on in (("final", s.final), (f"tier {s.tier}", s.tier is not None)) if on]
        click.echo(f"  {s.name:<20} {pick_label(s.label)}  {' '.join(marks)}")
    click.echo("triggers:")
    for t in d.triggers.values():
        moves = sorted({f"{src}->{tr.dest or src}" for tr in t.transitions for src in tr.sources})
        click.echo(f"  {t.name:<28} {pick_label(t.label)}  who: {', '.join(t.who)}  {'; '.join(moves)}")
    if d.clocks:
        click.echo("clocks:")
        for c in d.clocks.values():
            click.echo(f"  {c.name:<22} {c.days} days  on expiry: {c.on_expiry['action']}  {c.source or ''}")


@workflows_group.command("check")
@database_option
def workflows_check(database: str | None) -> None:
    """Load every definition file and compare the recorded versions; exit 1 on a problem."""
    from .errors import DefinitionError
    from .versions import check_versions
    from .workflow import Registry

    try:
        registry = Registry.from_directory()
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    url = _url(database)
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            with uow:
                problems = check_versions(uow.session, registry)
        finally:
            _dispose(uow)
    for p in problems:
        click.echo(f"{p.workflow}@{p.version}: {p.problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    click.echo(f"{len(list(registry))} definition(s) load and match what is recorded.")


@workflows_group.command("migrate")
@click.option("--from", "source", required=True, metavar="NAME@V", help="The version the cases run on now.")
@click.option("--to", "target", required=True, metavar="NAME@V", help="The version to move them to.")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help="A state mapping; repeat for each state.")
@click.option("--case", "case_ids", multiple=True, type=int, help="Move only this case id; repeat (default: all).")
@database_option
def workflows_migrate(source: str, target: str, pairs: tuple[str, ...], case_ids: tuple[int, ...],
                      database: str | None) -> None:
    """Move cases to another version of their workflow, one event each; refuse unmapped states."""
    from .errors import ValidationError
    from .versions import migrate_cases, parse_mapping

    src, dst = _split(source), _split(target)
    if src[1] is None or dst[1] is None:
        raise click.BadParameter("give both versions, e.g. --from labour@1 --to labour@2")
    url = _url(database)
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            with uow:
                moved = migrate_cases(uow, (src[0], src[1]), (dst[0], dst[1]), parse_mapping(pairs),
                                      case_ids=case_ids or None)
        except ValidationError as exc:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
        finally:
            _dispose(uow)
    click.echo(f"{len(moved)} case(s) moved from {source} to {target}")
