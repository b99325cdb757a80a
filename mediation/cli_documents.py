"""``mediation documents …``: issued documents (文书) from the command line.

``mediation documents verify FILE.pdf [--database URL]`` checks a PDF against the record
(``mediation.verification.verify_pdf``, DESIGN.md §4), prints one line, and exits 0 for a
genuine document, 1 for an altered or unknown one. The group is registered in
``mediation.cli``; it imports nothing from there, so either may be imported first.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .verification import VerifyResult, verify_pdf

__all__ = ["documents", "format_result"]

_STATUS_TEXT = {
    "genuine": "genuine: the PDF is the issued document, to the letter",
    "altered": "altered: the PDF differs from the issued document it claims to be",
    "unknown": "unknown: no issued document has this PDF's verification code",
}


def format_result(result: VerifyResult) -> str:
    """One line: the status, then the document's case number, kind (title), version and id when known."""
    line = _STATUS_TEXT[result.status]
    if result.document_id is not None:
        from .documents import document_title

        title = document_title(result.kind or "", "zh_CN") if result.kind else ""
        line += f" — {result.case_number} {title} v{result.version} (document {result.document_id}, {result.kind})"
    return line


@click.group("documents")
def documents() -> None:
    """Issued documents (文书): check a PDF against the record."""


@documents.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--database",
    metavar="URL",
    help="Database URL (default: MEDIATION_DATABASE_URL, else the SQLite file under instance/).",
)
@click.pass_context
def verify(ctx: click.Context, file: Path, database: str | None) -> None:
    """Check FILE (a document's PDF): genuine (exit 0), altered or unknown (exit 1)."""
    url = db.normalise_url(database or db.database_url())
    try:
        engine = db.make_engine(url)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"not a usable database URL: {exc}") from exc
    try:
        if not inspect(engine).has_table("documents"):
            raise click.ClickException("the database has no tables yet: run `mediation db upgrade` first")
        with db.make_session_factory(engine)() as session:
            result = verify_pdf(session, file.read_bytes())
            click.echo(format_result(result))
    except SQLAlchemyError as exc:
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise click.ClickException(f"database error: {message[0] if message else type(exc).__name__}") from exc
    finally:
        engine.dispose()
    ctx.exit(0 if result.genuine else 1)
