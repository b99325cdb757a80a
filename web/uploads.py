"""Uploads (上传): views marked ``accepts_upload`` take a request body up to the upload limit.

Every other request keeps ``MAX_CONTENT_LENGTH`` (2 MB). The limit must be known before
CSRFProtect reads the form in ``before_request``, so it is the request class that asks
the matched view, not the view itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Blueprint, Request, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import render_error

F = TypeVar("F", bound=Callable[..., Any])
#: Room for the form's other fields and the multipart boundaries besides the file itself.
FORM_OVERHEAD = 256 * 1024
MB = 1024 * 1024
#: How much of a refused body is read to see whether it carries a file (its parts' headers come first).
_PEEK = 8 * 1024
#: The header of a multipart part that carries a file.
_FILE_PART = re.compile(rb'content-disposition:[^\r\n]*;\s*filename\*?=', re.IGNORECASE)


def accepts_upload(view: F) -> F:
    """Mark a view as taking a file of up to ``UPLOAD_MAX_BYTES``."""
    view.accepts_upload = True  # type: ignore[attr-defined]
    return view


class UploadRequest(Request):
    """A request whose body may be as large as an upload when its view accepts one."""

    @property
    def max_content_length(self) -> int | None:
        """``UPLOAD_MAX_BYTES`` plus the form's overhead for an upload view, else the app's limit."""
        if self._max_content_length is not None:  # set for this request by a view
            return self._max_content_length
        view = current_app.view_functions.get(self.url_rule.endpoint) if self.url_rule is not None else None
        if getattr(view, "accepts_upload", False):
            return int(current_app.config["UPLOAD_MAX_BYTES"]) + FORM_OVERHEAD
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return int(limit) if limit is not None else None

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def upload_limit() -> int:
    """The largest file an upload view takes, in bytes (``UPLOAD_MAX_BYTES``, 20 MB by default)."""
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def upload_mb() -> int:
    """``upload_limit`` in whole megabytes (MiB), as the messages say it."""
    return upload_limit() // MB


def read_upload(file: IO[bytes], limit: int | None = None) -> bytes:
    """The uploaded file's bytes, at most ``limit`` + 1 of them (default ``upload_limit()``).

    More than ``limit`` bytes means the file is over the limit; the caller says so in its
    own words (a field error, a validation message). Never reads the rest of the stream.
    """
    return file.read((upload_limit() if limit is None else limit) + 1)


def file_too_large() -> bool:
    """Whether a request refused for its size (``RequestEntityTooLarge``) was refused for a file.

    True only on an upload view (``accepts_upload``) whose body is declared longer than the
    request limit and whose first ``_PEEK`` bytes (read from the WSGI input, which was not read:
    the body was refused before its form was parsed) hold a part with a file name. False for a
    body within the limit (one form field over Flask's ``MAX_FORM_MEMORY_SIZE``, the file being
    checked by the view itself), a body that carries no file, or a view that takes none.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    limit = request.max_content_length
    length = request.content_length
    if not getattr(view, "accepts_upload", False) or length is None or limit is None or length <= limit:
        return False
    stream = request.environ.get("wsgi.input")
    try:
        head = stream.read(_PEEK) if stream is not None else b""
    except (OSError, ValueError):  # the client went away, or the server closed the input
        return False
    return isinstance(head, bytes) and _FILE_PART.search(head) is not None


def nothing_saved(mb: int) -> ResponseReturnValue:
    """The error page (413) for a request over the limit on a page that saves a file: a file over ``mb`` MB,
    else (``file_too_large`` False) what was sent; nothing was saved."""
    if not file_too_large():
        return render_error(413)
    return render_error(413, _("A file can be at most %(mb)d MB. Nothing was saved.", mb=mb))


def answer_too_large(bp: Blueprint, respond: Callable[[int], ResponseReturnValue] = nothing_saved) -> None:
    """Answer a request body over the limit on ``bp``'s views (``RequestEntityTooLarge``) with ``respond(mb)``,
    the limit in MB; by default the 413 error page of ``nothing_saved``. ``respond`` speaks of a file only
    when ``file_too_large()``."""

    def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        return respond(upload_mb())

    bp.register_error_handler(RequestEntityTooLarge, too_large)
