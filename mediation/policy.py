"""Who may do what to which case (权限): the one place every permission question goes.

``can(user, action, case)`` combines the user's role and organisation, the case's
enterprise, area and tier, and the trigger's ``who`` list in the workflow definition.
``user`` ``None`` is the system actor (the clock sweep).

Who sees which case (``can_view``; ``visible_clause`` says the same in SQL, and a test
checks the two agree for every role):

- administrator: no case at all (users and organisations only);
- enterprise liaison, department head: their own enterprise's cases (one without an
  enterprise, which administration does not allow but a replay may make: the cases of
  no enterprise);
- liaison officer, community officer: the whole organisation, or, once an administrator
  has assigned them enterprises or areas, the cases of those (and the cases assigned to
  them or filed by them);
- volunteer mediator: the cases of the workflows the role takes part in (village
  disputes), of their own area when they have one;
- station chief, auditor: every case of the organisation;
- township officer: tier-3 cases and the cases assigned to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, false, or_, true

from .enums import Role
from .models import Area, Case, Enterprise, User
from .workflow import Definition, Registry

ALL_ROLES = frozenset(Role)
#: Roles that file disputes on behalf of someone (登记纠纷).
FILING_ROLES = frozenset(
    {
        Role.ENTERPRISE_LIAISON,
        Role.DEPARTMENT_HEAD,
        Role.LIAISON_OFFICER,
        Role.COMMUNITY_OFFICER,
        Role.VOLUNTEER_MEDIATOR,
        Role.STATION_CHIEF,
    }
)
#: Roles that see ID numbers and phone numbers whole (PIPL arts. 28–30, DOMAIN R36).
FULL_PARTICULARS_ROLES = frozenset(
    {
        Role.DEPARTMENT_HEAD,
        Role.LIAISON_OFFICER,
        Role.COMMUNITY_OFFICER,
        Role.VOLUNTEER_MEDIATOR,
        Role.STATION_CHIEF,
    }
)
#: Roles limited to their own enterprise's cases (an enterprise is required for them).
ENTERPRISE_BOUND = frozenset({Role.ENTERPRISE_LIAISON, Role.DEPARTMENT_HEAD})
#: Roles an administrator may assign enterprises and areas to; with none: the whole organisation.
ASSIGNMENT_SCOPED = frozenset({Role.LIAISON_OFFICER, Role.COMMUNITY_OFFICER})
#: Roles that see only the workflows they take part in, and their own area's cases when they have one.
AREA_BOUND = frozenset({Role.VOLUNTEER_MEDIATOR})
#: Roles that read and never act on a case.
READ_ONLY = frozenset({Role.AUDITOR, Role.ADMIN})
#: Case-independent actions and who may take them.
GENERAL_ACTIONS: dict[str, frozenset[Role]] = {
    "file": FILING_ROLES,
    "view_ledger": ALL_ROLES - {Role.ADMIN},
    "view_queue": ALL_ROLES - {Role.ADMIN},
    "export": ALL_ROLES - {Role.ADMIN},
    # Searching by ID number or phone finds whose dispute it is: only for those who see them whole.
    "search_particulars": FULL_PARTICULARS_ROLES,
    "administer": frozenset({Role.ADMIN}),
    # The statistics page, the monthly report and the statistics API (issue 6).
    "view_statistics": frozenset({Role.STATION_CHIEF, Role.AUDITOR}),
}


@lru_cache(maxsize=1)
def _shipped_definitions() -> tuple[Definition, ...]:
    return tuple(Registry.from_directory())


def takes_part(role: Role, definition: Definition) -> bool:
    """True when ``role`` leads a tier of ``definition`` or is named in one of its triggers."""
    return any(t.lead == role.value for t in definition.tiers.values()) or any(
        role.value in t.who for t in definition.triggers.values()
    )


def workflows_of(role: Role, definitions: Iterable[Definition] | None = None) -> frozenset[str]:
    """The names of the workflows ``role`` takes part in (default: the shipped definitions)."""
    found = definitions if definitions is not None else _shipped_definitions()
    return frozenset(d.name for d in found if takes_part(role, d))


def _ids(items: Iterable[Enterprise | Area]) -> set[int]:
    return {i.id for i in items}


def can_view(user: User | None, case: Case, definition: Definition | None = None) -> bool:
    """True when ``user`` may see ``case`` at all (查阅); ``definition`` is the case's workflow
    definition when the caller has it (else the shipped definitions are asked)."""
    if user is None:
        return True
    if not user.active or user.organisation_id != case.organisation_id or user.role is Role.ADMIN:
        return False
    role = user.role
    if role in ENTERPRISE_BOUND:
        return case.enterprise_id == user.enterprise_id
    if role is Role.TOWNSHIP_OFFICER:
        return case.tier == 3 or case.assigned_to_id == user.id
    if case.assigned_to_id == user.id or (case.filed_by_id is not None and case.filed_by_id == user.id):
        return True
    if role in ASSIGNMENT_SCOPED:
        enterprises, areas = _ids(user.assigned_enterprises), _ids(user.assigned_areas)
        if not enterprises and not areas:
            return True
        return case.enterprise_id in enterprises or case.area_id in areas
    if role in AREA_BOUND:
        taking_part = takes_part(role, definition) if definition is not None else case.workflow in workflows_of(role)
        return taking_part and (user.area_id is None or case.area_id == user.area_id)
    return True


def station_of(user: User | None) -> int | None:
    """The mediating organisation (调解组织) whose cases ``user`` may see, or ``None`` (no user).

    Every role sees its own station's cases only (``visible_clause`` pins
    ``Case.organisation_id``; a test holds each role to it), so counts may be narrowed to
    the station before anything else.
    """
    return user.organisation_id if user is not None else None


def visible_clause(user: User, definitions: Iterable[Definition] | None = None) -> ColumnElement[bool]:
    """SQL narrowing of the cases ``user`` may see; says what ``can_view`` says."""
    if not user.active or user.role is Role.ADMIN:
        return false()
    org: ColumnElement[bool] = Case.organisation_id == user.organisation_id
    role = user.role
    if role in ENTERPRISE_BOUND:
        if user.enterprise_id is None:
            return and_(org, Case.enterprise_id.is_(None))
        return and_(org, Case.enterprise_id == user.enterprise_id)
    if role is Role.TOWNSHIP_OFFICER:
        return and_(org, or_(Case.tier == 3, Case.assigned_to_id == user.id))
    own = or_(Case.assigned_to_id == user.id, Case.filed_by_id == user.id)
    if role in ASSIGNMENT_SCOPED:
        enterprises, areas = _ids(user.assigned_enterprises), _ids(user.assigned_areas)
        if not enterprises and not areas:
            return org
        scope = [own]
        if enterprises:
            scope.append(Case.enterprise_id.in_(sorted(enterprises)))
        if areas:
            scope.append(Case.area_id.in_(sorted(areas)))
        return and_(org, or_(*scope))
    if role in AREA_BOUND:
        names = sorted(workflows_of(role, definitions))
        mine: ColumnElement[bool] = Case.workflow.in_(names) if names else false()
        if user.area_id is not None:
            mine = and_(mine, Case.area_id == user.area_id)
        return and_(org, or_(own, mine))
    return and_(org, true())


def can(user: User | None, action: str, case: Case | None = None, definition: Definition | None = None) -> bool:
    """True when ``user`` may take ``action`` (a trigger name, ``view``, ``download``,
    ``view_particulars``, ``assign``, ``be_assigned``, ``file``, ``export`` …) on ``case``.

    ``assign``: give the case to a mediator (the tier's lead or the station chief);
    ``be_assigned``: asked of the prospective mediator, who need not see the case yet
    (assignment widens an officer's or a volunteer's view by that case): a role that
    leads a tier of the workflow (a department head only for their own enterprise's
    case), the station chief, or a township officer on a tier-3 case.
    Raises ``ValueError`` when a case action is asked about without the case's definition.
    """
    if case is None:
        roles = GENERAL_ACTIONS.get(action)
        return user is not None and user.active and roles is not None and user.role in roles
    if action == "be_assigned":
        if definition is None:
            raise ValueError("asking about 'be_assigned' needs the case's workflow definition")
        return _may_be_assigned(user, case, definition)
    if not can_view(user, case, definition):
        return False
    if action in ("view", "download"):
        return True
    if action == "view_particulars":
        return user is None or user.role in FULL_PARTICULARS_ROLES
    if definition is None:
        raise ValueError(f"asking about {action!r} needs the case's workflow definition")
    if action == "assign":
        if user is None or user.role in READ_ONLY or definition.states[case.state].final:
            return False
        return user.role is Role.STATION_CHIEF or definition.lead_role(case.tier) == user.role.value
    trigger = definition.triggers.get(action)
    if trigger is None:
        return False
    if user is not None and user.role in READ_ONLY:
        return False
    return _fits_who(user, trigger.who, case, definition)


def _may_be_assigned(user: User | None, case: Case, definition: Definition) -> bool:
    if user is None or not user.active or user.organisation_id != case.organisation_id:
        return False
    if user.role in READ_ONLY or definition.states[case.state].final:
        return False
    if user.role is Role.STATION_CHIEF:
        return True
    if user.role is Role.TOWNSHIP_OFFICER:
        return case.tier == 3
    if user.role in ENTERPRISE_BOUND and case.enterprise_id != user.enterprise_id:
        return False
    return any(t.lead == user.role.value for t in definition.tiers.values())


def _fits_who(user: User | None, who: tuple[str, ...], case: Case, definition: Definition) -> bool:
    if user is None:
        return "system" in who
    role = user.role.value
    if role in who:
        return True
    if "tier_lead" in who and definition.lead_role(case.tier) == role:
        return True
    if "next_tier_lead" in who and case.tier is not None:
        return definition.lead_role(case.tier + 1) == role
    return False
