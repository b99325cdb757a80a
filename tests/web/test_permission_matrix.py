"""Every role × every page, case action, download, search and export (issue 4 A, point 1).

Each role (and the scoped variants: an officer assigned other enterprises, a volunteer of
another area) is walked through the pages, then through three cases: one of their own
(in their organisation and scope), a sibling (same organisation, outside the scope of the
scoped roles) and one of another organisation. The outcomes are written out below, not
worked out from ``mediation.policy``: a leak or a wrongful refusal shows as a difference.
PIPL arts. 28–30 and DOMAIN R36: ID numbers whole only for the roles that need them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from mediation.enums import Role
from mediation.models import Area, Document, Enterprise, Organisation, User
from mediation.services import UnitOfWork, file_case, fire
from mediation.validation import mask_id_number
from tests import factories
from tests.web.conftest import case_version, make_enterprise

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def id_number(body: str) -> str:
    """A valid 18-character ID number (GB 11643 check character) from its first 17 digits."""
    return body + ric.calc_check_digit(body + "0")


# --- the table ------------------------------------------------------------------------------

PAGES = ("my_cases", "ledger", "file", "admin", "public_file", "public_status")
#: Page → status for each subject.
PAGE_TABLE: dict[str, tuple[int, ...]] = {
    #                             my_cases ledger file admin public_file public_status
    "admin":                      (302,    403,   403, 200,  200,        200),
    "enterprise_liaison":         (200,    200,   200, 403,  200,        200),
    "department_head":            (200,    200,   200, 403,  200,        200),
    "liaison_officer":            (200,    200,   200, 403,  200,        200),
    "liaison_officer_elsewhere":  (200,    200,   200, 403,  200,        200),
    "community_officer":          (200,    200,   200, 403,  200,        200),
    "volunteer_mediator":         (200,    200,   200, 403,  200,        200),
    "volunteer_mediator_elsewhere": (200,  200,   200, 403,  200,        200),
    "station_chief":              (200,    200,   200, 403,  200,        200),
    "township_officer":           (200,    200,   403, 403,  200,        200),
    "auditor":                    (200,    200,   403, 403,  200,        200),
}

CHECKS = ("view", "download", "particulars", "action", "assign", "listed", "search_name", "search_id", "csv", "xlsx")
#: Nothing of the case reaches the user.
NONE = (404, 404, "-", 404, 404, "no", "no", "no", "absent", "absent")
#: The administrator: no case, no ledger at all.
ADMIN = (404, 404, "-", 404, 404, "refused", "refused", "refused", "refused", "refused")
#: (subject, target) → outcome of each check. ``own``: a tier-3 case of their scope (a labour
#: case of enterprise 甲 in area 东村; for volunteers a neighbour case in 东村); ``sibling``: a
#: tier-1 labour case of enterprise 乙 in 西村, same organisation; ``other``: another organisation's.
#: ``action`` is record_visit (tier lead, chief, township officer); ``assign`` gives the case to the chief.
TABLE: dict[tuple[str, str], tuple[Any, ...]] = {
    # columns: view download particulars action assign listed search_name search_id csv xlsx
    ("admin", "own"): ADMIN,
    ("admin", "sibling"): ADMIN,
    ("admin", "other"): ADMIN,
    ("enterprise_liaison", "own"):            (200, 200, "masked", 403, 403, "yes", "yes", "no", "masked", "masked"),
    ("enterprise_liaison", "sibling"): NONE,
    ("enterprise_liaison", "other"): NONE,
    ("department_head", "own"):               (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("department_head", "sibling"): NONE,
    ("department_head", "other"): NONE,
    ("liaison_officer", "own"):               (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("liaison_officer", "sibling"):           (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("liaison_officer", "other"): NONE,
    ("liaison_officer_elsewhere", "own"): NONE,
    ("liaison_officer_elsewhere", "sibling"): (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("liaison_officer_elsewhere", "other"): NONE,
    ("community_officer", "own"):             (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("community_officer", "sibling"):         (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("community_officer", "other"): NONE,
    ("volunteer_mediator", "own"):            (200, 200, "whole", 403, 403, "yes", "yes", "yes", "whole", "whole"),
    ("volunteer_mediator", "sibling"): NONE,
    ("volunteer_mediator", "other"): NONE,
    ("volunteer_mediator_elsewhere", "own"): NONE,
    ("volunteer_mediator_elsewhere", "sibling"): NONE,
    ("volunteer_mediator_elsewhere", "other"): NONE,
    ("station_chief", "own"):                 (200, 200, "whole", 302, 302, "yes", "yes", "yes", "whole", "whole"),
    ("station_chief", "sibling"):             (200, 200, "whole", 302, 302, "yes", "yes", "yes", "whole", "whole"),
    ("station_chief", "other"): NONE,
    ("township_officer", "own"):              (200, 200, "masked", 302, 403, "yes", "yes", "no", "masked", "masked"),
    ("township_officer", "sibling"): NONE,
    ("township_officer", "other"): NONE,
    ("auditor", "own"):                       (200, 200, "masked", 403, 403, "yes", "yes", "no", "masked", "masked"),
    ("auditor", "sibling"):                   (200, 200, "masked", 403, 403, "yes", "yes", "no", "masked", "masked"),
    ("auditor", "other"): NONE,
}
#: Which kind of case is a subject's own (and its other organisation's counterpart).
NEIGHBOUR_SUBJECTS = {"volunteer_mediator", "volunteer_mediator_elsewhere"}


# --- the world ------------------------------------------------------------------------------

@dataclass
class Target:
    """A case the subject is walked through."""

    case_id: int
    number: str
    applicant: str
    id_number: str
    document_id: int


@dataclass
class World:
    """Two organisations, their enterprises, areas, cases and the station chief of the first."""

    organisation: Organisation
    enterprise_a: Enterprise
    enterprise_b: Enterprise
    area_east: Area
    area_west: Area
    chief: User
    cases: dict[str, Target]


def _filing(workflow: str, category: str, applicant: str, ident: str, **extra: Any) -> dict[str, Any]:
    return {
        "workflow": workflow, "category": category, "filed_via": "walk_in", "facts": "事实", "claims": "请求",
        "parties": [
            {"role": "applicant", "name": applicant, "id_number": ident, "phone": "13800001234"},
            {"role": "respondent", "kind": "organisation", "name": "某公司"},
        ],
        **extra,
    }


def _case(uow: UnitOfWork, session: Session, actor: User, filing: dict[str, Any], severity: str) -> Target:
    with uow:
        filed = file_case(uow, actor.id, filing, now=NOW)
    with uow:
        fire(uow, filed.case_id, "accept", actor.id, {"severity": severity}, now=NOW)
    session.commit()  # end the session's read snapshot: the services wrote in their own transactions
    document_id = session.scalar(select(Document.id).where(Document.case_id == filed.case_id).limit(1))
    assert document_id is not None
    party = filing["parties"][0]
    return Target(filed.case_id, filed.number, party["name"], party["id_number"], document_id)


def _area(session: Session, organisation: Organisation, name: str) -> Area:
    area = Area(organisation_id=organisation.id, name=name)
    session.add(area)
    session.commit()
    return area


@pytest.fixture
def world(session: Session, uow: UnitOfWork, organisation: Organisation, make_user: Callable[..., User]) -> World:
    """Station 温溪 with enterprises 甲 (in 东村) and 乙 (in 西村); another station with its own."""
    east, west = _area(session, organisation, "东村"), _area(session, organisation, "西村")
    ent_a = make_enterprise(session, organisation, "甲阀门有限公司")
    ent_b = make_enterprise(session, organisation, "乙鞋业有限公司")
    ent_a.area_id, ent_b.area_id = east.id, west.id
    session.commit()
    other = factories.OrganisationFactory()
    other_ent = make_enterprise(session, other, "外地某公司")
    other_area = _area(session, other, "外地村")
    chief = make_user(Role.STATION_CHIEF, display_name="王所长")
    other_chief = factories.UserFactory(role=Role.STATION_CHIEF, organisation=other)
    cases = {
        "labour_own": _case(uow, session, chief, _filing(
            "labour", "wages", "甲申请人", id_number("33112119800101001"), enterprise_id=ent_a.id), "major"),
        "neighbour_own": _case(uow, session, chief, _filing(
            "neighbour", "neighbour_other", "东村申请人", id_number("33112119810202002"), area_id=east.id), "major"),
        "sibling": _case(uow, session, chief, _filing(
            "labour", "wages", "乙申请人", id_number("33112119820303003"), enterprise_id=ent_b.id), "simple"),
        "labour_other": _case(uow, session, other_chief, _filing(
            "labour", "wages", "外地申请人", id_number("33112119830404004"), enterprise_id=other_ent.id), "major"),
        "neighbour_other": _case(uow, session, other_chief, _filing(
            "neighbour", "neighbour_other", "外地村申请人", id_number("33112119840505005"), area_id=other_area.id),
            "major"),
    }
    return World(organisation, ent_a, ent_b, east, west, chief, cases)


def make_subject(subject: str, world: World, make_user: Callable[..., User]) -> User:
    """The user a subject of the table stands for."""
    if subject == "liaison_officer_elsewhere":
        return make_user(Role.LIAISON_OFFICER, assigned_enterprises=[world.enterprise_b],
                         assigned_areas=[world.area_west])
    if subject == "volunteer_mediator_elsewhere":
        return make_user(Role.VOLUNTEER_MEDIATOR, area_id=world.area_west.id)
    role = Role(subject)
    bound = world.enterprise_a if role in (Role.ENTERPRISE_LIAISON, Role.DEPARTMENT_HEAD) else None
    return make_user(role, enterprise=bound)


# --- the walk -----------------------------------------------------------------------------

def _listed(client: FlaskClient, url: str, target: Target) -> str:
    response = client.get(url)
    if response.status_code == 403:
        return "refused"
    assert response.status_code == 200, (url, response.status_code)
    return "yes" if f'href="/cases/{target.case_id}"' in response.get_data(as_text=True) else "no"


def _exported(client: FlaskClient, fmt: str, target: Target) -> str:
    response = client.get(f"/ledger/export.{fmt}")
    if response.status_code == 403:
        return "refused"
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
        rows = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    mine = [r for r in rows[1:] if r[0] == target.number]
    if not mine:
        return "absent"
    text = " ".join(mine[0])
    if target.id_number in text:
        return "whole"
    assert mask_id_number(target.id_number) in text
    return "masked"


def _particulars(client: FlaskClient, target: Target) -> str:
    response = client.get(f"/cases/{target.case_id}")
    if response.status_code != 200:
        return "-"
    page = response.get_data(as_text=True)
    if target.id_number in page:
        return "whole"
    assert mask_id_number(target.id_number) in page
    return "masked"


def walk(client: FlaskClient, read: Callable[..., Any], target: Target, chief: User) -> tuple[Any, ...]:
    """The outcome of every check of ``CHECKS`` on ``target`` for the logged-in user."""
    view = client.get(f"/cases/{target.case_id}").status_code
    download = client.get(f"/cases/{target.case_id}/documents/{target.document_id}.pdf").status_code
    particulars = _particulars(client, target)
    listed = _listed(client, "/ledger", target)
    search_name = _listed(client, f"/ledger?q={target.applicant}", target)
    search_id = _listed(client, f"/ledger?q={target.id_number}&search_in=id_number", target)
    exported_csv = _exported(client, "csv", target)
    exported_xlsx = _exported(client, "xlsx", target)
    version = case_version(read, target.case_id)
    action = client.post(f"/cases/{target.case_id}/actions/record_visit",
                         data={"version": str(version), "note": "上门了解情况"}).status_code
    version = case_version(read, target.case_id)
    assign = client.post(f"/cases/{target.case_id}/assign",
                         data={"version": str(version), "assignee": str(chief.id)}).status_code
    return (view, download, particulars, action, assign, listed, search_name, search_id, exported_csv,
            exported_xlsx)


@pytest.mark.parametrize("subject", list(PAGE_TABLE))
def test_every_role_gets_exactly_what_the_table_says(subject, world, make_user, client, login, read):
    """No leak and no wrongful refusal, for pages and for own, sibling and other cases (DOMAIN R36)."""
    user = make_subject(subject, world, make_user)
    login(user)
    differences = []
    pages = {
        "my_cases": "/", "ledger": "/ledger", "file": "/cases/new", "admin": "/admin/users",
        "public_file": "/public/file", "public_status": "/public/status",
    }
    got_pages = tuple(client.get(pages[p]).status_code for p in PAGES)
    if got_pages != PAGE_TABLE[subject]:
        differences.append(("pages", dict(zip(PAGES, got_pages, strict=True)), PAGE_TABLE[subject]))
    kind = "neighbour" if subject in NEIGHBOUR_SUBJECTS else "labour"
    targets = {"own": world.cases[f"{kind}_own"], "sibling": world.cases["sibling"],
               "other": world.cases[f"{kind}_other"]}
    for name, target in targets.items():
        got = walk(client, read, target, world.chief)
        expected = TABLE[(subject, name)]
        if got != expected:
            differences.append(
                (name, {c: (g, e) for c, g, e in zip(CHECKS, got, expected, strict=True) if g != e})
            )
    assert not differences, differences


def test_a_volunteer_with_an_area_sees_that_areas_village_cases(world, make_user, client, login, uow, session):
    """A volunteer of 西村 sees 西村's neighbour case (and not 东村's, the table says)."""
    west_case = _case(uow, session, world.chief, _filing(
        "neighbour", "neighbour_lift", "西村申请人", id_number("33112119850606006"), area_id=world.area_west.id),
        "simple")
    login(make_subject("volunteer_mediator_elsewhere", world, make_user))
    assert client.get(f"/cases/{west_case.case_id}").status_code == 200
    page = client.get("/ledger").get_data(as_text=True)
    assert f'href="/cases/{west_case.case_id}"' in page
    assert f'href="/cases/{world.cases["neighbour_own"].case_id}"' not in page


def test_a_case_assigned_to_an_officer_outside_their_scope_is_theirs_to_see(world, make_user, client, login, uow):
    """Assignment widens an assigned officer's view by exactly that case."""
    officer = make_subject("liaison_officer_elsewhere", world, make_user)
    own = world.cases["labour_own"]
    from mediation.services import assign_case

    with uow:
        assign_case(uow, own.case_id, officer.id, world.chief.id, now=NOW)
    login(officer)
    assert client.get(f"/cases/{own.case_id}").status_code == 200
    assert f'href="/cases/{own.case_id}"' in client.get("/").get_data(as_text=True)
