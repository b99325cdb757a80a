"""Uploads (上传): views marked ``accepts_upload`` take a request body up to the upload limit.

Every other request keeps ``MAX_CONTENT_LENGTH`` (2 MB). The limit must be known before
CSRFProtect reads the form in ``before_request``, so it is the request class that asks
the matched view, not the view itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Request, current_app

F = TypeVar("F", bound=Callable[..., Any])
#: Room for the form's other fields and the multipart boundaries besides the file itself.
FORM_OVERHEAD = 256 * 1024


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
