"""Workflow versions (流程版本): checking them, and moving chosen cases to a newer one.

A running case keeps the definition version it started with; new cases take the newest
(DESIGN.md §2). Changing a definition means adding a version: a recorded version whose
text changed is refused. ``migrate_cases`` moves chosen cases to another version with an
explicit state mapping, one event each, and refuses a case whose state has no mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import ValidationError
from .i18n import N_
from .models import Case, WorkflowDefinition
from .services import UnitOfWork, append_event, utcnow
from .workflow import Registry


@dataclass(frozen=True)
class VersionProblem:
    """One problem ``check_versions`` found, naming the workflow and version."""

    workflow: str
    version: int
    problem: str


def check_versions(session: Session, registry: Registry) -> list[VersionProblem]:
    """Recorded versions whose text changed, and versions cases use that no file defines."""
    problems: list[VersionProblem] = []
    for stored in session.scalars(select(WorkflowDefinition)):
        key = (stored.name, stored.version)
        if key in registry and registry.get(*key).digest != stored.digest:
            problems.append(VersionProblem(*key, "its file changed since it was recorded: add a new version instead"))
    used = session.execute(
        select(Case.workflow, Case.workflow_version, func.count()).group_by(Case.workflow, Case.workflow_version)
    )
    for name, version, count in used:
        if (name, version) not in registry:
            problems.append(VersionProblem(name, version, f"{count} case(s) use it but no definition file has it"))
    return problems


def case_counts(session: Session) -> dict[tuple[str, int], dict[str, int]]:
    """Cases per (workflow, version) and state."""
    out: dict[tuple[str, int], dict[str, int]] = {}
    for name, version, state, count in session.execute(
        select(Case.workflow, Case.workflow_version, Case.state, func.count()).group_by(
            Case.workflow, Case.workflow_version, Case.state
        )
    ):
        out.setdefault((name, version), {})[state] = count
    return out


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["tier1=mediating", …]`` → ``{"tier1": "mediating"}``; raises ``ValidationError``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValidationError({"map": N_("Write each mapping as OLD=NEW.")})
        mapping[old.strip()] = new.strip()
    return mapping


def migrate_cases(
    uow: UnitOfWork,
    source: tuple[str, int],
    target: tuple[str, int],
    mapping: Mapping[str, str],
    case_ids: Iterable[int] | None = None,
    actor_id: int | None = None,
) -> list[int]:
    """Move cases on ``source`` (name, version) to ``target``, mapping each state (one transaction).

    Final states map to themselves when the target has them. Raises ``ValidationError``
    naming ``map`` when a state has no mapping or maps to a state the target lacks, or
    ``case_ids`` when a chosen case is not on the source version; nothing is moved then.
    Returns the ids moved.
    """
    registry = uow.engine.registry
    try:
        old_def, new_def = registry.get(*source), registry.get(*target)
    except KeyError as exc:
        raise ValidationError({"version": N_("No such workflow version.")}) from exc
    if old_def.name != new_def.name:
        raise ValidationError({"version": N_("A case can only move to another version of its own workflow.")})
    for old, new in mapping.items():
        if old not in old_def.states or new not in new_def.states:
            raise ValidationError({"map": N_("A mapping names a state the workflow version does not have.")})
    session = uow.session
    query = select(Case).where(Case.workflow == source[0], Case.workflow_version == source[1]).order_by(Case.id)
    wanted = set(case_ids) if case_ids is not None else None
    if wanted is not None:
        query = query.where(Case.id.in_(wanted))
    cases = list(session.scalars(query.with_for_update()))
    if wanted is not None and {c.id for c in cases} != wanted:
        raise ValidationError({"case_ids": N_("A chosen case does not run on that workflow version.")})
    now = utcnow()
    actor = None
    if actor_id is not None:
        from .models import User

        actor = session.get(User, actor_id)
    unmapped = sorted({c.state for c in cases if c.state not in mapping and c.state not in new_def.states})
    if unmapped:
        raise ValidationError({"map": N_("Some cases are in a state with no mapping."), "states": ", ".join(unmapped)})
    moved = []
    for case in cases:
        new_state = mapping.get(case.state, case.state)
        old_state = case.state
        case.workflow_version = new_def.version
        case.state = new_state
        tier = new_def.states[new_state].tier
        if tier is not None:
            case.tier = tier
        append_event(
            session, case, trigger="migrate_workflow", from_state=old_state, to_state=new_state, actor=actor,
            at=now, data={"from_version": old_def.version, "to_version": new_def.version},
        )
        moved.append(case.id)
    uow.commit()
    return moved
