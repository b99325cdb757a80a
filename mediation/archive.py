"""PDFs of issued documents (文书存档), rendered from their stored context and cached.

A document's PDF is a function of its stored context, of the templates that lay it out and
of the verification address its QR code and footer print (``MEDIATION_VERIFY_BASE_URL``), so
the cache is keyed by all three: the content digest and a fingerprint of ``templates/documents/``
and of that address. A changed case issues a new document version; a changed template or
verification address renders anew instead of serving the old layout or the old QR code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache as memoise
from pathlib import Path

from .db import INSTANCE_DIR
from .documents import render_pdf, verify_base_url
from .models import Document
from .snapshots import from_stored

DEFAULT_CACHE = INSTANCE_DIR / "documents"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "documents"

#: The stages a render reports to a ``Progress`` callback, in order (渲染进度).
PREPARING, LAYOUT, WRITING = "preparing", "layout", "writing"
#: ``progress(stage, pages)``: ``stage`` one of PREPARING, LAYOUT, WRITING; ``pages`` laid out so far.
Progress = Callable[[str, int], None]
#: Seconds between two reports of pages laid out within one stage (a stage change is reported at once).
REPORT_EVERY = 1.0
#: WeasyPrint announces its steps on this logger at INFO ("Step 5 - Creating layout - Page 3", "Step 6 - Creating PDF").
_WEASYPRINT_PROGRESS = logging.getLogger("weasyprint.progress")
_listening_lock = threading.Lock()
_listening: list[_ProgressRelay] = []  # the relays attached now
_logger_before: list[tuple[int, bool]] = []  # the logger's level and propagate flag before the first
log = logging.getLogger(__name__)


class CacheError(OSError):
    """The document cache (文书缓存) cannot be written: the folder cannot be made, or the PDF not stored
    there. The message names the cache folder; the cause (``__cause__``) is the ``OSError`` raised."""


@memoise
def layout_fingerprint() -> str:
    """12 hex digits of a digest over every file of ``templates/documents/`` (read once per process)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        digest.update(path.relative_to(TEMPLATES).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fingerprint(verify_base: str | None = None) -> str:
    """12 hex digits over the layout fingerprint and the verification address ``verify_base`` (default
    ``documents.verify_base_url()``, i.e. ``MEDIATION_VERIFY_BASE_URL``) printed in each QR code."""
    base = verify_base if verify_base is not None else verify_base_url()
    return hashlib.sha256(f"{layout_fingerprint()}\n{base}".encode()).hexdigest()[:12]


def cache_name(kind: str, digest: str, verify_base: str | None = None) -> str:
    """The cache entry of a document's PDF from its kind and content digest and the ``fingerprint`` of the
    templates and the verification address, e.g. ``dossier-3f…9a-0b1c2d3e4f5a`` (the same in every process
    sharing the templates and ``MEDIATION_VERIFY_BASE_URL``)."""
    return f"{kind}-{digest}-{fingerprint(verify_base)}"


def cache_dir_of(cache_dir: Path | str | None = None) -> Path:
    """The document cache folder: ``cache_dir``, else ``MEDIATION_DOCUMENT_CACHE``, else ``instance/documents``."""
    return Path(cache_dir or os.environ.get("MEDIATION_DOCUMENT_CACHE") or DEFAULT_CACHE)


def cache_path(document: Document, cache_dir: Path | None = None, verify_base: str | None = None) -> Path:
    """Where ``document``'s PDF is cached: under ``cache_dir_of(cache_dir)``, named by ``cache_name``."""
    return cache_dir_of(cache_dir) / f"{cache_name(document.kind, document.digest, verify_base)}.pdf"


def is_cached(document: Document, cache_dir: Path | None = None) -> bool:
    """True when ``document``'s PDF is in the cache, so ``document_pdf`` reads it instead of rendering."""
    return cache_path(document, cache_dir).is_file()


class _ProgressRelay(logging.Handler):
    """Turns WeasyPrint's step messages, logged by one thread, into ``progress(stage, pages)`` calls.

    The render runs under the process-wide render lock, and a report may go to a slow store (Redis),
    so it reports each stage change and the pages at most every ``REPORT_EVERY`` seconds, and nothing
    more after a report fails (the render goes on).
    """

    def __init__(self, progress: Progress, thread: int) -> None:
        super().__init__(logging.INFO)
        self.progress = progress
        self.thread = thread
        self.pages = 0
        self.stage = PREPARING
        self.reported_stage = ""
        self.reported_at = float("-inf")
        self.broken = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return  # another thread's render (renders take turns, but may queue up behind ours)
        message = str(record.msg)
        if message.startswith("Step 5") and "Page" in message and record.args:
            page = record.args[0] if isinstance(record.args, tuple) else None
            if isinstance(page, int) and page > self.pages:  # a repagination pass counts from 1 again
                self.pages = page
                self.stage = LAYOUT
                self.report()
        elif message.startswith("Step 6") and self.stage != WRITING:
            self.stage = WRITING
            self.report()

    def report(self) -> None:
        now = time.monotonic()
        if self.broken or (self.stage == self.reported_stage and now - self.reported_at < REPORT_EVERY):
            return
        self.reported_stage, self.reported_at = self.stage, now
        try:
            self.progress(self.stage, self.pages)
        except Exception:  # a lost progress report never stops the render; no more are tried
            self.broken = True
            log.warning("could not record the progress of a render; rendering on without reporting", exc_info=True)


@contextmanager
def _relayed(progress: Progress) -> Iterator[_ProgressRelay]:
    """Listen to WeasyPrint's progress logger for the current thread while the block runs.

    The logger is raised to INFO and kept from propagating (so the step messages do not reach
    the application's log) while any relay listens, and put back as it was after the last one.
    """
    relay = _ProgressRelay(progress, threading.get_ident())
    with _listening_lock:
        if not _listening:
            _logger_before[:] = [(_WEASYPRINT_PROGRESS.level, _WEASYPRINT_PROGRESS.propagate)]
            _WEASYPRINT_PROGRESS.setLevel(logging.INFO)
            _WEASYPRINT_PROGRESS.propagate = False
        _listening.append(relay)
        _WEASYPRINT_PROGRESS.addHandler(relay)
    try:
        yield relay
    finally:
        with _listening_lock:
            _WEASYPRINT_PROGRESS.removeHandler(relay)
            _listening.remove(relay)
            if not _listening:
                level, propagate = _logger_before.pop()
                _WEASYPRINT_PROGRESS.setLevel(level)
                _WEASYPRINT_PROGRESS.propagate = propagate


def document_pdf(document: Document, cache_dir: Path | None = None, progress: Progress | None = None) -> bytes:
    """The PDF bytes of ``document``, rendered once and then read from the cache (``cache_path``).

    ``progress(stage, pages)``, when given, hears how a render goes: PREPARING (the HTML),
    LAYOUT with the pages laid out so far, WRITING (the PDF file); a cached PDF reports nothing.
    The QR code points at ``verify_base_url()`` as it is now, which is part of the cache key.
    Raises what ``documents.render_pdf`` raises (``UnknownDocumentKind``, ``DisallowedResource``)
    and ``CacheError`` (an ``OSError``) when the cache cannot be written; no ``.part`` file is left.
    """
    base = verify_base_url()
    path = cache_path(document, cache_dir, base)
    if path.is_file():
        return path.read_bytes()
    context = from_stored(document.context)
    if progress is None:
        pdf = render_pdf(document.kind, context, digest=document.digest, verify_base=base)
    else:
        with _relayed(progress) as relay:
            relay.report()  # PREPARING: the HTML is built from the stored context
            pdf = render_pdf(document.kind, context, digest=document.digest, verify_base=base)
    _store(path, pdf)
    return pdf


def _store(path: Path, pdf: bytes) -> None:
    """Write ``pdf`` to ``path`` atomically (a ``.part`` file beside it, then renamed, so concurrent renders
    of one document never see half a file); raises ``CacheError``, removing the ``.part`` file."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        os.replace(tmp, path)
    except BaseException as exc:  # an interrupted write leaves no .part file either
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise CacheError(f"the PDF could not be stored in the document cache {path.parent}: "
                             f"{type(exc).__name__}: {exc.strerror or exc}") from exc
        raise


def document_filename(document: Document, case_number: str) -> str:
    """A download name such as ``（2026）温溪警调字第0001号-调解协议书-v1.pdf``."""
    return f"{case_number}-{document.title}-v{document.version}.pdf"
