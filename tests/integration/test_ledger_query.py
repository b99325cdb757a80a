"""The ledger query, its keys and pages, assignment and administration, on SQLite and PostgreSQL.

``mediation.ledger.ledger_query`` puts the policy into SQL: for every kind of user it
selects exactly the cases ``policy.can_view`` allows. Keyset pages cover the ledger
without gaps or repeats in every order. The search and sort keys are kept whoever
writes a party, and the migration fills them for the cases already recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from mediation import administration, ledger, policy, public
from mediation import db as dbmod
from mediation.audit import verify_all
from mediation.enums import PartyKind, PartyRole, Role
from mediation.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from mediation.ledger import LedgerFilters
from mediation.models import Area, Case, Enterprise, OutboxMessage, Party, User
from mediation.services import assign_case, file_case, fire
from mediation.textkeys import fold, name_key, pinyin_key, text_key
from tests import factories
from tests.integration.test_migrations import scratch_url  # noqa: F401  (a fixture)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def filing(applicant: str, workflow: str = "labour", **extra: Any) -> dict[str, Any]:
    category = "wages" if workflow == "labour" else "neighbour_other"
    return {
        "workflow": workflow, "category": category, "filed_via": "walk_in", "facts": "事实", "claims": "请求",
        "parties": [{"role": "applicant", "name": applicant}, {"role": "respondent", "name": "某公司"}], **extra,
    }


@pytest.fixture
def station(session, uow, organisation, make_user):
    """Enterprises 甲 (东村) and 乙 (西村), a chief, and cases of every kind in two organisations."""
    east = Area(organisation_id=organisation.id, name="东村")
    west = Area(organisation_id=organisation.id, name="西村")
    session.add_all([east, west])
    session.commit()
    ent_a = Enterprise(organisation_id=organisation.id, name="甲公司", area_id=east.id)
    ent_b = Enterprise(organisation_id=organisation.id, name="乙公司", area_id=west.id)
    session.add_all([ent_a, ent_b])
    session.commit()
    chief = make_user(Role.STATION_CHIEF)
    other = factories.OrganisationFactory()
    other_chief = factories.UserFactory(role=Role.STATION_CHIEF, organisation=other)
    ids: dict[str, int] = {}
    plan = [
        ("a_tier3", chief, filing("甲", enterprise_id=ent_a.id), "major"),
        ("b_tier1", chief, filing("乙", enterprise_id=ent_b.id), "simple"),
        ("none_registered", chief, filing("丙"), None),
        ("east_neighbour", chief, filing("丁", "neighbour", area_id=east.id), "general"),
        ("west_neighbour", chief, filing("戊", "neighbour", area_id=west.id), "simple"),
        ("other_org", other_chief, filing("己"), "major"),
    ]
    for key, actor, data, severity in plan:
        with uow:
            ids[key] = file_case(uow, actor.id, data, now=NOW).case_id
        if severity:
            with uow:
                fire(uow, ids[key], "accept", actor.id, {"severity": severity}, now=NOW)
    session.commit()
    return {"east": east, "west": west, "a": ent_a, "b": ent_b, "chief": chief, "ids": ids}


SUBJECTS = [
    "admin", "enterprise_liaison", "department_head", "unbound_department_head", "liaison_officer",
    "assigned_liaison_officer", "community_officer", "assigned_community_officer", "volunteer_mediator",
    "east_volunteer", "station_chief", "township_officer", "auditor", "inactive_chief",
]


def subject_user(name: str, station: dict[str, Any], make_user) -> User:
    a, west, east = station["a"], station["west"], station["east"]
    made = {
        "admin": lambda: make_user(Role.ADMIN),
        "enterprise_liaison": lambda: make_user(Role.ENTERPRISE_LIAISON, enterprise=a),
        "department_head": lambda: make_user(Role.DEPARTMENT_HEAD, enterprise=a),
        "unbound_department_head": lambda: make_user(Role.DEPARTMENT_HEAD),
        "liaison_officer": lambda: make_user(Role.LIAISON_OFFICER),
        "assigned_liaison_officer": lambda: make_user(Role.LIAISON_OFFICER, assigned_enterprises=[a]),
        "community_officer": lambda: make_user(Role.COMMUNITY_OFFICER),
        "assigned_community_officer": lambda: make_user(Role.COMMUNITY_OFFICER, assigned_areas=[west]),
        "volunteer_mediator": lambda: make_user(Role.VOLUNTEER_MEDIATOR),
        "east_volunteer": lambda: make_user(Role.VOLUNTEER_MEDIATOR, area_id=east.id),
        "station_chief": lambda: make_user(Role.STATION_CHIEF),
        "township_officer": lambda: make_user(Role.TOWNSHIP_OFFICER),
        "auditor": lambda: make_user(Role.AUDITOR),
        "inactive_chief": lambda: make_user(Role.STATION_CHIEF, active=False),
    }
    return made[name]()


#: What each subject sees of the station's cases (written out, not computed from the policy).
SEES = {
    "admin": set(),
    "enterprise_liaison": {"a_tier3"},
    "department_head": {"a_tier3"},
    "unbound_department_head": {"none_registered", "east_neighbour", "west_neighbour"},  # cases of no enterprise
    "liaison_officer": {"a_tier3", "b_tier1", "none_registered", "east_neighbour", "west_neighbour"},
    "assigned_liaison_officer": {"a_tier3"},
    "community_officer": {"a_tier3", "b_tier1", "none_registered", "east_neighbour", "west_neighbour"},
    "assigned_community_officer": {"b_tier1", "west_neighbour"},  # 乙公司 lies in 西村
    "volunteer_mediator": {"east_neighbour", "west_neighbour"},
    "east_volunteer": {"east_neighbour"},
    "station_chief": {"a_tier3", "b_tier1", "none_registered", "east_neighbour", "west_neighbour"},
    "township_officer": {"a_tier3"},
    "auditor": {"a_tier3", "b_tier1", "none_registered", "east_neighbour", "west_neighbour"},
    "inactive_chief": set(),
}


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_ledger_query_selects_exactly_what_the_policy_lets_each_user_see(subject, station, session, make_user,
                                                                              registry):
    user = subject_user(subject, station, make_user)
    session.commit()
    selected = set(session.scalars(ledger.ledger_query(session, user, LedgerFilters(), list(registry))).all())
    by_id = {case_id: key for key, case_id in station["ids"].items()}
    assert {by_id[c.id] for c in selected} == SEES[subject]
    every = session.scalars(select(Case)).all()
    assert {c.id for c in selected} == {c.id for c in every if policy.can_view(user, c)}
    session.commit()


def test_the_policy_is_in_the_sql_not_applied_after_loading(station, session, make_user):
    liaison = subject_user("enterprise_liaison", station, make_user)
    sql = str(ledger.ledger_query(session, liaison, LedgerFilters()).compile(compile_kwargs={"literal_binds": True}))
    assert f"cases.enterprise_id = {station['a'].id}" in sql and "cases.organisation_id =" in sql
    session.commit()


@pytest.mark.parametrize("sort", ["filed", "updated", "number", "party"])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_cover_the_ledger_without_gaps_or_repeats(sort, descending, session, uow, make_user, registry):
    chief = make_user(Role.STATION_CHIEF)
    names = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "李四"]  # a repeated name: the id breaks the tie
    for i, name in enumerate(names):
        with uow:
            file_case(uow, chief.id, filing(name), now=NOW + timedelta(minutes=i % 3))  # equal filing times too
    session.commit()
    filters = LedgerFilters(sort=sort, descending=descending)
    everything = [c.id for c in session.scalars(ledger.ledger_query(session, chief, filters))]
    seen: list[int] = []
    pages = []
    cursor = None
    while True:
        page = ledger.ledger_page(session, registry, chief, filters, NOW, after=cursor, per_page=3)
        assert page.total == len(names) and page.start == len(seen) + 1
        seen.extend(r.id for r in page.rows)
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == everything and len(set(seen)) == len(names)
    back = ledger.ledger_page(session, registry, chief, filters, NOW, before=pages[-1].prev_cursor, per_page=3)
    assert [r.id for r in back.rows] == [r.id for r in pages[-2].rows]
    assert back.start == pages[-2].start
    session.commit()


def test_keys_are_kept_when_parties_are_written_and_filled_at_filing(session, uow, make_user):
    chief = make_user(Role.STATION_CHIEF)
    with uow:
        case_id = file_case(uow, chief.id, filing("阿卜杜・热合曼", facts="ＡＢＣ车间"), now=NOW).case_id
    session.commit()
    case = session.get(Case, case_id)
    applicant = case.party("a1")
    assert applicant.name_key == "阿卜杜·热合曼" and applicant.sort_key == pinyin_key("阿卜杜·热合曼")
    assert applicant.sort_key.startswith("a0b") and "·" not in applicant.sort_key
    assert "abc车间" in case.search_key and case.party_key == applicant.sort_key
    applicant.name = "曾某"
    session.add(Party(case_id=case.id, position=9, ref="a2", role=PartyRole.APPLICANT, kind=PartyKind.PERSON,
                      name="安某"))
    session.commit()
    session.refresh(case)
    assert case.party("a1").name_key == "曾某" and case.party("a1").sort_key == "zeng0mou"
    assert case.party_key == "zeng0mou00an0mou"
    session.commit()


def test_text_keys_fold_widths_dots_and_case():
    assert fold("ＡＢＣ１２３．") == "abc123·"
    assert name_key(" 阿卜杜 • 热合曼 ") == name_key("阿卜杜‧热合曼") == "阿卜杜·热合曼"
    assert text_key("  第一行\n第二行  ") == "第一行 第二行"
    assert pinyin_key("李四") < pinyin_key("林五") < pinyin_key("刘六")
    assert pinyin_key("曾某") == "zeng0mou" and pinyin_key("曾经", person=False) == "ceng0jing"
    assert pinyin_key("") == ""


# --- assignment -------------------------------------------------------------------------------

def test_assign_case_appends_a_chained_event_and_a_notice(station, session, uow, make_user):
    case_id = station["ids"]["a_tier3"]
    township = make_user(Role.TOWNSHIP_OFFICER)
    version = session.get(Case, case_id).version
    session.commit()
    with uow:
        done = assign_case(uow, case_id, township.id, station["chief"].id, version, now=NOW)
    assert done.version == version + 1 and done.assignee_id == township.id
    assert list(verify_all(session)) == []
    notice = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "assigned")).one()
    assert notice.recipient_id == township.id
    with uow, pytest.raises(ConflictError):
        assign_case(uow, case_id, None, station["chief"].id, version, now=NOW)
    session.commit()


def test_assign_case_refuses_without_saving(station, session, uow, make_user):
    ids = station["ids"]
    chief = station["chief"]
    officer = make_user(Role.LIAISON_OFFICER)
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=station["a"])
    other_head = make_user(Role.DEPARTMENT_HEAD, enterprise=station["b"])
    volunteer = make_user(Role.VOLUNTEER_MEDIATOR)
    session.commit()
    attempts = [  # case, assignee, actor, what is raised
        (ids["a_tier3"], liaison.id, chief.id, ValidationError),  # an enterprise liaison mediates nothing
        (ids["a_tier3"], other_head.id, chief.id, ValidationError),  # another enterprise's department head
        (ids["a_tier3"], volunteer.id, chief.id, ValidationError),  # a volunteer takes no labour case
        (ids["b_tier1"], 999999, chief.id, ValidationError),
        (ids["a_tier3"], officer.id, liaison.id, PermissionDenied),  # sees the case, may not assign it
        (ids["other_org"], chief.id, chief.id, NotFound),
        (999999, chief.id, chief.id, NotFound),
    ]
    for case_id, assignee, actor, error in attempts:
        with uow, pytest.raises(error):
            assign_case(uow, case_id, assignee, actor, now=NOW)
    assert session.scalar(select(Case.assigned_to_id).where(Case.assigned_to_id.is_not(None))) is None
    session.commit()


# --- administration and the public status --------------------------------------------------------

@pytest.mark.parametrize(
    ("pattern", "ok"),
    [("（{year}）{short_name}警调字第{seq:04d}号", True), ("{year}-{seq}", True), ("{short_name}{seq}", False),
     ("{year}", False), ("{year}{seq}{x}", False), ("{year}{seq", False), ("{year}{seq:zz}", False),
     ("{year}{0}{seq}", False)],
)
def test_case_number_patterns(pattern, ok):
    assert (administration.check_case_number_pattern(pattern) is None) is ok


def test_deactivation_and_a_new_password_raise_the_session_version(session, uow, make_user):
    admin = make_user(Role.ADMIN)
    officer = make_user(Role.LIAISON_OFFICER)
    session.commit()
    with uow:
        administration.set_active(uow, admin.id, officer.id, False)
    with uow:
        administration.reset_password(uow, admin.id, officer.id, "another-secret", "another-secret")
    session.refresh(officer)
    assert officer.session_version == 3 and not officer.active
    with uow, pytest.raises(PermissionDenied):
        administration.set_active(uow, officer.id, admin.id, False)
    session.commit()


def test_public_status_is_none_for_a_wrong_code_or_phone(station, session, registry, uow, organisation):
    with uow:
        filed = public.file_online(uow, {
            "organisation_id": organisation.id, "kind": "labour:wages", "applicant_name": "陈某",
            "applicant_phone": "13712345678", "respondent_name": "某公司", "facts": "欠薪", "claims": "付款",
            "consent": True,
        }, now=NOW)
    assert public.case_status(session, registry, filed.tracking_code, "13712345678", NOW).number == filed.number
    assert public.case_status(session, registry, filed.tracking_code, "13700000000", NOW) is None
    assert public.case_status(session, registry, "WRONGCODE1", "13712345678", NOW) is None
    assert public.case_status(session, registry, filed.tracking_code, "", NOW) is None
    with uow, pytest.raises(ValidationError) as refused:
        public.file_online(uow, {"organisation_id": organisation.id, "consent": False}, now=NOW)
    assert {"consent", "applicant_phone", "applicant_name", "kind"} <= set(refused.value.errors)
    session.commit()


# --- the migration fills the keys of what is already recorded --------------------------------------

def test_the_migration_fills_the_search_and_sort_keys_of_recorded_cases(scratch_url):  # noqa: F811
    cfg = dbmod.alembic_config(scratch_url)
    command.upgrade(cfg, "632d68acf3d4")
    engine = dbmod.make_engine(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (id, name, short_name, committee_name, case_number_pattern) "
                              "VALUES (1, '温溪派出所', '温溪', '委员会', '{year}{seq}')"))
            conn.execute(text("INSERT INTO workflow_definitions VALUES ('labour', 1, 'x', 'y')"))
            conn.execute(text("INSERT INTO workflow_states VALUES ('labour', 1, 'registered', false)"))
            conn.execute(text(
                "INSERT INTO cases (id, organisation_id, workflow, workflow_version, state, category, filed_via, "
                "title, facts, claims, number, number_year, number_seq, tracking_code, filed_at, updated_at, "
                "risk_flag, version) VALUES (1, 1, 'labour', 1, 'registered', 'wages', 'walk_in', '标题ＡＢ', "
                "'事实・内容', '请求', '（2026）温溪警调字第0001号', 2026, 1, 'CODE000001', '2026-03-02 01:00:00', "
                "'2026-03-02 01:00:00', false, 1)"))
            conn.execute(text(
                "INSERT INTO parties (case_id, position, ref, role, kind, name, size) VALUES "
                "(1, 2, 'r1', 'respondent', 'organisation', '某公司', 1), (1, 1, 'a1', 'applicant', 'person', "
                "'曾 某・某', 1)"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            case = conn.execute(text("SELECT search_key, party_key FROM cases WHERE id = 1")).one()
            parties = {r[0]: r[1] for r in conn.execute(text("SELECT name, name_key FROM parties"))}
            version = conn.execute(text("SELECT session_version FROM users")).all()
        assert case.search_key == "(2026)温溪警调字第0001号 标题ab 事实·内容 请求"
        assert case.party_key == "zeng0mou0mou"
        assert parties == {"曾 某・某": "曾某·某", "某公司": "某公司"}
        assert version == []
    finally:
        engine.dispose()
