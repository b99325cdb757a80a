"""Errors the domain raises; the web and CLI layers turn them into messages."""

from __future__ import annotations


class MediationError(Exception):
    """Base class of every domain error."""


class ValidationError(MediationError):
    """Bad input: ``errors`` maps a field name to its message (字段校验错误).

    Fields of nested items are named with a dotted path, e.g. ``parties.1.id_number``.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class PermissionDenied(MediationError):
    """The actor may not do this to this case (无权操作)."""


class InvalidTransition(MediationError):
    """The trigger is not allowed in the case's current state, or its guards fail."""


class ConflictError(MediationError):
    """Someone else changed the case first (optimistic version check failed)."""


class NotFound(MediationError):
    """No such case, document or user."""


class DefinitionError(MediationError):
    """A workflow definition file is invalid; the message names the file and field."""
