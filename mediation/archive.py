"""PDFs of issued documents (文书存档), rendered from their stored context and cached.

A document's PDF is a function of its stored context and of the templates that lay it
out, so the cache is keyed by both: the content digest and a fingerprint of
``templates/documents/``. A changed case issues a new document version; a changed
template renders anew instead of serving the old layout.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache as memoise
from pathlib import Path

from .db import INSTANCE_DIR
from .documents import render_pdf
from .models import Document
from .snapshots import from_stored

DEFAULT_CACHE = INSTANCE_DIR / "documents"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "documents"


@memoise
def layout_fingerprint() -> str:
    """12 hex digits of a digest over every file of ``templates/documents/`` (read once per process)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        digest.update(path.relative_to(TEMPLATES).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def document_pdf(document: Document, cache_dir: Path | None = None) -> bytes:
    """The PDF bytes of ``document``, rendered once and then read from ``cache_dir``."""
    cache = Path(cache_dir or os.environ.get("MEDIATION_DOCUMENT_CACHE") or DEFAULT_CACHE)
    path = cache / f"{document.kind}-{document.digest}-{layout_fingerprint()}.pdf"
    if path.is_file():
        return path.read_bytes()
    pdf = render_pdf(document.kind, from_stored(document.context), digest=document.digest)
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    os.replace(tmp, path)  # atomic: concurrent renders of one document never see half a file
    return pdf


def document_filename(document: Document, case_number: str) -> str:
    """A download name such as ``（2026）温溪警调字第0001号-调解协议书-v1.pdf``."""
    return f"{case_number}-{document.title}-v{document.version}.pdf"
