"""Replay of the real cases, as ../shared/cases/README.md "How a replay runs" says.

Every case file is carried from filing to its published outcome through the service
functions, on a simulated clock with the deadline sweep running once per simulated
day, by users with the role that would do each step; the outcome (state, tier path,
documents) must be the file's ``expect``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from mediation.clocks import SHANGHAI
from mediation.models import Case, Event, User
from mediation.replay import (
    DEFAULT_START,
    CaseFileError,
    load_case,
    replay_file,
    step_data,
    tier_path,
)

from ..conftest import CASES_DIR

CASE_FILES = sorted(CASES_DIR.glob("*.yaml")) if CASES_DIR.is_dir() else []


def small_case(**overrides: Any) -> dict[str, Any]:
    """A small labour case of our own (not a real one): wages, accepted as general."""
    case: dict[str, Any] = {
        "id": "t01",
        "title": "测试：拖欠工资",
        "workflow": "labour",
        "category": "wages",
        "filed_via": "walk_in",
        "enterprise": None,
        "parties": [
            {"ref": "a1", "role": "applicant", "kind": "person", "name": "测试甲", "phone": "13800009901",
             "id_number": "331121198604120312"},
            {"ref": "r1", "role": "respondent", "kind": "organisation", "name": "测试公司"},
        ],
        "facts": "拖欠两个月工资",
        "claims": "支付工资8000元",
        "amount_claimed": 8000,
        "severity": "general",
        "steps": [
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "general"},
            {"day": 1, "do": "draft_agreement", "terms": [
                {"obligor": "r1", "obligee": "a1", "text": "支付工资", "amount": 8000, "due_day": 5}]},
            {"day": 1, "do": "sign"},
        ],
        "expect": {"state": "performing", "tiers": [2], "documents": ["agreement"]},
    }
    case.update(overrides)
    return case


def write_case(folder: Path, case: dict[str, Any], name: str | None = None) -> Path:
    """Write ``case`` as ``folder/<id>.yaml``."""
    path = folder / (name or f"{case['id']}.yaml")
    path.write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _events(session, case_id: int, trigger: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.case_id == case_id, Event.trigger == trigger)))


@pytest.mark.parametrize("name", [p.stem for p in CASE_FILES] or ["no-cases"])
def test_real_case_replays_to_its_published_outcome(name, cases_dir, uow):
    """cases/README.md: each real case ends in its expected state, tier path and documents."""
    result = replay_file(uow, cases_dir / f"{name}.yaml")
    assert result.ok, result.line()
    assert result.line().startswith(f"{name} OK  state {result.expected_state} ")


def test_replaying_a_case_twice_files_a_new_case_with_the_same_result(cases_dir, uow, session):
    """cases/README.md: replaying the same file twice gives the same results; users are reused."""
    first = replay_file(uow, cases_dir / "c07.yaml")
    users = session.scalar(select(func.count()).select_from(User))
    session.rollback()  # end the read: SQLite's BEGIN IMMEDIATE would hold the write lock
    second = replay_file(uow, cases_dir / "c07.yaml")
    assert first.ok and second.ok
    assert second.case_id != first.case_id and second.number != first.number
    assert (first.state, first.tiers, first.documents) == (second.state, second.tiers, second.documents)
    assert first.line() == second.line()
    assert session.scalar(select(func.count()).select_from(User)) == users


def test_all_cases_replay_into_one_database_twice_with_the_same_lines(cases_dir, uow):
    """cases/README.md: all files into one database, twice over, give the same results."""
    paths = sorted(cases_dir.glob("*.yaml"))
    first = [replay_file(uow, p).line() for p in paths]
    second = [replay_file(uow, p).line() for p in paths]
    assert first == second
    assert all(" OK " in line for line in first), "\n".join(first)


def test_sweep_records_the_lapse_of_the_15_day_period_during_replay(cases_dir, uow, session):
    """DOMAIN R18 (Labour Dispute Mediation and Arbitration Law art. 14) with R25 (CPL art. 85).

    c07 is accepted on day 0 (Monday 2026-03-02) and has no agreement until day 64:
    the sweep run between the steps records the lapse just after 2026-03-17, the
    15th day. c26 spends days 3–78 suspended, which do not count, and reaches its
    agreement after 10 counted days; c01 agrees on day 0: neither lapses.
    """
    c07 = replay_file(uow, cases_dir / "c07.yaml")
    c26 = replay_file(uow, cases_dir / "c26.yaml")
    c01 = replay_file(uow, cases_dir / "c01.yaml")
    assert c07.ok and c26.ok and c01.ok

    lapses = [e for e in _events(session, c07.case_id, "clock_expired") if e.data["clock"] == "statutory_period"]
    assert len(lapses) == 1
    assert lapses[0].data["last_day"] == "2026-03-17"
    assert lapses[0].data["offer"] == {"trigger": "terminate", "referral": "arbitration"}
    assert lapses[0].actor_id is None
    assert lapses[0].at.astimezone(SHANGHAI).replace(tzinfo=None) == datetime(2026, 3, 18, 0, 0, 1)
    assert session.get(Case, c07.case_id).state == "performing"  # the shipped definitions only remind

    for other in (c26, c01):
        clocks = [e.data["clock"] for e in _events(session, other.case_id, "clock_expired")]
        assert "statutory_period" not in clocks


def test_tier_path_collapses_returns_to_the_same_tier(cases_dir, uow, session, registry):
    """Tier path rule (replay.tier_path): tiers entered, in order, consecutive repeats collapsed."""
    reopened = replay_file(uow, cases_dir / "c22.yaml")  # accept → tier 1, breach, reopen → tier 1
    resumed = replay_file(uow, cases_dir / "c26.yaml")  # tier 3, suspend, resume → tier 3
    escalated = replay_file(uow, cases_dir / "c07.yaml")  # tier 2, escalate → tier 3
    declined = replay_file(uow, cases_dir / "c21.yaml")
    assert [r.tiers for r in (reopened, resumed, escalated, declined)] == [[1], [3], [2, 3], []]
    assert "reopen" in [e.trigger for e in session.get(Case, reopened.case_id).events]

    labour = registry.get("labour")
    back_down = SimpleNamespace(
        events=[SimpleNamespace(to_state=s) for s in ("registered", "tier1", "tier2", "suspended", "tier2", "tier1")]
    )
    assert tier_path(back_down, labour) == [1, 2, 1]


def test_step_data_turns_due_days_into_dates():
    """cases/README.md: a term's due_day counts from day 0; null stays an open term."""
    data = step_data(
        {"day": 3, "do": "draft_agreement", "terms": [
            {"obligor": "r1", "obligee": "a1", "text": "付款", "amount": 100, "due_day": 5},
            {"obligor": "r1", "obligee": "a1", "text": "其余", "amount": None, "due_day": None},
        ]},
        date(2026, 3, 2),
    )
    assert [t["due_on"] for t in data["terms"]] == ["2026-03-07", None]
    assert "day" not in data and "do" not in data and "due_day" not in data["terms"][0]


def test_a_failing_step_is_a_mismatch_naming_the_case_and_the_step(tmp_path, uow, session):
    """A step the engine refuses is reported with the case id and the step; the case stays where it was."""
    case = small_case(id="t02")
    case["steps"].append({"day": 2, "do": "sign_off"})  # a tier-2 agreement needs no sign-off
    result = replay_file(uow, write_case(tmp_path, case))
    assert not result.ok
    assert result.failed_step == 5
    line = result.line()
    assert line.startswith("t02 MISMATCH step 5 (sign_off) on day 2 as station_chief: InvalidTransition")
    assert "(the case stays performing)" in line


def test_a_different_outcome_is_a_mismatch_naming_what_differs(tmp_path, uow):
    """The end of a replay is compared with expect: state, tier path, documents."""
    case = small_case(id="t03", expect={"state": "resolved", "tiers": [1], "documents": ["agreement", "dossier"]})
    result = replay_file(uow, write_case(tmp_path, case))
    assert not result.ok
    line = result.line()
    assert line.startswith("t03 MISMATCH after the last step (4): state performing != expected resolved")
    assert "tiers [2] != expected [1]" in line
    assert "documents missing dossier" in line


def test_each_step_is_done_by_the_role_that_does_it_in_real_life(cases_dir, uow, session):
    """cases/README.md: filer by filed_via, tier lead for tier work, the chief for sign_off."""
    c25 = replay_file(uow, cases_dir / "c25.yaml")  # filed by the enterprise liaison; tier 1 → 2
    c07 = replay_file(uow, cases_dir / "c07.yaml")  # walk-in labour; tier 2 → 3; chief signs off
    roles = {}
    for result in (c25, c07):
        events = session.get(Case, result.case_id).events
        roles[result.case] = [(e.trigger, e.actor.role.value if e.actor else None) for e in events]
    assert roles["c25"][:3] == [
        ("file", "enterprise_liaison"), ("accept", "department_head"), ("record_session", "department_head"),
    ]
    assert ("escalate", "department_head") in roles["c25"]
    assert ("record_investigation", "liaison_officer") in roles["c25"]
    assert roles["c07"][:2] == [("file", "liaison_officer"), ("accept", "liaison_officer")]
    assert ("sign_off", "station_chief") in roles["c07"]
    case25 = session.get(Case, c25.case_id)
    dept_head = next(e.actor for e in case25.events if e.trigger == "accept")
    assert dept_head.enterprise_id == case25.enterprise_id is not None


def test_an_online_case_is_filed_by_the_public(tmp_path, uow, session):
    """filed_via online: a member of the public files (no user), with the organisation named."""
    case = small_case(id="t04", filed_via="online")
    result = replay_file(uow, write_case(tmp_path, case))
    assert result.ok, result.line()
    filed = session.get(Case, result.case_id)
    assert filed.filed_by_id is None and filed.filed_via.value == "online"
    assert filed.organisation.name == "青田县公安局温溪派出所"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["steps"][1].update(day=-1), "t05.yaml: field steps.2.day: -1 is less than the minimum of 0"),
        (lambda c: c["steps"].insert(0, {"day": 0, "do": "accept"}), "t05.yaml: field steps.1.do: the first step"),
        (lambda c: c["steps"][3].update(day=0), "t05.yaml: field steps.4.day: 0 is before the step above it"),
        (lambda c: c.pop("expect"), "t05.yaml: field (top level): 'expect' is a required property"),
        (lambda c: c.update(filed_via="fax"), "t05.yaml: field filed_via: 'fax' is not one of"),
    ],
)
def test_a_bad_case_file_names_the_file_and_the_field(tmp_path, change, message):
    """A case file that cannot be replayed as written is an error naming the file and field."""
    case = small_case(id="t05")
    change(case)
    with pytest.raises(CaseFileError) as info:
        load_case(write_case(tmp_path, case))
    assert str(info.value).startswith(message)


def test_an_unknown_action_names_the_step(tmp_path, uow):
    """A step that is no action of the workflow is a case-file error, not a crash."""
    case = small_case(id="t06")
    case["steps"][3]["do"] = "sgin"
    with pytest.raises(CaseFileError, match=r"t06.yaml: field steps.4.do: 'sgin' is not an action of workflow labour"):
        replay_file(uow, write_case(tmp_path, case))


def test_replay_starts_on_the_given_day_at_nine_in_shanghai(tmp_path, uow, session):
    """Day 0 is --start (default Monday 2026-03-02); each step happens at 09:00 Asia/Shanghai."""
    path = write_case(tmp_path, small_case(id="t07"))
    default = replay_file(uow, path)
    later = replay_file(uow, path, date(2026, 6, 1))
    filed = [session.get(Case, r.case_id).filed_at.astimezone(SHANGHAI) for r in (default, later)]
    assert [f.replace(tzinfo=None) for f in filed] == [datetime(2026, 3, 2, 9), datetime(2026, 6, 1, 9)]
    assert date(2026, 3, 2) == DEFAULT_START and DEFAULT_START.weekday() == 0
    agreement = session.get(Case, later.case_id).current_agreement
    assert agreement.obligations[0].due_on == date(2026, 6, 6)
