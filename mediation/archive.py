"""PDFs of issued documents (文书存档), rendered from their stored context and cached.

A document's PDF is a function of its stored context and of the templates that lay it
out, so the cache is keyed by both: the content digest and a fingerprint of
``templates/documents/``. A changed case issues a new document version; a changed
template renders anew instead of serving the old layout.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache as memoise
from pathlib import Path

from .db import INSTANCE_DIR
from .documents import render_pdf
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


@memoise
def layout_fingerprint() -> str:
    """12 hex digits of a digest over every file of ``templates/documents/`` (read once per process)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        digest.update(path.relative_to(TEMPLATES).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cache_name(kind: str, digest: str) -> str:
    """The cache entry of a document's PDF from its kind and content digest and the layout
    fingerprint, e.g. ``dossier-3f…9a-0b1c2d3e4f5a`` (the same in every process sharing the templates)."""
    return f"{kind}-{digest}-{layout_fingerprint()}"


def cache_path(document: Document, cache_dir: Path | None = None) -> Path:
    """Where ``document``'s PDF is cached: under ``cache_dir``, else ``MEDIATION_DOCUMENT_CACHE``, else
    ``instance/documents``."""
    cache = Path(cache_dir or os.environ.get("MEDIATION_DOCUMENT_CACHE") or DEFAULT_CACHE)
    return cache / f"{cache_name(document.kind, document.digest)}.pdf"


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
    Raises what ``documents.render_pdf`` raises (``UnknownDocumentKind``, ``DisallowedResource``)
    and ``OSError`` when the cache cannot be written.
    """
    path = cache_path(document, cache_dir)
    if path.is_file():
        return path.read_bytes()
    if progress is None:
        pdf = render_pdf(document.kind, from_stored(document.context), digest=document.digest)
    else:
        with _relayed(progress) as relay:
            relay.report()  # PREPARING: the HTML is built from the stored context
            pdf = render_pdf(document.kind, from_stored(document.context), digest=document.digest)
    cache = path.parent
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    os.replace(tmp, path)  # atomic: concurrent renders of one document never see half a file
    return pdf


def document_filename(document: Document, case_number: str) -> str:
    """A download name such as ``（2026）温溪警调字第0001号-调解协议书-v1.pdf``."""
    return f"{case_number}-{document.title}-v{document.version}.pdf"
