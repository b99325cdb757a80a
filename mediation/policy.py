"""Who may do what to which case (权限): the one place every permission question goes.

``can(user, action, case)`` combines the user's role and organisation, the case's
enterprise and tier, and the trigger's ``who`` list in the workflow definition.
``user`` ``None`` is the system actor (the clock sweep).
"""

from __future__ import annotations

from .enums import Role
from .models import Case, User
from .workflow import Definition

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
#: Roles limited to their own enterprise's cases when the user has an enterprise.
ENTERPRISE_BOUND = frozenset({Role.ENTERPRISE_LIAISON, Role.DEPARTMENT_HEAD})
#: Case-independent actions and who may take them.
GENERAL_ACTIONS: dict[str, frozenset[Role]] = {
    "file": FILING_ROLES,
    "view_ledger": frozenset(Role) - {Role.ADMIN},
    "administer": frozenset({Role.ADMIN}),
}


def can_view(user: User | None, case: Case) -> bool:
    """True when ``user`` may see ``case`` at all (查阅)."""
    if user is None:
        return True
    if not user.active or user.organisation_id != case.organisation_id:
        return False
    if user.role in ENTERPRISE_BOUND and user.enterprise_id is not None:
        return case.enterprise_id == user.enterprise_id
    if user.role is Role.TOWNSHIP_OFFICER:
        return case.tier == 3 or case.assigned_to_id == user.id
    return user.role is not Role.ADMIN


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


def can(user: User | None, action: str, case: Case | None = None, definition: Definition | None = None) -> bool:
    """True when ``user`` may take ``action`` (a trigger name, ``view``, ``download``,
    ``view_particulars``, ``file`` …) on ``case``.

    Raises ``ValueError`` when a trigger is asked about without its case and definition.
    """
    if case is None:
        roles = GENERAL_ACTIONS.get(action)
        return user is not None and user.active and roles is not None and user.role in roles
    if not can_view(user, case):
        return False
    if action in ("view", "download"):
        return True
    if action == "view_particulars":
        return user is None or user.role in FULL_PARTICULARS_ROLES
    if definition is None:
        raise ValueError(f"asking about {action!r} needs the case's workflow definition")
    trigger = definition.triggers.get(action)
    if trigger is None:
        return False
    if user is not None and user.role in (Role.AUDITOR, Role.ADMIN):
        return False
    return _fits_who(user, trigger.who, case, definition)
