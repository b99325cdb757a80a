"""Checking a document's PDF against the record (文书核验), DESIGN.md §4.

Every issued document's PDF carries its content digest in its metadata keywords
(``mediation-digest:<hex>``) and its verification code in the footer of every page
(``mediation.documents``). ``verify_pdf`` finds the issued ``Document`` by the digest (by
the printed code when the metadata was stripped), renders it again from the context
stored with it, and compares the text of the two PDFs page by page: the same text is
``genuine``, any other ``altered``; a PDF whose digest and code match no issued document
is ``unknown``. The CLI (``mediation documents verify``) and the public status page call it.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Document

__all__ = ["VerifyResult", "document_for_code", "pdf_digest", "pdf_text_pages", "verify_pdf"]

Status = Literal["genuine", "altered", "unknown"]

_DIGEST = re.compile(r"mediation-digest:([0-9a-f]{64})")
_CODE = re.compile(r"校验码\s*([0-9A-F]{4}(?:-[0-9A-F]{4}){3})")
_WHITESPACE = re.compile(r"\s+")


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
    except (PyPdfError, ValueError, TypeError, KeyError, OSError):
        return None
    return reader


def pdf_text_pages(pdf_bytes: bytes) -> list[str]:
    """The text of each page without any whitespace (layout may differ, letters may not); [] if unreadable."""
    reader = _reader(pdf_bytes)
    if reader is None:
        return []
    pages = []
    for page in reader.pages:
        pages.append(_WHITESPACE.sub("", page.extract_text() or ""))
    return pages


def pdf_digest(pdf_bytes: bytes) -> str | None:
    """The content digest in a PDF's keywords (document information, else XMP), or None."""
    reader = _reader(pdf_bytes)
    if reader is None:
        return None
    sources: list[str] = []
    info = reader.metadata
    if info is not None:
        sources.extend(str(info.get(key) or "") for key in ("/Keywords", "/Subject"))
    try:
        xmp = reader.xmp_metadata
        if xmp is not None:
            sources.append(str(xmp.pdf_keywords or ""))
    except Exception:  # a broken XMP packet is only one source of the digest
        logging.getLogger(__name__).debug("unreadable XMP metadata", exc_info=True)
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


def document_for_code(session: Session, code: str) -> Document | None:
    """The issued document with verification ``code`` (XXXX-XXXX-XXXX-XXXX, any case), newest first; or None."""
    normal = code.strip().upper()
    return session.scalars(
        select(Document).where(Document.verification_code == normal).order_by(Document.id.desc()).limit(1)
    ).first()


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
