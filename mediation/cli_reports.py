"""``mediation report``: the monthly statistics report (统计月报) from the command line.

``mediation report --month 2026-03 [--organisation ID] --format pdf|xlsx --out FILE``
writes the report the statistics page offers for download, the same bytes but for
its date: ``mediation.statistics.compute`` over every case of the station (what its
chief sees there), rendered by ``mediation.reports.render_report``. ``--organisation``
may be left out when the database holds one station; ``--locale`` picks the
language (zh_CN by default, or en); ``--now`` the instant the figures are as at.

Bad input is one line on stderr naming the option: exit status 2 for a wrong value
(``--month 2026-13``, an unknown station), 1 when the file cannot be written or the
database fails. The command is registered in ``mediation.cli``; it imports from there
only when it runs, so either module may be imported first.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import db, reports
from . import statistics as stats
from .errors import ValidationError
from .models import Organisation

__all__ = ["OptionError", "report"]

LOCALES = ("zh_CN", "en")


class OptionError(click.ClickException):
    """A wrong value of an option: one line naming it (not click's usage text), exit status 2."""

    exit_code = 2


def _bad(option: str, message: str) -> OptionError:
    return OptionError(f"{option}: {message}")


def _month(value: str) -> stats.Period:
    try:
        return stats.Period.parse_month(value)
    except ValidationError as exc:
        raise _bad("--month", f"{value!r} is not a month; write it as YYYY-MM, e.g. 2026-03") from exc


def _now(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--now`` read as ``mediation sweep`` reads it (ISO-8601, Asia/Shanghai without a zone)."""
    if value is None:
        return None
    from .cli import IsoDateTime  # here, not at the top: mediation.cli imports this module

    try:
        return IsoDateTime().convert(value, None, None)
    except click.BadParameter as exc:
        raise _bad("--now", exc.message) from exc


def _writable(out: Path) -> None:
    """Refuse, before any work, a path the report cannot be written to (exit status 1)."""
    if out.is_dir():
        raise click.ClickException(f"--out: {out} is a folder; give the report's file name")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise click.ClickException(f"--out: cannot write {out}: {folder} {why}")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise click.ClickException(f"--out: cannot write {out}: permission denied")


def _write(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out`` whole or not at all (a temporary file beside it, then renamed)."""
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent if str(out.parent) else ".")
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # as any file the user writes, not mkstemp's 0600
        os.replace(temporary, out)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise click.ClickException(f"--out: cannot write {out}: {exc.strerror or exc}") from exc


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _organisation(session: Session, wanted: int | None) -> Organisation:
    """The station ``wanted``, or the only one; a usage error naming ``--organisation`` otherwise."""
    stations = list(session.scalars(select(Organisation).order_by(Organisation.id)))
    known = ", ".join(f"{o.id} {o.name}" for o in stations[:10]) + (" …" if len(stations) > 10 else "")
    if wanted is not None:
        found = next((o for o in stations if o.id == wanted), None)
        if found is None:
            listed = f" (there are: {known})" if known else ""
            raise _bad("--organisation", f"no station has the id {wanted}{listed}")
        return found
    if len(stations) == 1:
        return stations[0]
    if not stations:
        raise _bad("--organisation", "the database has no station yet")
    raise _bad("--organisation", f"the database has {len(stations)} stations; choose one of: {known}")


@click.command("report")
@click.option("--month", required=True, metavar="YYYY-MM", help="The calendar month (Asia/Shanghai), e.g. 2026-03.")
@click.option("--organisation", type=int, metavar="ID",
              help="The station's id (default: the only station of the database).")
@click.option("--format", "fmt", required=True, metavar="pdf|xlsx", help="pdf (A4, PDF/A-3b) or xlsx (a workbook).")
@click.option("--out", required=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Where to write the report.")
@click.option("--locale", default="zh_CN", show_default=True, metavar="zh_CN|en", help="The report's language.")
@click.option("--now", callback=_now, metavar="ISO-8601", help="The instant the figures are as at (default: now).")
@click.option("--database", metavar="URL",
              help="Database URL (default: MEDIATION_DATABASE_URL, else the SQLite file under instance/).")
def report(month: str, organisation: int | None, fmt: str, out: Path, locale: str, now: datetime | None,
           database: str | None) -> None:
    """Write the monthly statistics report (统计月报) of a station as PDF or XLSX: the statistics page's report."""
    from . import services
    from .cli import _dispose, _unit_of_work, database_errors, hide_password

    period = _month(month)
    extension = fmt.strip().lower()
    if extension not in reports.FORMATS:
        raise _bad("--format", f"{fmt!r} is not a report format; use one of: {', '.join(reports.FORMATS)}")
    if locale not in LOCALES:
        raise _bad("--locale", f"{locale!r} is not a language of the report; use one of: {', '.join(LOCALES)}")
    _writable(out)
    moment = now or services.utcnow()
    url = db.normalise_url(database or db.database_url())
    with database_errors(url):
        uow = _unit_of_work(url)
        try:
            with uow.session_factory() as session:  # reads only: no write lock
                station = _organisation(session, organisation)
                result = stats.compute(session, uow.engine.registry, None, period,
                                       stats.Filters(organisation_id=station.id), now=moment)
                name = station.name
        finally:
            _dispose(uow)
    data = reports.render_report(result, extension, locale=locale, organisation=name, names={"organisation": name})
    _write(out, data)
    click.echo(f"{reports.report_filename(result, extension, locale)}: the {period.key} report of {name} "
               f"written to {out} ({len(data):,} bytes, from {hide_password(url)})")
