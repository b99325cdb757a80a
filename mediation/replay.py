"""Replay of real cases (真实案例回放): carry a case file from filing to its outcome.

A case file (``../shared/cases/cNN.yaml``, described in that folder's README.md) lists
the steps a published dispute went through and what it ended as. ``replay_file``
files a NEW case from it and fires every step through the same service functions
the web UI calls (``services.file_case`` and ``services.fire``, never the state
column), on a simulated clock:

- day 0 is ``start`` (Monday 2026-03-02 unless told otherwise); each step happens at
  09:00 Asia/Shanghai on its day;
- between two steps the deadline sweep (``services.sweep``) runs once for every
  simulated day after the earlier step's day up to the later step's day, at
  00:00:01 Asia/Shanghai, so clock-driven events happen as they would in production;
- each step is done by a user with the role that would do it in real life
  (see ``Cast``); users and enterprises are created once, in the demo
  organisation 温溪派出所, and reused by every later replay;
- at the end the case's state, its tier path (``tier_path``) and its documents are
  compared with the file's ``expect``; a failing step or a difference is a mismatch
  naming the case id and the step (steps count from 1, ``file`` being step 1, as
  terms count from 1 in the case files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import policy, services
from .clocks import SHANGHAI
from .enums import Category, IntakeSource, PartyKind, PartyRole, Role, Severity
from .errors import MediationError
from .models import Case, Document, Enterprise, Organisation, User
from .workflow import Definition, Registry

#: Day 0 of a replay unless ``--start`` says otherwise (a Monday).
DEFAULT_START = date(2026, 3, 2)
#: When on its day a step happens (Asia/Shanghai).
STEP_TIME = time(9, 0)
#: When on each simulated day the deadline sweep runs (Asia/Shanghai): just after
#: midnight, the instant a period whose last day was the day before lapses.
SWEEP_TIME = time(0, 0, 1)

#: The demo organisation replays file into (found by name, created when absent).
ORGANISATION = {
    "name": "青田县公安局温溪派出所",
    "short_name": "温溪",
    "committee_name": "温溪派出所人民调解委员会",
}
#: How a role is called on documents when the replay has to create its user.
ROLE_TITLES: Mapping[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.ENTERPRISE_LIAISON: "企业网格员",
    Role.DEPARTMENT_HEAD: "企业部门负责人",
    Role.LIAISON_OFFICER: "联企民警",
    Role.COMMUNITY_OFFICER: "社区民警",
    Role.VOLUNTEER_MEDIATOR: "志愿调解员",
    Role.STATION_CHIEF: "派出所所长",
    Role.TOWNSHIP_OFFICER: "综治办干部",
    Role.AUDITOR: "审计员",
}
#: A password hash no password matches: users the replay creates cannot log in
#: (``mediation demo`` gives its own users their documented demo passwords).
UNUSABLE_PASSWORD = "!replay"

#: Step keys that are not trigger data.
_STEP_KEYS = frozenset({"day", "do"})

CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "workflow", "category", "filed_via", "parties", "facts", "claims", "steps", "expect"],
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,40}$"},
        "title": {"type": ["string", "null"], "maxLength": 200},
        "source": {"type": ["string", "null"]},
        "workflow": {"type": "string", "minLength": 1},
        "category": {"enum": [c.value for c in Category]},
        "filed_via": {"enum": [s.value for s in IntakeSource]},
        "enterprise": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
        "parties": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["ref", "role", "name"],
                "properties": {
                    "ref": {"type": "string", "minLength": 1, "maxLength": 20},
                    "role": {"enum": [r.value for r in PartyRole]},
                    "kind": {"enum": [k.value for k in PartyKind]},
                    "name": {"type": "string", "minLength": 1},
                    "size": {"type": ["integer", "null"], "minimum": 1},
                },
            },
        },
        "facts": {"type": "string"},
        "claims": {"type": "string"},
        "amount_claimed": {"type": ["number", "string", "null"]},
        "severity": {"enum": [s.value for s in Severity]},
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["day", "do"],
                "properties": {
                    "day": {"type": "integer", "minimum": 0},
                    "do": {"type": "string", "minLength": 1},
                    "terms": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"due_day": {"type": ["integer", "null"], "minimum": 0}},
                        },
                    },
                },
            },
        },
        "expect": {
            "type": "object",
            "required": ["state", "tiers", "documents"],
            "properties": {
                "state": {"type": "string", "minLength": 1},
                "tiers": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                "documents": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


class CaseFileError(MediationError):
    """A case file cannot be replayed as written; the message names the file and the field."""


# --- case files -------------------------------------------------------------------

@dataclass(frozen=True)
class CaseSpec:
    """A parsed, checked case file (or an equivalent dict, as the demo cases are)."""

    id: str
    origin: str
    raw: Mapping[str, Any]

    @property
    def workflow(self) -> str:
        """The workflow name (``labour``, ``neighbour`` …)."""
        return str(self.raw["workflow"])

    @property
    def steps(self) -> list[Mapping[str, Any]]:
        """The steps in order, each with ``day`` and ``do``."""
        return list(self.raw["steps"])

    @property
    def expect(self) -> Mapping[str, Any]:
        """The expected outcome: ``state``, ``tiers``, ``documents``."""
        return dict(self.raw["expect"])


def _field(path: Iterable[Any]) -> str:
    # Steps, parties and terms count from 1 in messages, like terms do in the case files.
    parts = [str(p + 1) if isinstance(p, int) else str(p) for p in path]
    return ".".join(parts) or "(top level)"


def parse_case(raw: Any, origin: str) -> CaseSpec:
    """Check a parsed case file; raises ``CaseFileError`` naming ``origin`` and the field."""
    name = Path(origin).name
    validator = jsonschema.Draft202012Validator(CASE_SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        raise CaseFileError(f"{name}: field {_field(first.absolute_path)}: {first.message}")
    steps = raw["steps"]
    if steps[0]["do"] != "file":
        raise CaseFileError(f"{name}: field steps.1.do: the first step must be 'file'")
    for i, step in enumerate(steps[1:], start=2):
        if step["do"] == "file":
            raise CaseFileError(f"{name}: field steps.{i}.do: a case is filed only once")
        if step["day"] < steps[i - 2]["day"]:
            raise CaseFileError(f"{name}: field steps.{i}.day: {step['day']} is before the step above it")
    refs = [p["ref"] for p in raw["parties"]]
    if len(set(refs)) != len(refs):
        raise CaseFileError(f"{name}: field parties: two parties have the same ref")
    if raw["filed_via"] == IntakeSource.ENTERPRISE_LIAISON.value and not raw.get("enterprise"):
        raise CaseFileError(f"{name}: field enterprise: needed when filed_via is enterprise_liaison")
    return CaseSpec(id=str(raw["id"]), origin=origin, raw=raw)


def load_case(path: Path | str) -> CaseSpec:
    """Read and check one case file; raises ``CaseFileError`` naming the file and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise CaseFileError(f"{path.name}: not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from exc
    return parse_case(raw, str(path))


def case_files(paths: Iterable[Path | str]) -> list[Path]:
    """The case files named by ``paths``: files as given, folders as their ``*.yaml`` sorted.

    Raises ``CaseFileError`` for a path that does not exist or a folder with no case file.
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file())
            if not inside:
                raise CaseFileError(f"{p}: no case files (*.yaml) in this folder")
            found.extend(inside)
        elif p.is_file():
            found.append(p)
        else:
            raise CaseFileError(f"{p}: no such file or folder")
    return found


def check_against(spec: CaseSpec, registry: Registry) -> Definition:
    """The case's workflow definition (newest version); every step must be one of its triggers.

    Raises ``CaseFileError`` naming the file and the field.
    """
    name = Path(spec.origin).name
    try:
        definition = registry.get(spec.workflow)
    except KeyError:
        raise CaseFileError(f"{name}: field workflow: no workflow named {spec.workflow!r}") from None
    if spec.raw["category"] not in definition.categories:
        raise CaseFileError(f"{name}: field category: {spec.raw['category']!r} is not a {definition.name} category")
    for i, step in enumerate(spec.steps[1:], start=2):
        if step["do"] not in definition.triggers:
            raise CaseFileError(
                f"{name}: field steps.{i}.do: {step['do']!r} is not an action of workflow {definition.name}"
            )
    severity = spec.raw.get("severity")
    for i, step in enumerate(spec.steps, start=1):
        sev = step.get("severity", severity) if step["do"] == "accept" else None
        if step["do"] == "accept" and sev not in definition.severity_tier:
            raise CaseFileError(f"{name}: field steps.{i}.severity: needed, one of {sorted(definition.severity_tier)}")
    return definition


# --- who does a step -------------------------------------------------------------

def ensure_organisation(session: Session) -> Organisation:
    """The demo organisation 温溪派出所, created when absent (case number pattern: the default)."""
    org = session.scalar(select(Organisation).where(Organisation.name == ORGANISATION["name"]))
    if org is None:
        org = Organisation(**ORGANISATION)
        session.add(org)
        session.flush()
    return org


def ensure_enterprise(session: Session, org: Organisation, name: str) -> Enterprise:
    """The enterprise ``name`` of ``org``, created when absent."""
    ent = session.scalar(select(Enterprise).where(Enterprise.organisation_id == org.id, Enterprise.name == name))
    if ent is None:
        ent = Enterprise(organisation_id=org.id, name=name)
        session.add(ent)
        session.flush()
    return ent


def ensure_user(session: Session, org: Organisation, role: Role, enterprise: Enterprise | None = None) -> User:
    """The first active user of ``org`` with ``role`` (bound to ``enterprise``, or org-wide).

    When there is none, one is created with the username ``replay-<role>`` (or
    ``replay-<role>-e<enterprise id>``) and a password nothing matches.
    """
    enterprise_id = enterprise.id if enterprise is not None else None
    query = (
        select(User)
        .where(User.organisation_id == org.id, User.role == role, User.active.is_(True))
        .where(User.enterprise_id == enterprise_id if enterprise_id is not None else User.enterprise_id.is_(None))
        .order_by(User.id)
        .limit(1)
    )
    user = session.scalar(query)
    if user is None:
        suffix = f"-e{enterprise_id}" if enterprise_id is not None else ""
        display = ROLE_TITLES[role] + (f"（{enterprise.name}）" if enterprise is not None else "")
        user = User(
            username=f"replay-{role.value}{suffix}",
            password_hash=UNUSABLE_PASSWORD,
            display_name=display[:120],
            role=role,
            organisation_id=org.id,
            enterprise_id=enterprise_id,
            active=True,
        )
        session.add(user)
        session.flush()
    return user


@dataclass(frozen=True)
class Cast:
    """Who does which step of one replayed case (the users are ids in the database).

    - ``file``: by ``filed_via``: ``enterprise_liaison`` → the enterprise's liaison;
      ``online`` → a member of the public (no user); otherwise the intake officer.
    - The intake officer is the lead of the tier a ``general`` dispute goes to (the
      police officer who triages: 联企民警 for labour, 社区民警 for neighbour disputes);
      they also ``decline``, and do any other step taken before the case has a tier.
    - ``accept``: the lead of the tier the severity maps to (``severity_tier``).
    - ``sign_off``: the station chief.
    - everything else: the lead of the case's current tier.

    A lead whose role is bound to an enterprise (the department head) is the case's
    enterprise's one, or the organisation-wide one when the case has no enterprise.
    """

    organisation_id: int
    enterprise_id: int | None
    users: Mapping[str, int]

    def user_for(self, role: str) -> int:
        """The user id of ``role`` for this case; ``KeyError`` if the cast has none."""
        return self.users[role]


def cast_for(session: Session, spec: CaseSpec, definition: Definition) -> Cast:
    """Create (once) and collect the users who will do the steps of ``spec``."""
    org = ensure_organisation(session)
    enterprise = ensure_enterprise(session, org, str(spec.raw["enterprise"])) if spec.raw.get("enterprise") else None
    roles = {t.lead for t in definition.tiers.values()} | {Role.STATION_CHIEF.value, intake_role(definition)}
    users: dict[str, int] = {}
    for value in sorted(roles):
        role = Role(value)
        bound = enterprise if role in policy.ENTERPRISE_BOUND else None
        users[value] = ensure_user(session, org, role, bound).id
    if enterprise is not None:
        users[Role.ENTERPRISE_LIAISON.value] = ensure_user(session, org, Role.ENTERPRISE_LIAISON, enterprise).id
    return Cast(org.id, enterprise.id if enterprise else None, users)


def intake_role(definition: Definition) -> str:
    """The role that registers and triages walk-in and referred disputes (受理登记).

    The lead of the tier a ``general`` dispute goes to, else of the lowest tier.
    """
    tier = definition.severity_tier.get(Severity.GENERAL.value, min(definition.tiers))
    lead = definition.lead_role(tier)
    assert lead is not None  # a definition's severity_tier only names existing tiers
    return lead


def step_role(definition: Definition, action: str, data: Mapping[str, Any], tier: int | None) -> str:
    """The role that does ``action`` on a case now at ``tier`` (``file`` excluded)."""
    if action == "accept":
        lead = definition.lead_role(definition.severity_tier.get(str(data.get("severity")), 0))
        return lead or intake_role(definition)
    if action == "sign_off":
        return Role.STATION_CHIEF.value
    if action == "decline" or tier is None:
        return intake_role(definition)
    return definition.lead_role(tier) or intake_role(definition)


# --- results -----------------------------------------------------------------------

@dataclass
class ReplayResult:
    """What one replay gave, and how it compares with the case file's ``expect``."""

    case: str
    origin: str
    expected_state: str
    expected_tiers: list[int]
    expected_documents: list[str]
    case_id: int | None = None
    number: str | None = None
    state: str | None = None
    tiers: list[int] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    failed_step: int | None = None
    mismatches: list[str] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step went through and the outcome is the expected one."""
        return not self.mismatches

    def line(self) -> str:
        """The one-line report: ``c01 OK  state … tiers … documents …`` or ``c01 MISMATCH …``.

        An OK line names the expected documents (all found; the case may have others).
        """
        if not self.ok:
            return f"{self.case} MISMATCH " + "; ".join(self.mismatches)
        docs = ",".join(self.expected_documents) or "-"
        return (
            f"{self.case} OK  state {self.state} (expected {self.expected_state}) "
            f"tiers {self.tiers} (expected {self.expected_tiers}) documents {docs}"
        )


def tier_path(case: Case, definition: Definition) -> list[int]:
    """The tiers a case worked in, in order (层级路径).

    Rule: walk the case's events in order, take the tier of each state an event moved
    the case into (states without a tier — suspended, agreement_drafted, performing … —
    are skipped), and collapse consecutive repeats. So a ``resume`` or ``reopen`` back
    into the tier the case left adds nothing (c22: accept → tier 1, reopen → tier 1
    gives ``[1]``; c26: tier 3, suspend, resume gives ``[3]``), an ``escalate`` adds
    the next tier (c07: ``[2, 3]``), and a declined case has ``[]``. A case that went
    back down to a tier it had left earlier would list that tier again.
    """
    path: list[int] = []
    for event in case.events:
        spec = definition.states.get(event.to_state)
        tier = spec.tier if spec is not None else None
        if tier is not None and (not path or path[-1] != tier):
            path.append(tier)
    return path


def document_kinds(case: Case) -> list[str]:
    """The kinds of the case's documents, each once, in the order first issued."""
    return list(dict.fromkeys(d.kind for d in case.documents))


# --- the replay ----------------------------------------------------------------------

def at_day(start: date, day: int, moment: time = STEP_TIME) -> datetime:
    """The aware instant ``moment`` (Asia/Shanghai) on day ``day`` counted from ``start``."""
    return datetime.combine(start + timedelta(days=day), moment, tzinfo=SHANGHAI)


def filing_of(spec: CaseSpec, enterprise_id: int | None) -> dict[str, Any]:
    """The ``file_case`` input of a case file."""
    raw = spec.raw
    parties = [{k: v for k, v in p.items() if v is not None} for p in raw["parties"]]
    return {
        "workflow": raw["workflow"],
        "category": raw["category"],
        "filed_via": raw["filed_via"],
        "title": raw.get("title"),
        "facts": raw["facts"],
        "claims": raw["claims"],
        "amount_claimed": raw.get("amount_claimed"),
        "enterprise_id": enterprise_id,
        "parties": parties,
    }


def step_data(step: Mapping[str, Any], start: date) -> dict[str, Any]:
    """The trigger data of a step: its fields but ``day``/``do``, terms' ``due_day`` → ``due_on``."""
    data = {k: v for k, v in step.items() if k not in _STEP_KEYS}
    if isinstance(data.get("terms"), list):
        terms = []
        for term in data["terms"]:
            term = dict(term) if isinstance(term, Mapping) else term
            if isinstance(term, dict) and "due_day" in term:
                due_day = term.pop("due_day")
                term["due_on"] = (start + timedelta(days=due_day)).isoformat() if due_day is not None else None
            terms.append(term)
        data["terms"] = terms
    return data


def _describe(exc: MediationError) -> str:
    return f"{type(exc).__name__}: {exc}"


def replay_spec(
    uow: services.UnitOfWork,
    spec: CaseSpec,
    start: date = DEFAULT_START,
    *,
    pdf_dir: Path | None = None,
) -> ReplayResult:
    """Replay one checked case (see the module docstring); never raises for a failing step.

    A domain error on a step (``ValidationError``, ``InvalidTransition``,
    ``PermissionDenied``, ``ConflictError`` …) ends the replay as a mismatch naming
    the step. With ``pdf_dir`` every document's PDF is written to
    ``pdf_dir/<case id>/<kind>-v<version>.pdf``. Raises ``CaseFileError`` when a step
    is not an action of the case's workflow.
    """
    expect = spec.expect
    result = ReplayResult(
        case=spec.id,
        origin=spec.origin,
        expected_state=str(expect["state"]),
        expected_tiers=[int(t) for t in expect["tiers"]],
        expected_documents=[str(d) for d in expect["documents"]],
    )
    definition = check_against(spec, uow.engine.registry)
    with uow:
        cast = cast_for(uow.session, spec, definition)
        uow.commit()

    steps = spec.steps
    previous_day = steps[0]["day"]
    case_id: int | None = None
    for number, step in enumerate(steps, start=1):
        action, day = str(step["do"]), int(step["day"])
        where = f"step {number} ({action}) on day {day}"
        try:
            for sweep_day in range(previous_day + 1, day + 1):
                with uow:
                    services.sweep(uow, now=at_day(start, sweep_day, SWEEP_TIME))
        except MediationError as exc:
            result.failed_step = number
            result.mismatches.append(f"sweep before {where}: {_describe(exc)}")
            break
        previous_day = day
        now = at_day(start, day)
        data = step_data(step, start)
        if action == "accept" and data.get("severity") is None and spec.raw.get("severity"):
            data["severity"] = spec.raw["severity"]  # the severity found at triage, if the step omits it
        role = "public"
        try:
            if action == "file":
                filed_via = spec.raw["filed_via"]
                if filed_via == IntakeSource.ONLINE.value:
                    actor_id = None
                else:
                    role = (
                        Role.ENTERPRISE_LIAISON.value
                        if filed_via == IntakeSource.ENTERPRISE_LIAISON.value
                        else intake_role(definition)
                    )
                    actor_id = cast.user_for(role)
                with uow:
                    filed = services.file_case(
                        uow, actor_id, filing_of(spec, cast.enterprise_id),
                        organisation_id=cast.organisation_id, now=now,
                    )
                case_id = filed.case_id
                result.case_id, result.number = filed.case_id, filed.number
                continue
            assert case_id is not None  # parse_case makes 'file' the first step
            with uow:
                tier = uow.session.get_one(Case, case_id).tier
            role = step_role(definition, action, data, tier)
            with uow:
                services.fire(uow, case_id, action, cast.user_for(role), data, now=now)
        except MediationError as exc:
            result.failed_step = number
            result.mismatches.append(f"{where} as {role}: {_describe(exc)}")
            break

    if case_id is not None:
        with uow:
            _compare(uow.session, case_id, definition, result, pdf_dir, steps=len(steps))
    elif not result.mismatches:  # pragma: no cover - parse_case makes 'file' the first step
        result.mismatches.append("the case was never filed")
    return result


def _compare(
    session: Session, case_id: int, definition: Definition, result: ReplayResult, pdf_dir: Path | None, *, steps: int
) -> None:
    case = session.get_one(Case, case_id)
    result.state = case.state
    result.tiers = tier_path(case, definition)
    result.documents = document_kinds(case)
    if result.failed_step is not None:
        result.mismatches[-1] += f" (the case stays {case.state})"
    else:
        end = f"after the last step ({steps})"
        if case.state != result.expected_state:
            result.mismatches.append(f"{end}: state {case.state} != expected {result.expected_state}")
        if result.tiers != result.expected_tiers:
            result.mismatches.append(f"{end}: tiers {result.tiers} != expected {result.expected_tiers}")
        missing = [k for k in result.expected_documents if k not in result.documents]
        if missing:
            have = ",".join(result.documents) or "none"
            result.mismatches.append(f"{end}: documents missing {','.join(missing)} (have {have})")
    if pdf_dir is not None:
        result.pdfs = write_pdfs(case.documents, pdf_dir / result.case)


def write_pdfs(documents: Sequence[Document], folder: Path) -> list[Path]:
    """Write each document's PDF as ``folder/<kind>-v<version>.pdf``; returns the paths."""
    from .archive import document_pdf  # WeasyPrint loads only when PDFs are asked for

    written = []
    for doc in documents:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{doc.kind}-v{doc.version}.pdf"
        path.write_bytes(document_pdf(doc))
        written.append(path)
    return written


def replay_file(
    uow: services.UnitOfWork,
    path: Path | str,
    start: date = DEFAULT_START,
    *,
    pdf_dir: Path | None = None,
) -> ReplayResult:
    """Replay the case file at ``path`` into a new case (see ``replay_spec``).

    Raises ``CaseFileError`` (naming the file and the field) for a file that cannot
    be replayed as written; a failing step or a different outcome is a mismatch in
    the result, not an exception.
    """
    return replay_spec(uow, load_case(path), start, pdf_dir=pdf_dir)
