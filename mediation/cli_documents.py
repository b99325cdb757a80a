"""``mediation documents …``: issued documents (文书) from the command line.

``mediation documents verify FILE.pdf [--database URL]`` checks a PDF against the record
(``mediation.verification.verify_upload``, DESIGN.md §4: each page's text and what it draws)
and prints one line. Exit status:

* 0 — genuine;
* 1 — altered or unknown;
* 2 — wrong usage (no such file: click's own message);
* 3 — the file cannot be checked, said as the web page says it: empty, over
  ``MAX_PDF_BYTES`` (20 MB), not a PDF, damaged or protected by a password, or more than
  ``MAX_PAGES`` pages without the code of an issued document;
* 4 — the database cannot be used (a bad URL, no tables, an error).

pypdf's own warnings about a damaged file are not printed (``verification`` sets its
logger to errors only). The group is registered in ``mediation.cli``; it imports nothing
from there, so either may be imported first.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .verification import MAX_PAGES, MAX_PDF_BYTES, Refusal, UnreadablePdf, VerifyResult, open_upload, verify_upload

__all__ = ["EXIT_ALTERED", "EXIT_DATABASE", "EXIT_GENUINE", "EXIT_REFUSED", "documents", "format_refusal",
           "format_result"]

EXIT_GENUINE = 0
#: Altered or unknown.
EXIT_ALTERED = 1
#: The file is not a PDF that can be checked (``format_refusal``).
EXIT_REFUSED = 3
EXIT_DATABASE = 4

_STATUS_TEXT = {
    "genuine": "genuine: every page has the issued document's text and draws what it draws",
    "altered": "altered: the PDF differs from the issued document it claims to be",
    "unknown": "unknown: no issued document has this PDF's verification code",
}
#: What the web page says of each file it cannot check (``web.public``), in one line.
_REFUSAL_TEXT: dict[Refusal, str] = {
    "empty": "empty: the file is empty",
    "too_large": f"too large: the file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB",
    "not_pdf": "not a PDF: this file is not a PDF",
    "encrypted": "unreadable: this PDF is protected by a password and could not be read",
    "damaged": "unreadable: this PDF is damaged and could not be read",
}
_TOO_MANY_PAGES = (f"too many pages: this PDF has more than {MAX_PAGES} pages and carries no verification code "
                   "of a document issued here")
_REASON_TEXT = {
    "pages": "its page count differs",
    "text": "the text of page {page} differs",
    "appearance": "page {page} looks different (something drawn, added or removed), even though its words match",
}


def format_refusal(refusal: Refusal) -> str:
    """One line saying why a file cannot be checked (``UnreadablePdf.refusal``)."""
    return _REFUSAL_TEXT[refusal]


class _DatabaseError(click.ClickException):
    exit_code = EXIT_DATABASE


def format_result(result: VerifyResult) -> str:
    """One line: the status (for ``altered``, what differs), then the document's case number, kind (title),
    version and id when known."""
    line = _STATUS_TEXT[result.status]
    if result.status == "altered" and result.reason is not None:
        line += f" ({_REASON_TEXT[result.reason].format(page=result.page)})"
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
    """Check FILE (a document's PDF): genuine (exit 0), altered or unknown (1), not a PDF that can be checked
    (3), the database cannot be used (4)."""
    with file.open("rb") as stream:
        data = stream.read(MAX_PDF_BYTES + 1)  # never more: a larger file is refused unread
    try:
        upload = open_upload(data)
    except UnreadablePdf as exc:
        click.echo(format_refusal(exc.refusal))
        ctx.exit(EXIT_REFUSED)
    url = db.normalise_url(database or db.database_url())
    try:
        engine = db.make_engine(url)
    except SQLAlchemyError as exc:
        raise _DatabaseError(f"not a usable database URL: {exc}") from exc
    try:
        if not inspect(engine).has_table("documents"):
            raise _DatabaseError("the database has no tables yet: run `mediation db upgrade` first")
        with db.make_session_factory(engine)() as session:
            result = verify_upload(session, upload)
    except UnreadablePdf as exc:  # a page of the upload that cannot be read
        click.echo(format_refusal(exc.refusal))
        ctx.exit(EXIT_REFUSED)
    except SQLAlchemyError as exc:
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise _DatabaseError(f"database error: {message[0] if message else type(exc).__name__}") from exc
    finally:
        engine.dispose()
    if result.status == "unknown" and result.reason == "pages":
        click.echo(_TOO_MANY_PAGES)
        ctx.exit(EXIT_REFUSED)
    click.echo(format_result(result))
    ctx.exit(EXIT_GENUINE if result.genuine else EXIT_ALTERED)
