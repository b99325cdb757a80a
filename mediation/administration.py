"""Administration (系统管理): users, organisations, enterprises and areas.

Each change is one use case in one transaction, for an actor the policy lets
``administer``; bad input raises ``ValidationError`` (field → message) and saves
nothing. Passwords are hashed by ``mediation.auth`` (werkzeug's current default).
Deactivating a user or setting a new password raises the user's ``session_version``,
which ends every log-in session they have.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from . import policy
from .auth import LOCALES, hash_password
from .enums import Role
from .errors import NotFound, PermissionDenied, ValidationError
from .i18n import N_
from .models import Area, Enterprise, Organisation, User
from .services import UnitOfWork

#: An enterprise or an area: named, of one organisation.
Named = TypeVar("Named", Enterprise, Area)

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,80}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Shortest and longest password accepted.
PASSWORD_LENGTH = (8, 128)
#: Placeholders a case-number pattern may use; ``{year}`` and ``{seq}`` are required, so
#: every number is unique (numbers are unique across years and organisations).
PATTERN_FIELDS = ("year", "short_name", "seq")


def _admin(session: Session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not policy.can(actor, "administer"):
        raise PermissionDenied(N_("Only an administrator may do this."))
    return actor


def _text(data: Mapping[str, Any], key: str, limit: int, errors: dict[str, str], required: bool = True) -> str | None:
    value = data.get(key)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            errors[key] = N_("This field is required.")
        return None
    if len(text) > limit:
        errors[key] = N_("Too long.")
        return None
    return text


def _id(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never an id: reported as not one of the allowed values


def _ids(data: Mapping[str, Any], key: str) -> list[int]:
    values = data.get(key) or []
    if not isinstance(values, list | tuple | set):
        return [-1]
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            out.append(-1)
    return sorted(set(out))


def _commit(uow: UnitOfWork, field: str, message: str) -> None:
    """Commit; a unique constraint met meanwhile becomes a message on ``field``."""
    try:
        uow.session.commit()
    except IntegrityError as exc:
        uow.session.rollback()
        raise ValidationError({field: message}) from exc


def check_password(password: Any, confirm: Any, errors: dict[str, str]) -> str | None:
    """The password when it is long enough and typed the same twice, else ``None`` (errors filled)."""
    if not isinstance(password, str) or not password:
        errors["password"] = N_("This field is required.")
        return None
    low, high = PASSWORD_LENGTH
    if len(password) < low or len(password) > high:
        errors["password"] = N_("A password has 8 to 128 characters.")
        return None
    if confirm is not None and confirm != password:
        errors["password_confirm"] = N_("The two passwords differ.")
        return None
    return password


# --- users ----------------------------------------------------------------------------

def _scope(
    session: Session, data: Mapping[str, Any], role: Role | None, organisation_id: int | None, errors: dict[str, str]
) -> dict[str, Any]:
    """The enterprise, own area and assignments the role uses, checked against the organisation."""
    out: dict[str, Any] = {"enterprise_id": None, "area_id": None, "enterprises": [], "areas": []}
    if role is None or organisation_id is None:
        return out

    def belongs(model: type[Named], key: int) -> Named | None:
        found = session.get(model, key) if key > 0 else None
        return found if found is not None and found.organisation_id == organisation_id else None

    if role in policy.ENTERPRISE_BOUND:
        key = _id(data, "enterprise_id")
        if key is None:
            errors["enterprise_id"] = N_("An enterprise liaison or department head belongs to an enterprise.")
        elif belongs(Enterprise, key) is None:
            errors["enterprise_id"] = N_("Not one of the allowed values.")
        else:
            out["enterprise_id"] = key
    if role in policy.AREA_BOUND:
        key = _id(data, "area_id")
        if key is not None:
            if belongs(Area, key) is None:
                errors["area_id"] = N_("Not one of the allowed values.")
            else:
                out["area_id"] = key
    if role in policy.ASSIGNMENT_SCOPED:
        enterprises = [belongs(Enterprise, k) for k in _ids(data, "assigned_enterprises")]
        areas = [belongs(Area, k) for k in _ids(data, "assigned_areas")]
        for field, found in (("enterprises", enterprises), ("areas", areas)):
            if any(f is None for f in found):
                errors[f"assigned_{field}"] = N_("Not one of the allowed values.")
            else:
                out[field] = found
    return out


def _user_fields(
    session: Session, data: Mapping[str, Any], errors: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    fields: dict[str, Any] = {"display_name": _text(data, "display_name", 120, errors)}
    try:
        fields["role"] = Role(str(data.get("role") or ""))
    except ValueError:
        errors["role"] = N_("Not one of the allowed values.")
        fields["role"] = None
    organisation_id = _id(data, "organisation_id")
    if organisation_id is None:
        errors["organisation_id"] = N_("This field is required.")
    elif organisation_id < 1 or session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = N_("Not one of the allowed values.")
        organisation_id = None
    fields["organisation_id"] = organisation_id
    email = _text(data, "email", 254, errors, required=False)
    if email is not None and not EMAIL.match(email):
        errors["email"] = N_("Not an e-mail address.")
    fields["email"] = email
    locale = data.get("locale") or None
    if locale is not None and locale not in LOCALES:
        errors["locale"] = N_("Not one of the allowed values.")
    fields["locale"] = locale
    scope = _scope(session, data, fields["role"], organisation_id, errors)
    return fields, scope


def _apply(user: User, fields: Mapping[str, Any], scope: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        setattr(user, key, value)
    user.enterprise_id = scope["enterprise_id"]
    user.area_id = scope["area_id"]
    user.assigned_enterprises = list(scope["enterprises"])
    user.assigned_areas = list(scope["areas"])


def create_user(uow: UnitOfWork, actor_id: int, data: Mapping[str, Any]) -> int:
    """A new user (新建用户) from ``username``, ``password`` (+ ``password_confirm``),
    ``display_name``, ``role``, ``organisation_id``, ``enterprise_id``, ``area_id``,
    ``email``, ``assigned_enterprises`` and ``assigned_areas`` (ids); returns its id.

    Raises ``PermissionDenied``, ``ValidationError``.
    """
    session = uow.session
    _admin(session, actor_id)
    errors: dict[str, str] = {}
    username = _text(data, "username", 80, errors)
    if username is not None:
        if not USERNAME.match(username):
            errors["username"] = N_("3 to 80 letters, digits or . _ - @ (no spaces).")
        elif session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
            errors["username"] = N_("This user name is taken.")
    password = check_password(data.get("password"), data.get("password_confirm"), errors)
    fields, scope = _user_fields(session, data, errors)
    if errors or username is None or password is None:
        raise ValidationError(errors)
    user = User(username=username, password_hash=hash_password(password), active=True, session_version=1)
    _apply(user, fields, scope)
    session.add(user)
    _commit(uow, "username", N_("This user name is taken."))
    return user.id


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, options=[selectinload(User.assigned_enterprises),
                                                selectinload(User.assigned_areas)])
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def update_user(uow: UnitOfWork, actor_id: int, user_id: int, data: Mapping[str, Any]) -> None:
    """Change a user's name, role, organisation, enterprise, area, assignments and e-mail.

    An administrator cannot take the administrator role from themselves. Raises
    ``PermissionDenied``, ``NotFound``, ``ValidationError``.
    """
    session = uow.session
    actor = _admin(session, actor_id)
    user = _target(session, user_id)
    errors: dict[str, str] = {}
    fields, scope = _user_fields(session, data, errors)
    if user.id == actor.id and fields["role"] not in (None, Role.ADMIN):
        errors["role"] = N_("You cannot take the administrator role from yourself.")
    if errors:
        raise ValidationError(errors)
    _apply(user, fields, scope)
    uow.commit()


def reset_password(
    uow: UnitOfWork, actor_id: int, user_id: int, password: str, confirm: str | None = None
) -> None:
    """Set a new password for a user (重置密码); their open sessions end. Raises
    ``PermissionDenied``, ``NotFound``, ``ValidationError``."""
    session = uow.session
    _admin(session, actor_id)
    user = _target(session, user_id)
    errors: dict[str, str] = {}
    checked = check_password(password, confirm, errors)
    if errors or checked is None:
        raise ValidationError(errors)
    user.password_hash = hash_password(checked)
    user.session_version += 1
    uow.commit()


def set_active(uow: UnitOfWork, actor_id: int, user_id: int, active: bool) -> None:
    """Deactivate a user (停用; their open sessions end at once) or activate them again.

    Nobody deactivates themselves. Raises ``PermissionDenied``, ``NotFound``, ``ValidationError``.
    """
    session = uow.session
    actor = _admin(session, actor_id)
    user = _target(session, user_id)
    if user.id == actor.id and not active:
        raise ValidationError({"active": N_("You cannot deactivate yourself.")})
    if user.active != active:
        user.active = active
        user.session_version += 1
    uow.commit()


# --- organisations, enterprises, areas ---------------------------------------------------

def check_case_number_pattern(pattern: str) -> str | None:
    """``None`` when ``pattern`` makes case numbers, else the msgid of what is wrong.

    It must name ``{year}`` and ``{seq}`` (``{seq:04d}`` pads to four digits) and may name
    ``{short_name}``; e.g. ``（{year}）{short_name}警调字第{seq:04d}号``.
    """
    try:
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError:
        return N_("Unbalanced braces: write placeholders as {year}, {short_name} and {seq}.")
    unknown = [n for n in names if n not in PATTERN_FIELDS]
    if unknown:
        return N_("Only {year}, {short_name} and {seq} may stand in braces.")
    if "seq" not in names:
        return N_("The pattern must contain {seq}, the running number.")
    if "year" not in names:
        return N_("The pattern must contain {year}: numbers start again every year.")
    try:
        pattern.format(year=2026, short_name="温溪", seq=1)
    except (ValueError, IndexError, KeyError):
        return N_("A placeholder's format is wrong; write {seq} or {seq:04d}.")
    return None


def save_organisation(uow: UnitOfWork, actor_id: int, organisation_id: int | None, data: Mapping[str, Any]) -> int:
    """Create (``organisation_id`` ``None``) or change an organisation: ``name``,
    ``short_name``, ``committee_name``, ``case_number_pattern``; returns its id.

    Raises ``PermissionDenied``, ``NotFound``, ``ValidationError``.
    """
    session = uow.session
    _admin(session, actor_id)
    org = session.get(Organisation, organisation_id) if organisation_id is not None else Organisation()
    if org is None:
        raise NotFound(N_("No such organisation."))
    errors: dict[str, str] = {}
    name = _text(data, "name", 200, errors)
    short_name = _text(data, "short_name", 40, errors)
    committee = _text(data, "committee_name", 200, errors)
    pattern = _text(data, "case_number_pattern", 120, errors)
    if pattern is not None:
        problem = check_case_number_pattern(pattern)
        if problem:
            errors["case_number_pattern"] = problem
    if name is not None:
        taken = session.scalar(select(Organisation.id).where(Organisation.name == name))
        if taken is not None and taken != org.id:
            errors["name"] = N_("This name is taken.")
    if errors or name is None or short_name is None or committee is None or pattern is None:
        raise ValidationError(errors)
    org.name, org.short_name, org.committee_name, org.case_number_pattern = name, short_name, committee, pattern
    session.add(org)
    _commit(uow, "name", N_("This name is taken."))
    return org.id


def _named_in_organisation(
    uow: UnitOfWork, actor_id: int, model: type[Named], item_id: int | None, data: Mapping[str, Any]
) -> tuple[Named, dict[str, Any], dict[str, str]]:
    session = uow.session
    _admin(session, actor_id)
    item = session.get(model, item_id) if item_id is not None else model()
    if item is None:
        raise NotFound(N_("Not found."))
    errors: dict[str, str] = {}
    name = _text(data, "name", 200, errors)
    organisation_id = _id(data, "organisation_id")
    if organisation_id is None:
        errors["organisation_id"] = N_("This field is required.")
    elif organisation_id < 1 or session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = N_("Not one of the allowed values.")
        organisation_id = None
    if item_id is not None and organisation_id is not None and organisation_id != item.organisation_id:
        errors["organisation_id"] = N_("An enterprise or area stays with its organisation.")
    if name is not None and organisation_id is not None:
        taken = session.scalar(select(model.id).where(model.organisation_id == organisation_id, model.name == name))
        if taken is not None and taken != item.id:
            errors["name"] = N_("This name is taken in this organisation.")
    return item, {"name": name, "organisation_id": organisation_id}, errors


def save_enterprise(uow: UnitOfWork, actor_id: int, enterprise_id: int | None, data: Mapping[str, Any]) -> int:
    """Create or change an enterprise: ``name``, ``organisation_id``, ``area_id`` (optional);
    returns its id. Raises ``PermissionDenied``, ``NotFound``, ``ValidationError``."""
    item, fields, errors = _named_in_organisation(uow, actor_id, Enterprise, enterprise_id, data)
    area_id = _id(data, "area_id")
    if area_id is not None:
        area = uow.session.get(Area, area_id) if area_id > 0 else None
        if area is None or area.organisation_id != fields["organisation_id"]:
            errors["area_id"] = N_("Not one of the allowed values.")
    if errors:
        raise ValidationError(errors)
    item.name, item.organisation_id, item.area_id = fields["name"], fields["organisation_id"], area_id
    uow.session.add(item)
    _commit(uow, "name", N_("This name is taken in this organisation."))
    return item.id


def save_area(uow: UnitOfWork, actor_id: int, area_id: int | None, data: Mapping[str, Any]) -> int:
    """Create or change an area (辖区/片区): ``name``, ``organisation_id``; returns its id.
    Raises ``PermissionDenied``, ``NotFound``, ``ValidationError``."""
    item, fields, errors = _named_in_organisation(uow, actor_id, Area, area_id, data)
    if errors:
        raise ValidationError(errors)
    item.name, item.organisation_id = fields["name"], fields["organisation_id"]
    uow.session.add(item)
    _commit(uow, "name", N_("This name is taken in this organisation."))
    return item.id


# --- lists ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserRow:
    """A user as the administration lists them."""

    id: int
    username: str
    display_name: str
    role: str
    organisation: str
    enterprise: str | None
    area: str | None
    assigned: list[str]
    email: str | None
    active: bool


def users(session: Session, organisation_id: int | None = None) -> list[UserRow]:
    """Every user (of one organisation), by organisation, then name."""
    stmt = (
        select(User)
        .options(selectinload(User.organisation), selectinload(User.enterprise), selectinload(User.area),
                 selectinload(User.assigned_enterprises), selectinload(User.assigned_areas))
        .join(Organisation, Organisation.id == User.organisation_id)
        .order_by(Organisation.name, User.display_name, User.id)
    )
    if organisation_id is not None:
        stmt = stmt.where(User.organisation_id == organisation_id)
    return [
        UserRow(
            id=u.id, username=u.username, display_name=u.display_name, role=u.role.value,
            organisation=u.organisation.name, enterprise=u.enterprise.name if u.enterprise else None,
            area=u.area.name if u.area else None,
            assigned=[e.name for e in u.assigned_enterprises] + [a.name for a in u.assigned_areas],
            email=u.email, active=u.active,
        )
        for u in session.scalars(stmt)
    ]


def organisations(session: Session) -> Sequence[Organisation]:
    """Every organisation, by name."""
    return session.scalars(select(Organisation).order_by(Organisation.name)).all()


def enterprises(session: Session) -> Sequence[Enterprise]:
    """Every enterprise with its organisation and area, by organisation and name."""
    return session.scalars(
        select(Enterprise).options(selectinload(Enterprise.organisation), selectinload(Enterprise.area))
        .join(Organisation, Organisation.id == Enterprise.organisation_id)
        .order_by(Organisation.name, Enterprise.name)
    ).all()


def areas(session: Session) -> Sequence[Area]:
    """Every area with its organisation, by organisation and name."""
    return session.scalars(
        select(Area).options(selectinload(Area.organisation))
        .join(Organisation, Organisation.id == Area.organisation_id)
        .order_by(Organisation.name, Area.name)
    ).all()
