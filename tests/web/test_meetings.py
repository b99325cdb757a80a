"""Meetings and visits (issue 4 B, point 1): schedule a session, record its minutes, cancel it,
home visits and investigations with their particulars, the calendar; DOMAIN R4, R5, R28, R29."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mediation import services
from mediation.clocks import SHANGHAI
from mediation.enums import Role, SessionStatus
from mediation.errors import ValidationError
from mediation.models import Document, Event, MediationSession
from tests.web.conftest import act, case_version, count_events, get_case

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2026-03-02 09:00 Beijing time


@pytest.fixture
def at(app):
    """Fix the app's clock: ``at(instant)``."""

    def set_now(instant: datetime) -> None:
        app.config["NOW"] = instant

    set_now(T0)
    return set_now


@pytest.fixture
def tier2_case(client, make_user, enterprise, file_case, login, read, at):
    """A labour case filed by the enterprise's liaison and accepted by the liaison officer (tier 2)."""
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise, display_name="网格员小李")
    case_id = file_case(liaison)
    officer = make_user(Role.LIAISON_OFFICER, display_name="王警官")
    login(officer)
    assert act(client, case_id, "accept", case_version(read, case_id), severity="general").status_code == 302
    return {"id": case_id, "liaison": liaison, "officer": officer}


def sessions_of(read, case_id):
    return read(lambda s: list(s.scalars(
        select(MediationSession).where(MediationSession.case_id == case_id).order_by(MediationSession.id)
    )))


def schedule(client, read, case_id, **overrides):
    data = {
        "scheduled_for": "2026-03-05T14:30", "mode": "joint", "place": "温溪警企驿站二楼调解室",
        "participants": ["a1", "r1"], "participants_other": "社区干部王某、物业公司经理", "public": "",
    }
    data.update(overrides)
    return act(client, case_id, "schedule_session", case_version(read, case_id), **data)


def test_mediator_schedules_a_session_in_beijing_time_with_free_text_participants(client, tier2_case, read):
    """R4 (free-text participants), R5 (public or not): the plan is kept and is on the timeline."""
    case_id = tier2_case["id"]
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "/actions/schedule_session#" in page and 'type="datetime-local"' in page
    response = schedule(client, read, case_id)
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = sessions_of(read, case_id)
    assert row.status is SessionStatus.SCHEDULED and row.held_at is None
    assert row.scheduled_for == datetime(2026, 3, 5, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai is 06:30 UTC
    assert row.place == "温溪警企驿站二楼调解室" and row.public is False and row.mode.value == "joint"
    assert row.participants == [{"party": "a1"}, {"party": "r1"}, {"name": "社区干部王某"}, {"name": "物业公司经理"}]
    assert row.mediator_id == tier2_case["officer"].id
    assert get_case(read, case_id).state == "tier2"  # an activity: no move
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "安排调解会" in page and "2026-03-05 14:30" in page and "物业公司经理" in page
    assert f"/cases/{case_id}/sessions/{row.id}" in page  # record the minutes from the panel


def test_a_session_cannot_be_scheduled_in_the_past_or_without_place_and_nothing_is_saved(client, tier2_case, read):
    case_id = tier2_case["id"]
    before = count_events(read, case_id)
    response = schedule(client, read, case_id, scheduled_for="2026-03-01T10:00", place="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "必填" in page  # the place
    assert count_events(read, case_id) == before and sessions_of(read, case_id) == []
    response = schedule(client, read, case_id, scheduled_for="2026-03-01T10:00")
    assert response.status_code == 400
    assert "尚未到来" in response.get_data(as_text=True) or "still to come" in response.get_data(as_text=True)
    response = schedule(client, read, case_id, scheduled_for="not a time")
    assert response.status_code == 400
    assert sessions_of(read, case_id) == []


def test_scheduled_session_is_recorded_later_with_its_minutes_and_issues_the_session_record(
    client, tier2_case, read, at
):
    """R29: rights and duties explained, statements, verification, result; the scheduled row is filled."""
    case_id = tier2_case["id"]
    assert schedule(client, read, case_id).status_code == 302
    [row] = sessions_of(read, case_id)
    at(T0 + timedelta(days=4))  # after the session
    page = client.get(f"/cases/{case_id}/sessions/{row.id}").get_data(as_text=True)
    assert 'value="2026-03-05T14:30"' in page and "温溪警企驿站二楼调解室" in page  # its time has come
    assert "社区干部王某" in page  # the plan's free-text participants are offered again
    response = client.post(f"/cases/{case_id}/sessions/{row.id}", data={
        "version": str(case_version(read, case_id)), "held_at": "", "mode": "joint",
        "place": "温溪警企驿站二楼调解室", "participants": ["a1", "r1"], "participants_other": "社区干部王某",
        "rights_explained": "y", "minutes": "申请人称三个月工资未发；被申请人称工程款未到位。",
        "verification": "核对了考勤表和工资表", "result": "双方同意分两期支付，拟定协议。",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = sessions_of(read, case_id)
    assert row.status is SessionStatus.HELD
    assert row.held_at == datetime(2026, 3, 5, 6, 30, tzinfo=UTC)  # the scheduled time, which has come
    assert row.rights_explained and row.verification == "核对了考勤表和工资表"
    assert row.result == "双方同意分两期支付，拟定协议。"
    assert row.recorded_by_id == tier2_case["officer"].id
    kinds = read(lambda s: list(s.scalars(select(Document.kind).where(Document.case_id == case_id))))
    assert "session_record" in kinds
    event = read(lambda s: s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq.desc())).first())
    assert event.trigger == "record_session" and event.data["session_id"] == row.id
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "核对了考勤表和工资表" in page and "双方同意分两期支付" in page
    assert "已向当事人告知权利义务" in page or "Rights and duties" in page
    # recording it again is refused: it is no longer scheduled
    response = client.get(f"/cases/{case_id}/sessions/{row.id}")
    assert response.status_code == 302


def test_recording_a_scheduled_session_with_errors_keeps_it_scheduled(client, tier2_case, read, at):
    case_id = tier2_case["id"]
    schedule(client, read, case_id)
    [row] = sessions_of(read, case_id)
    at(T0 + timedelta(days=4))
    before = count_events(read, case_id)
    response = client.post(f"/cases/{case_id}/sessions/{row.id}", data={
        "version": str(case_version(read, case_id)), "mode": "joint", "participants_other": "",
        "held_at": "2026-03-20T10:00",  # in the future
        "minutes": "x",
    })
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert count_events(read, case_id) == before
    assert sessions_of(read, case_id)[0].status is SessionStatus.SCHEDULED


def test_a_scheduled_session_can_be_cancelled_with_a_reason(client, tier2_case, read):
    case_id = tier2_case["id"]
    schedule(client, read, case_id)
    [row] = sessions_of(read, case_id)
    response = client.post(f"/cases/{case_id}/sessions/{row.id}/cancel",
                           data={"version": str(case_version(read, case_id)), "reason": ""})
    assert response.status_code == 400
    assert sessions_of(read, case_id)[0].status is SessionStatus.SCHEDULED
    response = client.post(f"/cases/{case_id}/sessions/{row.id}/cancel",
                           data={"version": str(case_version(read, case_id)), "reason": "被申请人负责人出差"})
    assert response.status_code == 302
    assert sessions_of(read, case_id)[0].status is SessionStatus.CANCELLED
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "被申请人负责人出差" in page and "取消调解会" in page


def test_the_enterprise_liaison_sees_the_plan_but_may_not_record_it(client, tier2_case, read, login):
    case_id = tier2_case["id"]
    schedule(client, read, case_id)
    [row] = sessions_of(read, case_id)
    login(tier2_case["liaison"])
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "2026-03-05 14:30" in page
    assert f"/cases/{case_id}/sessions/{row.id}\"" not in page
    response = client.post(f"/cases/{case_id}/sessions/{row.id}", data={"version": "1", "mode": "joint"})
    assert response.status_code == 403
    # notes are reachable from the case page (add_note)
    assert "/actions/add_note#" in page


def test_record_session_refuses_a_session_of_another_case(uow, tier2_case, file_case, read, client, login):
    case_id = tier2_case["id"]
    schedule(client, read, case_id)
    [row] = sessions_of(read, case_id)
    other = file_case(tier2_case["liaison"])
    login(tier2_case["officer"])
    assert act(client, other, "accept", case_version(read, other), severity="general").status_code == 302
    with uow, pytest.raises(ValidationError) as info:
        services.fire(uow, other, "record_session", tier2_case["officer"].id,
                      {"session_id": row.id, "mode": "joint", "participants": ["a1"]}, now=T0)
    assert "session_id" in info.value.errors


def test_home_visit_and_investigation_record_place_person_and_participants(client, tier2_case, read):
    """R28: time, place, participants, person questioned, record."""
    case_id = tier2_case["id"]
    response = act(client, case_id, "record_visit", case_version(read, case_id), note="上门了解工资发放情况",
                   place="温溪镇某村张某家中", person="张某", participants=["a1"], participants_other="村调解员")
    assert response.status_code == 302, response.get_data(as_text=True)
    response = act(client, case_id, "record_investigation", case_version(read, case_id), note="核实考勤",
                   place="公司财务室", person="财务李某", participants_other="")
    assert response.status_code == 302, response.get_data(as_text=True)
    events = read(lambda s: list(s.scalars(
        select(Event).where(Event.case_id == case_id, Event.trigger.in_(["record_visit", "record_investigation"]))
        .order_by(Event.seq)
    )))
    assert events[0].data["place"] == "温溪镇某村张某家中" and events[0].data["person"] == "张某"
    assert events[0].data["participants"] == [{"party": "a1"}, {"name": "村调解员"}]
    assert events[1].data["person"] == "财务李某" and "participants" not in events[1].data
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "被调查人" in page and "财务李某" in page and "村调解员" in page


def test_calendar_shows_the_week_of_sessions_the_user_may_see(
    client, tier2_case, read, login, make_user, other_enterprise, file_case, at
):
    case_id = tier2_case["id"]
    schedule(client, read, case_id)
    schedule(client, read, case_id, scheduled_for="2026-03-16T09:00", place="村委会")  # two weeks later
    officer = tier2_case["officer"]
    page = client.get("/calendar").get_data(as_text=True)
    assert "温溪警企驿站二楼调解室" in page and "村委会" not in page
    assert "2026-03-02" in page and "2026-03-08" in page  # Monday to Sunday
    assert re.search(r"14:30", page)
    page = client.get("/calendar?start=2026-03-16").get_data(as_text=True)
    assert "村委会" in page
    page = client.get("/calendar?view=list").get_data(as_text=True)
    assert "温溪警企驿站二楼调解室" in page and "村委会" in page  # the list covers four weeks
    # another mediator's sessions: only with "all mediators"
    other_officer = make_user(Role.LIAISON_OFFICER, display_name="赵警官")
    login(other_officer)
    assert "温溪警企驿站二楼调解室" not in client.get("/calendar").get_data(as_text=True)
    page = client.get("/calendar?mediator=all").get_data(as_text=True)
    assert "温溪警企驿站二楼调解室" in page and officer.display_name in page
    # a department head of another enterprise sees nothing of this case (policy)
    head = make_user(Role.DEPARTMENT_HEAD, enterprise=other_enterprise)
    login(head)
    page = client.get("/calendar?mediator=all").get_data(as_text=True)
    assert "温溪警企驿站二楼调解室" not in page
    assert client.get("/calendar?start=garbage&view=list&mediator=x").status_code == 200


def test_calendar_and_record_page_in_english(client, tier2_case, read):
    case_id = tier2_case["id"]
    schedule(client, read, case_id)
    [row] = sessions_of(read, case_id)
    client.post("/locale", data={"locale": "en", "next": "/calendar"})
    page = client.get("/calendar?mediator=all").get_data(as_text=True)
    assert "Calendar of sessions" in page and "Monday" in page
    page = client.get(f"/cases/{case_id}/sessions/{row.id}").get_data(as_text=True)
    assert "Session minutes" in page and "Rights and duties were explained" in page


def test_stored_times_are_shown_in_beijing_time_on_the_timeline(client, tier2_case, read):
    case_id = tier2_case["id"]
    schedule(client, read, case_id, scheduled_for="2026-03-05T08:00")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "2026-03-05 08:00" in page
    stored = read(lambda s: s.scalars(select(MediationSession.scheduled_for)).one())
    assert stored.astimezone(SHANGHAI).hour == 8 and stored.astimezone(UTC).hour == 0


def test_every_session_status_has_a_label():
    from web import labels

    assert set(labels.VOCABULARIES["session_status"]) == {s.value for s in SessionStatus}
