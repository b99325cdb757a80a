"""Evidence files (证据材料, DOMAIN R33): checked by content, kept by content hash.

A file is accepted when its content (not its name) is PDF, JPEG, PNG, Word (DOCX) or
Excel (XLSX) and it is at most ``MAX_BYTES``; an Office file with macros is refused. It
is written once under ``<root>/<aa>/<bb>/<sha256>`` (outside any static folder) and
recorded by the ``attach`` trigger as an ``Attachment`` and an event on the timeline.
A file written for an upload that is then refused stays as an unreferenced blob; the
same content uploaded again reuses it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import policy, services
from .errors import NotFound, PermissionDenied, ValidationError
from .i18n import N_
from .models import Attachment, Case
from .services import UnitOfWork

#: The largest file accepted: 20 MB.
MAX_BYTES = 20 * 1024 * 1024
PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Accepted types and the file-name extensions that belong to each (the first is used when a name has none).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
}
#: The part of an Office package that must be there for each type.
_OOXML_PARTS = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def sniff(data: bytes) -> str:
    """The content type of ``data`` among ``EXTENSIONS``; raises ``ValidationError`` (key ``file``).

    Looks at the content only (magic numbers through ``filetype``, and for DOCX and XLSX
    the package's parts); an Office file that carries macros (``vbaProject.bin``) is refused.
    """
    if not data:
        raise ValidationError({"file": N_("The file is empty.")})
    kind = filetype.guess(data[:8192])
    mime = str(kind.mime) if kind is not None else None
    if mime in _OOXML_PARTS:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ValidationError({"file": N_("The file is damaged.")}) from exc
        if "[Content_Types].xml" not in names or _OOXML_PARTS[mime] not in names:
            raise ValidationError({"file": N_("The file is damaged.")})
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise ValidationError({"file": N_("Office files with macros cannot be attached.")})
    if mime not in EXTENSIONS:
        raise ValidationError({"file": N_("Only PDF, JPEG, PNG, Word (DOCX) and Excel (XLSX) files can be attached.")})
    assert mime is not None
    return mime


def clean_filename(name: str | None) -> str:
    """The last part of an uploaded file's name, without control or path characters, at most 255 characters."""
    raw = unicodedata.normalize("NFC", name or "")
    base = PureWindowsPath(PurePosixPath(raw).name).name
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base:
        return "attachment"
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10:
        return stem[: 255 - len(ext) - 1] + "." + ext
    return base[:255]


def download_name(filename: str, content_type: str) -> str:
    """The name to download a file as: its own, with the extension its content has when the name says otherwise."""
    extensions = EXTENSIONS.get(content_type, ())
    if not extensions or filename.lower().endswith(extensions):
        return filename
    return filename + extensions[0]


def blob_path(root: Path, sha256: str) -> Path:
    """Where the content with this SHA-256 (hex) is kept under ``root``."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root / sha256[:2] / sha256[2:4] / sha256


def store(root: Path, data: bytes) -> str:
    """Write ``data`` under ``root`` by its SHA-256 (once; atomically) and return the hex digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(root, digest)
    if path.is_file() and path.stat().st_size == len(data):
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def attach_file(
    uow: UnitOfWork,
    case_id: int,
    actor_id: int | None,
    filename: str | None,
    data: bytes,
    root: Path,
    *,
    description: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> services.Fired:
    """Check, store and record an evidence file on a case (one ``attach`` event).

    Raises ``NotFound`` or ``PermissionDenied`` before anything is written, then
    ``ValidationError`` (key ``file``: empty, too large, a type not accepted) and whatever
    ``services.fire`` raises.
    """
    session = uow.session
    case = session.get(Case, case_id)
    actor = services._actor(session, actor_id)
    if case is None or not policy.can_view(actor, case):
        raise NotFound(N_("No such case."))
    definition = uow.engine.registry.get(case.workflow, case.workflow_version)
    if not policy.can(actor, "attach", case, definition):
        raise PermissionDenied(N_("You may not do this to this case."))
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": N_("A file can be at most 20 MB.")})
    content_type = sniff(data)
    digest = store(root, data)
    return services.fire(
        uow, case_id, "attach", actor_id,
        {
            "filename": clean_filename(filename),
            "content_type": content_type,
            "size": len(data),
            "sha256": digest,
            "description": description,
        },
        expected_version=expected_version, now=now,
    )


def case_attachments(session: Session, case_id: int) -> list[Attachment]:
    """The case's attachments, oldest first, with their uploaders loaded."""
    return list(session.scalars(
        select(Attachment).where(Attachment.case_id == case_id)
        .options(selectinload(Attachment.uploaded_by)).order_by(Attachment.uploaded_at, Attachment.id)
    ))
