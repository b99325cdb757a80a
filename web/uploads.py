"""Uploads (上传): views marked ``accepts_upload`` take a request body up to the upload limit.

Every other request keeps ``MAX_CONTENT_LENGTH`` (2 MB). The limit must be known before
CSRFProtect reads the form in ``before_request``, so it is the request class that asks
the matched view, not the view itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Blueprint, Request, current_app
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import render_error

F = TypeVar("F", bound=Callable[..., Any])
#: Room for the form's other fields and the multipart boundaries besides the file itself.
FORM_OVERHEAD = 256 * 1024
MB = 1024 * 1024


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


def nothing_saved(mb: int) -> ResponseReturnValue:
    """The error page (413) for a file over ``mb`` MB on a page that saves it: nothing was saved."""
    return render_error(413, _("A file can be at most %(mb)d MB. Nothing was saved.", mb=mb))


def answer_too_large(bp: Blueprint, respond: Callable[[int], ResponseReturnValue] = nothing_saved) -> None:
    """Answer a request body over the limit on ``bp``'s views (``RequestEntityTooLarge``) with ``respond(mb)``,
    the limit in MB; by default the 413 error page of ``nothing_saved``."""

    def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        return respond(upload_mb())

    bp.register_error_handler(RequestEntityTooLarge, too_large)
