"""Checking a document's PDF against the record (文书核验), DESIGN.md §4.

Every issued document's PDF carries its content digest in its metadata keywords
(``mediation-digest:<hex>``) and its verification code in the footer of every page
(``mediation.documents``). ``verify_pdf`` finds the issued ``Document`` by the digest (by
the printed code when the metadata was stripped), renders it again from the context
stored with it, and compares the two PDFs page by page: the text of each page, then a
fingerprint of what the page draws (its decoded content stream, the resources it draws with:
fonts, images and form XObjects, recursively; its annotations with their appearances; its
boxes and rotation). The same text and drawing is ``genuine``, any other ``altered`` (a box
painted over a clause, a note added to the page alter a PDF whose words are unchanged); a
PDF whose digest and code match no issued document is ``unknown``. The document's metadata
(title, dates, producer) and the file's layout (object numbers, compression) are not
compared: a copy re-saved by another program that keeps every page as it was is genuine.
The CLI (``mediation documents verify``) and the public verification page (``/verify``,
linked from the status page; the QR code of an agreement opens it) call it.

The public page also looks a document up by the code alone (``normalise_code``,
``public_record``): it learns which document was issued under the code (kind, case
number, version, date, whether a newer issue replaced it) and nothing of its content.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pypdf import PageObject, PdfReader
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Document

__all__ = [
    "MAX_PAGES",
    "NewerIssue",
    "OpenedPdf",
    "PublicRecord",
    "Refusal",
    "UnreadablePdf",
    "VerifyResult",
    "document_for_code",
    "newer_issue",
    "normalise_code",
    "open_pdf",
    "open_upload",
    "pdf_digest",
    "pdf_text_pages",
    "public_record",
    "strip_code_input",
    "verify_pdf",
    "verify_upload",
]

Status = Literal["genuine", "altered", "unknown", "pending"]
#: Why a PDF is ``altered`` (or, for ``pages``, ``unknown``): its page count, the text of a page, or what a
#: page draws (its text being the same).
Reason = Literal["pages", "text", "appearance"]
#: Why an upload cannot be checked at all (``UnreadablePdf.refusal``).
Refusal = Literal["empty", "too_large", "not_pdf", "encrypted", "damaged"]

_DIGEST = re.compile(r"mediation-digest:([0-9a-f]{64})")
_CODE = re.compile(r"校验码\s*([0-9A-F]{4}(?:-[0-9A-F]{4}){3})")
_WHITESPACE = re.compile(r"\s+")
#: What people type between the groups of a code (after NFKC, so full-width forms are folded already).
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.·・]+")
_CODE_HEX = re.compile(r"[0-9A-F]{16}")
#: Invisible characters pasted along with a code (zero-width space, joiners, word joiner, BOM): dropped.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
#: Longer input (once stripped) is not a mistyped code; it is not normalised at all.
_CODE_MAX_INPUT = 100
#: No issued document is longer; a longer upload is not read past its first and last page.
MAX_PAGES = 300
#: Page-tree nodes walked to count the pages before pypdf flattens the tree (intermediate nodes included).
_MAX_TREE_NODES = 4 * MAX_PAGES
#: A page whose decoded content stream is longer is not read to find the code (an issued page has a few KB).
MAX_LOOKUP_CONTENT = 256 * 1024
#: An uploaded page is read for comparison only when its content is at most this factor times the issued
#: page's plus ``_CONTENT_SLACK`` bytes: pypdf's time grows with the content, and a longer one is not ours.
_CONTENT_FACTOR = 4
_CONTENT_SLACK = 64 * 1024
#: The text kept of a page (characters without whitespace); an issued page has a few thousand.
MAX_PAGE_TEXT = 50_000
#: The largest PDF checked, in bytes (the web's ``UPLOAD_MAX_BYTES`` by default; the CLI's limit).
MAX_PDF_BYTES = 20 * 1024 * 1024
#: Objects (dictionaries, arrays, streams…) walked for one page's fingerprint; an issued page has a few hundred.
_MAX_FINGERPRINT_NODES = 20_000
#: Nesting followed for one page's fingerprint (a form XObject inside a form…); deeper is not an issued page.
_MAX_FINGERPRINT_DEPTH = 32
#: Keys left out of a fingerprint: links up the page tree and to the page itself (an annotation's ``/P``, a
#: link's destination page), structure-tree indices, and how a stream is stored (its decoded data counts).
_UNDRAWN_KEYS = frozenset({"/Parent", "/P", "/Dest", "/StructParent", "/StructParents", "/Length", "/Filter",
                           "/DecodeParms", "/DL", "/Metadata"})
log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged upload is answered, not logged line by line


class UnreadablePdf(ValueError):
    """The bytes cannot be checked as a PDF. ``refusal`` says why: ``empty``, ``too_large`` (over
    ``MAX_PDF_BYTES``), ``not_pdf`` (the content is no PDF), ``encrypted``, ``damaged`` (pypdf cannot read it,
    or its page tree loops)."""

    def __init__(self, message: str, refusal: Refusal = "damaged") -> None:
        super().__init__(message)
        self.refusal: Refusal = refusal


@dataclass(frozen=True)
class VerifyResult:
    """What a PDF turned out to be (核验结果).

    ``status``: ``genuine``; ``altered`` (of the document named; ``reason`` ``pages`` when its
    page count is not the issued one's, ``text`` when a page's text differs); ``unknown`` (no
    issued document has its digest or code; ``reason`` ``pages`` when it also has more than
    ``MAX_PAGES`` pages); ``pending``: the document named was found but its PDF is a long one
    not rendered yet, so nothing was compared. ``pages`` is the upload's page count (None past
    ``MAX_PAGES``), ``issued_pages`` the issued document's when it was compared; ``page`` the first page
    (from 1) whose text (``reason`` ``text``) or drawing (``appearance``) differs.
    """

    status: Status
    document_id: int | None = None
    case_number: str | None = None
    kind: str | None = None
    version: int | None = None
    reason: Reason | None = None
    pages: int | None = None
    issued_pages: int | None = None
    page: int | None = None

    @property
    def genuine(self) -> bool:
        """True only for a PDF whose every page has the issued document's text and draws what it draws."""
        return self.status == "genuine"


def _count_pages(reader: PdfReader) -> int | None:
    """The leaves of the page tree, walking at most ``_MAX_TREE_NODES`` nodes; None when there are more.

    pypdf's own count flattens the whole tree first (seconds for a file of many thousand pages),
    and ``/Count`` may lie. Raises what pypdf raises for a damaged tree, ``UnreadablePdf`` for a loop.
    """
    stack: list[Any] = [reader.root_object.raw_get("/Pages")]
    seen: set[int] = set()
    leaves = 0
    while stack:
        node = stack.pop()
        ref = getattr(node, "idnum", None)
        node = node.get_object()
        if ref is not None:
            if ref in seen:
                raise UnreadablePdf("the page tree loops")
            seen.add(ref)
        if len(seen) > _MAX_TREE_NODES:
            return None
        kids = node.get("/Kids")
        if kids is None:
            leaves += 1
            if leaves > MAX_PAGES:
                return None
        else:
            stack.extend(kids.get_object())
    return leaves


def _contents(page: PageObject) -> bytes:
    """A page's decoded content stream(s), joined as pypdf joins an array of them."""
    contents = page.get_contents()
    return contents.get_data() if contents is not None else b""


def _content_length(page: PageObject) -> int:
    """The length in bytes of a page's decoded content stream(s)."""
    return len(_contents(page))


class _OverBudget(Exception):
    """A page's fingerprint would walk more than it may (nodes, nesting or bytes)."""


def _number(value: float) -> bytes:
    return f"{round(value, 4):g}".encode()


class _Fingerprints:
    """What the pages of one PDF draw, as SHA-256 digests; the objects they share (fonts, images) hashed once.

    A page's fingerprint covers its decoded content, boxes and rotation, its resources (fonts,
    images, form XObjects, graphics states, patterns…, followed recursively with their decoded
    stream data) and its annotations (subtype, rectangle, contents, appearance streams, actions).
    Left out: ``_UNDRAWN_KEYS`` and any other page an object points to (a link's target), so
    that object numbers, compression and the page tree do not count.
    """

    def __init__(self) -> None:
        self._done: dict[int, bytes] = {}
        self._nodes = 0
        self._bytes = 0
        self._max_bytes: int | None = None

    def page(self, page: PageObject, contents: bytes, max_bytes: int | None = None) -> tuple[bytes, int] | None:
        """The page's digest and the bytes hashed for it (objects hashed for an earlier page not counted), or
        None when that is over ``max_bytes`` or ``_MAX_FINGERPRINT_NODES`` objects. Raises what pypdf raises for
        a damaged object."""
        self._nodes, self._bytes, self._max_bytes = 0, 0, max_bytes
        digest = hashlib.sha256()
        try:
            self._feed(digest, b"contents", contents)
            for box in (page.mediabox, page.cropbox):
                digest.update(b"box" + b",".join(_number(float(v)) for v in box))
            digest.update(b"rotate%d" % (page.rotation % 360))
            for key in ("/Resources", "/Annots", "/Group", "/UserUnit"):
                digest.update(key.encode())
                if key in page:
                    digest.update(self._fold(page.raw_get(key), 0))
        except _OverBudget:
            return None
        return digest.digest(), self._bytes

    def _feed(self, digest: Any, tag: bytes, data: bytes) -> None:
        self._bytes += len(data)
        if self._max_bytes is not None and self._bytes > self._max_bytes:
            raise _OverBudget
        digest.update(tag + b"%d:" % len(data) + data)

    def _fold(self, obj: Any, depth: int) -> bytes:
        """The digest of ``obj`` (an indirect object by what it holds, not by its number)."""
        self._nodes += 1
        if self._nodes > _MAX_FINGERPRINT_NODES or depth > _MAX_FINGERPRINT_DEPTH:
            raise _OverBudget
        if isinstance(obj, IndirectObject):
            ref = obj.idnum
            if ref in self._done:
                return self._done[ref]
            self._done[ref] = b"cycle"  # an object reached again inside itself
            target = obj.get_object()
            if isinstance(target, DictionaryObject) and target.get("/Type") == "/Page":
                result = b"page"  # a link's target page: drawn elsewhere, compared there
            else:
                result = self._fold(target, depth + 1)
            self._done[ref] = result
            return result
        digest = hashlib.sha256()
        if isinstance(obj, DictionaryObject):
            digest.update(b"stream" if isinstance(obj, StreamObject) else b"dict")
            for key in sorted(k for k in obj if k not in _UNDRAWN_KEYS):
                digest.update(key.encode() + b"=" + self._fold(obj.raw_get(key), depth + 1))
            if isinstance(obj, StreamObject):
                encoded = obj._data or b""
                if self._max_bytes is not None and self._bytes + len(encoded) > self._max_bytes:
                    raise _OverBudget  # not even decoded: far more than the issued page holds
                try:
                    data = obj.get_data()
                except NotImplementedError:  # a filter pypdf cannot decode: its bytes as stored
                    data = encoded
                self._feed(digest, b"data", data)
        elif isinstance(obj, ArrayObject):
            digest.update(b"array")
            for item in obj:
                digest.update(self._fold(item, depth + 1))
        elif isinstance(obj, TextStringObject):
            self._feed(digest, b"string", obj.original_bytes)
        elif isinstance(obj, ByteStringObject):
            self._feed(digest, b"string", bytes(obj))
        elif isinstance(obj, NameObject):
            digest.update(b"name" + obj.encode())
        elif isinstance(obj, BooleanObject):
            digest.update(b"true" if obj else b"false")
        elif isinstance(obj, (NumberObject, FloatObject)):
            digest.update(b"number" + _number(float(obj)))
        else:
            digest.update(b"null")
        return digest.digest()


class OpenedPdf:
    """A PDF opened once for checking (待核验文书): its page count, digest, and the pages' text and fingerprints
    (what they draw), read on demand.

    Raises ``UnreadablePdf`` when the bytes do not open as a PDF (refusal ``damaged``), are
    encrypted (``encrypted``), or its page tree cannot be walked. ``pages`` is None when there
    are more than ``MAX_PAGES``. ``text(i)`` and ``fingerprint(i)`` read a page once and keep
    it; ``extractions`` counts the pages whose text was extracted.
    """

    def __init__(self, pdf_bytes: bytes) -> None:
        try:
            self._reader = PdfReader(io.BytesIO(pdf_bytes))
            if self._reader.is_encrypted:
                raise UnreadablePdf("the PDF is encrypted", "encrypted")
            self.pages = _count_pages(self._reader)
        except UnreadablePdf:
            raise
        except Exception as exc:  # untrusted bytes: a damaged PDF makes pypdf raise almost anything
            log.debug("unreadable PDF", exc_info=True)
            raise UnreadablePdf(str(exc) or type(exc).__name__) from exc
        self.digest = _metadata_digest(self._reader)
        self._texts: dict[int, str] = {}
        self._contents: dict[int, bytes] = {}
        self._fingerprints = _Fingerprints()
        self.extractions = 0

    def page(self, index: int) -> PageObject:
        """Page ``index`` (from 0, negative from the end); only when ``pages`` is known."""
        if self.pages is None:
            raise UnreadablePdf("the PDF has too many pages to be read")
        return self._reader.pages[index % self.pages]

    def _key(self, index: int) -> int:
        return index % self.pages if self.pages else index

    def _page_contents(self, key: int) -> bytes:
        if key not in self._contents:
            self._contents[key] = _contents(self.page(key))
        return self._contents[key]

    def text(self, index: int, max_content: int) -> str | None:
        """The text of page ``index`` without whitespace (at most ``MAX_PAGE_TEXT`` characters), or None when
        its decoded content is over ``max_content`` bytes. Raises ``UnreadablePdf`` for a damaged page."""
        key = self._key(index)
        if key in self._texts:
            return self._texts[key]
        try:
            page = self.page(key)
            if len(self._page_contents(key)) > max_content:
                return None
            self.extractions += 1
            text = _WHITESPACE.sub("", page.extract_text() or "")[:MAX_PAGE_TEXT]
        except UnreadablePdf:
            raise
        except Exception as exc:  # a damaged content stream, a decompression bomb…
            log.debug("unreadable PDF page", exc_info=True)
            raise UnreadablePdf(str(exc) or type(exc).__name__) from exc
        self._texts[key] = text
        return text

    def fingerprint(self, index: int, max_bytes: int) -> bytes | None:
        """The digest of what page ``index`` draws (``_Fingerprints``), or None when it would hash more than
        ``max_bytes`` bytes (content, stream data, strings) or walk too many objects. Raises ``UnreadablePdf``
        for a damaged page."""
        key = self._key(index)
        try:
            found = self._fingerprints.page(self.page(key), self._page_contents(key), max_bytes)
        except UnreadablePdf:
            raise
        except Exception as exc:  # a damaged stream or object: nothing issued here is damaged
            log.debug("unreadable PDF page", exc_info=True)
            raise UnreadablePdf(str(exc) or type(exc).__name__) from exc
        return found[0] if found is not None else None

    def printed_code(self) -> str | None:
        """The verification code printed in the footer of the first page, else of the last; None if neither
        has one. Reads at most those two pages, each only when its content is under ``MAX_LOOKUP_CONTENT``."""
        if not self.pages:
            return None
        for index in dict.fromkeys((0, self.pages - 1)):
            text = self.text(index, MAX_LOOKUP_CONTENT)
            found = _CODE.search(text or "")
            if found:
                return found.group(1)
        return None


def open_pdf(pdf_bytes: bytes) -> OpenedPdf:
    """The PDF opened for checking (``OpenedPdf``); raises ``UnreadablePdf`` (damaged, encrypted)."""
    return OpenedPdf(pdf_bytes)


def open_upload(data: bytes, max_bytes: int = MAX_PDF_BYTES) -> OpenedPdf:
    """A file someone wants checked, opened as a PDF (``OpenedPdf``) after the cheap checks.

    Raises ``UnreadablePdf`` whose ``refusal`` is ``empty``, ``too_large`` (over ``max_bytes``
    bytes), ``not_pdf`` (its content is no PDF, ``attachments.sniff``), ``encrypted`` or
    ``damaged``. The web page and the CLI both answer these in the same words.
    """
    from .attachments import PDF, sniff
    from .errors import ValidationError

    if not data:
        raise UnreadablePdf("the file is empty", "empty")
    if len(data) > max_bytes:
        raise UnreadablePdf(f"the file is larger than {max_bytes} bytes", "too_large")
    try:
        is_pdf = sniff(data) == PDF
    except ValidationError:
        is_pdf = False
    if not is_pdf:
        raise UnreadablePdf("the file is not a PDF", "not_pdf")
    return OpenedPdf(data)


def _page_texts(pdf_bytes: bytes) -> list[str] | None:
    """The text of each page without whitespace, or None when the PDF or a page of it cannot be read."""
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        return [_WHITESPACE.sub("", page.extract_text() or "") for page in reader.pages]
    except Exception:  # a damaged content stream, an encrypted file, a decompression bomb…
        log.debug("unreadable PDF", exc_info=True)
        return None


def pdf_text_pages(pdf_bytes: bytes) -> list[str]:
    """The text of each page without any whitespace (layout may differ, letters may not); [] if unreadable.

    Reads every page: for a PDF this system made, not for an upload (see ``OpenedPdf``).
    """
    return _page_texts(pdf_bytes) or []


def _metadata_digest(reader: PdfReader) -> str | None:
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


def pdf_digest(pdf_bytes: bytes) -> str | None:
    """The content digest in a PDF's keywords (document information, else XMP), or None."""
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
    except Exception:  # untrusted bytes
        log.debug("unreadable PDF", exc_info=True)
        return None
    return _metadata_digest(reader)


def normalise_code(text: str | None) -> str | None:
    """A verification code (校验码) as typed, as ``XXXX-XXXX-XXXX-XXXX``; None if it is not 16 hex digits.

    Full-width characters count as half-width (Unicode NFKC), lower case as upper case,
    and spaces and dashes anywhere (or none at all) are ignored; zero-width characters
    (``_ZERO_WIDTH``, left by copying from a chat or a web page) and surrounding whitespace are
    dropped before the input's length is checked against ``_CODE_MAX_INPUT``.
    """
    text = strip_code_input(text)
    if not text or len(text) > _CODE_MAX_INPUT:
        return None
    compact = _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    if not _CODE_HEX.fullmatch(compact):
        return None
    return "-".join(compact[i : i + 4] for i in range(0, 16, 4))


def strip_code_input(text: str | None) -> str:
    """``text`` without zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and surrounding whitespace."""
    return (text or "").translate(_ZERO_WIDTH).strip()


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


def _candidates(session: Session, upload: OpenedPdf) -> list[Document]:
    """The documents the upload claims to be: by its metadata digest, else by the code printed on its first
    (else last) page."""
    if upload.digest is not None:
        found = list(session.scalars(select(Document).where(Document.digest == upload.digest).order_by(Document.id)))
        if found:
            return found
    code = upload.printed_code()
    document = document_for_code(session, code) if code is not None else None
    return [document] if document is not None else []


def _result(status: Status, document: Document, **detail: Any) -> VerifyResult:
    return VerifyResult(status, document.id, document.case.number, document.kind, document.version, **detail)


def _compare(upload: OpenedPdf, issued_pdf: bytes) -> tuple[Reason | None, int, int | None]:
    """None when every page of the upload has the issued PDF's text and draws what it draws, else why not; the
    issued page count; the first page (from 1) that differs.

    The page counts are compared first; then page by page, stopping at the first difference,
    the text, then the fingerprint (``_Fingerprints``). An uploaded page is read only when its
    content, and then what its fingerprint hashes, is not far longer than the issued page's.
    """
    issued = PdfReader(io.BytesIO(issued_pdf))
    count = len(issued.pages)
    if upload.pages != count:
        return "pages", count, None
    fingerprints = _Fingerprints()
    for index, page in enumerate(issued.pages):
        contents = _contents(page)
        limit = _CONTENT_FACTOR * len(contents) + _CONTENT_SLACK
        if upload.text(index, limit) != _WHITESPACE.sub("", page.extract_text() or "")[:MAX_PAGE_TEXT]:
            return "text", count, index + 1
        drawn = fingerprints.page(page, contents)
        assert drawn is not None  # no limit on the issued PDF's own pages
        digest, hashed = drawn
        if upload.fingerprint(index, _CONTENT_FACTOR * hashed + _CONTENT_SLACK) != digest:
            return "appearance", count, index + 1
    return None, count, None


def verify_upload(
    session: Session,
    upload: OpenedPdf,
    *,
    cache_dir: Path | None = None,
    may_render: Callable[[Document], bool] | None = None,
) -> VerifyResult:
    """Tell a genuine issued document's PDF from an altered one or an unknown one (DESIGN.md §4).

    Looks the ``Document`` up by the digest in the upload's metadata (else by the code in the
    footer of its first or last page), takes its PDF (``archive.document_pdf``: cached, else
    rendered from its stored context) and compares the page counts, then each page's text and what it draws
    (``_compare``). ``may_render(document)`` False for a document whose PDF is not cached gives
    ``pending`` instead of rendering it (a public request does not wait for a dossier).
    Raises ``UnreadablePdf`` when a page of the upload cannot be read.
    """
    candidates = _candidates(session, upload)
    if not candidates:
        return VerifyResult("unknown", reason="pages" if upload.pages is None else None, pages=upload.pages)
    if upload.pages is None:
        return _result("altered", candidates[0], reason="pages")
    from .archive import document_pdf, is_cached  # WeasyPrint loads only when a document is checked

    first: VerifyResult | None = None
    for document in candidates:
        if may_render is not None and not is_cached(document, cache_dir) and not may_render(document):
            return _result("pending", document, pages=upload.pages)
        reason, issued_pages, page = _compare(upload, document_pdf(document, cache_dir))
        if reason is None:
            return _result("genuine", document, pages=upload.pages, issued_pages=issued_pages)
        first = first or _result("altered", document, reason=reason, pages=upload.pages, issued_pages=issued_pages,
                                 page=page)
    assert first is not None
    return first


def verify_pdf(session: Session, pdf_bytes: bytes, *, cache_dir: Path | None = None) -> VerifyResult:
    """``verify_upload`` for PDF bytes, rendering whatever it needs; never raises for a bad PDF: that is
    ``unknown``."""
    try:
        return verify_upload(session, open_pdf(pdf_bytes), cache_dir=cache_dir)
    except UnreadablePdf:
        return VerifyResult("unknown")
