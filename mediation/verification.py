"""Checking a document's PDF against the record (文书核验), DESIGN.md §4.

Every issued document's PDF carries its content digest in its metadata keywords
(``mediation-digest:<hex>``) and its verification code in the footer of every page
(``mediation.documents``). ``verify_pdf`` finds the issued ``Document`` by the digest (by
the printed code when the metadata was stripped), renders it again from the context
stored with it, and compares the text of the two PDFs page by page: the same text is
``genuine``, any other ``altered``; a PDF whose digest and code match no issued document
is ``unknown``. The CLI (``mediation documents verify``) and the public verification page
(``/verify``, linked from the status page; the QR code of an agreement opens it) call it.

The public page also looks a document up by the code alone (``normalise_code``,
``public_record``): it learns which document was issued under the code (kind, case
number, version, date, whether a newer issue replaced it) and nothing of its content.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Document

__all__ = [
    "NewerIssue",
    "PublicRecord",
    "VerifyResult",
    "document_for_code",
    "newer_issue",
    "normalise_code",
    "pdf_digest",
    "pdf_text_pages",
    "public_record",
    "readable_pdf",
    "verify_pdf",
]

Status = Literal["genuine", "altered", "unknown"]

_DIGEST = re.compile(r"mediation-digest:([0-9a-f]{64})")
_CODE = re.compile(r"校验码\s*([0-9A-F]{4}(?:-[0-9A-F]{4}){3})")
_WHITESPACE = re.compile(r"\s+")
#: What people type between the groups of a code (after NFKC, so full-width forms are folded already).
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.·・]+")
_CODE_HEX = re.compile(r"[0-9A-F]{16}")
#: Longer input is not a mistyped code; it is not normalised at all.
_CODE_MAX_INPUT = 100
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyResult:
    """What a PDF turned out to be: ``genuine``, ``altered`` (of the document named) or ``unknown``."""

    status: Status
    document_id: int | None = None
    case_number: str | None = None
    kind: str | None = None
    version: int | None = None

    @property
    def genuine(self) -> bool:
        """True only for a PDF whose text is the issued document's, to the letter."""
        return self.status == "genuine"


def _reader(pdf_bytes: bytes) -> PdfReader | None:
    """A pypdf reader, or None when the bytes are not a readable PDF."""
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        _ = len(reader.pages)
    except Exception:  # untrusted bytes: a damaged PDF makes pypdf raise almost anything
        log.debug("unreadable PDF", exc_info=True)
        return None
    return reader


def _page_texts(pdf_bytes: bytes) -> list[str] | None:
    """The text of each page without whitespace, or None when the PDF or a page of it cannot be read."""
    reader = _reader(pdf_bytes)
    if reader is None:
        return None
    try:
        return [_WHITESPACE.sub("", page.extract_text() or "") for page in reader.pages]
    except Exception:  # a damaged content stream, an encrypted file, a decompression bomb…
        log.debug("unreadable PDF page", exc_info=True)
        return None


def readable_pdf(pdf_bytes: bytes) -> bool:
    """True when the bytes open as a PDF and the text of every page can be read (not damaged, not encrypted)."""
    return _page_texts(pdf_bytes) is not None


def pdf_text_pages(pdf_bytes: bytes) -> list[str]:
    """The text of each page without any whitespace (layout may differ, letters may not); [] if unreadable."""
    return _page_texts(pdf_bytes) or []


def pdf_digest(pdf_bytes: bytes) -> str | None:
    """The content digest in a PDF's keywords (document information, else XMP), or None."""
    reader = _reader(pdf_bytes)
    if reader is None:
        return None
    sources: list[str] = []
    try:
        info = reader.metadata
        if info is not None:
            sources.extend(str(info.get(key) or "") for key in ("/Keywords", "/Subject"))
    except Exception:  # damaged document information is only one source of the digest
        log.debug("unreadable document information", exc_info=True)
    try:
        xmp = reader.xmp_metadata
        if xmp is not None:
            sources.append(str(xmp.pdf_keywords or ""))
    except Exception:  # a broken XMP packet is only one source of the digest
        log.debug("unreadable XMP metadata", exc_info=True)
    for text in sources:
        match = _DIGEST.search(text)
        if match:
            return match.group(1)
    return None


def _printed_codes(pages: list[str]) -> list[str]:
    """The verification codes printed in the footers, most frequent first."""
    counts: dict[str, int] = {}
    for page in pages:
        for code in _CODE.findall(page):
            counts[code] = counts.get(code, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


def normalise_code(text: str | None) -> str | None:
    """A verification code (校验码) as typed, as ``XXXX-XXXX-XXXX-XXXX``; None if it is not 16 hex digits.

    Full-width characters count as half-width (Unicode NFKC), lower case as upper case,
    and spaces and dashes anywhere (or none at all) are ignored.
    """
    if not text or len(text) > _CODE_MAX_INPUT:
        return None
    compact = _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    if not _CODE_HEX.fullmatch(compact):
        return None
    return "-".join(compact[i : i + 4] for i in range(0, 16, 4))


def document_for_code(session: Session, code: str) -> Document | None:
    """The issued document with verification ``code`` (XXXX-XXXX-XXXX-XXXX, any case), newest first; or None."""
    normal = normalise_code(code) or code.strip().upper()
    return session.scalars(
        select(Document).where(Document.verification_code == normal).order_by(Document.id.desc()).limit(1)
    ).first()


@dataclass(frozen=True)
class NewerIssue:
    """A later issue that replaces a document: its kind, version and when it was issued (UTC)."""

    kind: str
    version: int
    issued_at: datetime


@dataclass(frozen=True)
class PublicRecord:
    """What anyone holding a document may learn of it (文书核验结果): which document it is, never what it says.

    ``kind`` is a ``documents.DOCUMENT_KINDS`` name, ``issued_at`` aware UTC, ``newer``
    the issue that replaced it (a redrafted agreement) or None. No party, no amount.
    """

    code: str
    kind: str
    case_number: str
    version: int
    issued_at: datetime
    newer: NewerIssue | None = None


def newer_issue(session: Session, document: Document) -> Document | None:
    """The newest later issue of the same case that replaces ``document``, or None.

    As in the dossier (``snapshots.dossier_documents``): a record issued once per event
    (a session, a visit) is never replaced; an agreement is replaced by a later written or
    oral agreement, any other kind by a later issue of the same kind.
    """
    from .documents import AGREEMENT_KINDS, RECORD_KINDS  # WeasyPrint loads only where documents are made

    if document.kind in RECORD_KINDS:
        return None
    kinds = sorted(AGREEMENT_KINDS) if document.kind in AGREEMENT_KINDS else [document.kind]
    return session.scalars(
        select(Document)
        .where(Document.case_id == document.case_id, Document.kind.in_(kinds), Document.id > document.id)
        .order_by(Document.id.desc())
        .limit(1)
    ).first()


def public_record(session: Session, document: Document) -> PublicRecord:
    """What the public verification page may show of ``document`` (see ``PublicRecord``)."""
    newer = newer_issue(session, document)
    return PublicRecord(
        code=document.verification_code,
        kind=document.kind,
        case_number=document.case.number,
        version=document.version,
        issued_at=document.created_at,
        newer=NewerIssue(newer.kind, newer.version, newer.created_at) if newer is not None else None,
    )


def _candidates(session: Session, digest: str | None, pages: list[str]) -> list[Document]:
    if digest is not None:
        found = list(session.scalars(select(Document).where(Document.digest == digest).order_by(Document.id)))
        if found:
            return found
    for code in _printed_codes(pages):
        document = document_for_code(session, code)
        if document is not None:
            return [document]
    return []


def _result(status: Status, document: Document) -> VerifyResult:
    return VerifyResult(status, document.id, document.case.number, document.kind, document.version)


def verify_pdf(session: Session, pdf_bytes: bytes, *, cache_dir: Path | None = None) -> VerifyResult:
    """Tell a genuine issued document's PDF from an altered one or an unknown one (DESIGN.md §4).

    Looks the ``Document`` up by the digest in the PDF's metadata (else by the code in its
    footer), renders it from its stored context (``archive.document_pdf``, cached) and
    compares the text of every page. Never raises for a bad PDF: that is ``unknown``.
    """
    pages = pdf_text_pages(pdf_bytes)
    digest = pdf_digest(pdf_bytes)
    if not pages and digest is None:
        return VerifyResult("unknown")
    candidates = _candidates(session, digest, pages)
    if not candidates:
        return VerifyResult("unknown")
    from .archive import document_pdf  # WeasyPrint loads only when a document is checked

    for document in candidates:
        if pdf_text_pages(document_pdf(document, cache_dir)) == pages:
            return _result("genuine", document)
    return _result("altered", candidates[0])
