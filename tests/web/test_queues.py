"""The queues of "my cases" and assigning a case (issue 4 A, point 3).

Sections: assigned to me; unassigned at my tier; awaiting my sign-off; running out of time
(statutory and service periods, soonest first, day counts from ``services.clock_status``);
recently changed. Assigning and reassigning is an ``assign`` event on the timeline.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mediation.enums import Role
from mediation.models import Case, Event, OutboxMessage
from tests.integration.journeys import open_station
from tests.web.conftest import case_version, count_events

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


@pytest.fixture
def station(uow, session, make_user, organisation):
    return open_station(uow, session, make_user, organisation)


def section(page: str, heading: str) -> str:
    """The HTML of the queue section under ``heading`` (empty when the page has none)."""
    parts = page.split(heading, 1)
    return parts[1].split("</section>", 1)[0] if len(parts) == 2 else ""


def links(html: str) -> list[int]:
    """The case ids linked from ``html``, in order."""
    return [int(i) for i in re.findall(r'href="/cases/(\d+)"', html)]


def test_an_accepted_case_waits_unassigned_at_its_tier_and_moves_to_my_cases_once_assigned(
    app, client, station, login, read
):
    app.config["NOW"] = NOW
    case_id = station.file(now=NOW - timedelta(days=1)).case_id
    station.fire(case_id, "accept", {"severity": "general"}, now=NOW - timedelta(days=1))
    officer = station.user(Role.LIAISON_OFFICER)
    login(officer)
    page = client.get("/").get_data(as_text=True)
    assert case_id in links(section(page, "本层级待分派"))
    assert case_id not in links(section(page, "分派给我的案件"))
    response = client.post(f"/cases/{case_id}/assign",
                           data={"version": case_version(read, case_id), "assignee": str(officer.id)})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert case_id in links(section(page, "分派给我的案件"))
    assert case_id not in links(section(page, "本层级待分派"))
    assert case_id in links(section(page, "最近更新"))


def test_running_out_of_time_lists_the_soonest_end_first_with_day_counts(app, client, station, login):
    """Service deadline of tier 2: 7 days (labour.yaml); statutory period: 15 days (DOMAIN R18, R25)."""
    app.config["NOW"] = NOW
    accepted = {}
    for days_ago in (2, 10, 5):
        case_id = station.file(now=NOW - timedelta(days=days_ago)).case_id
        station.fire(case_id, "accept", {"severity": "general"}, now=NOW - timedelta(days=days_ago))
        accepted[days_ago] = case_id
    login(station.user(Role.LIAISON_OFFICER))
    html = section(client.get("/").get_data(as_text=True), "即将到期")
    assert links(html) == [accepted[10], accepted[5], accepted[2]]
    rows = html.split("<tr")[1:]
    lapsed = next(r for r in rows if f"/cases/{accepted[10]}" in r)
    # Accepted on Friday 6 March: the 7-day tier-2 deadline ended on Friday 13 March.
    assert "已届满" in lapsed and "二级调处时限" in lapsed and "2026-03-13" in lapsed
    soon = next(r for r in rows if f"/cases/{accepted[5]}" in r)
    assert re.search(r"还剩 \d+ 日", soon) and "二级调处时限" in soon
    login(station.user(Role.AUDITOR))
    assert "即将到期" not in client.get("/").get_data(as_text=True)  # the auditor acts on no case


def test_the_chief_sees_what_awaits_sign_off(app, client, station, login):
    app.config["NOW"] = NOW
    case_id = station.drive_to("labour", "awaiting_signoff", now=NOW - timedelta(days=1))
    login(station.user(Role.STATION_CHIEF))
    page = client.get("/").get_data(as_text=True)
    assert case_id in links(section(page, "待我审签"))
    login(station.user(Role.LIAISON_OFFICER))
    assert "待我审签" not in client.get("/").get_data(as_text=True)


def test_assigning_is_an_event_on_the_timeline_and_a_notice_to_the_mediator(client, station, login, read):
    case_id = station.file().case_id
    station.fire(case_id, "accept", {"severity": "major"})
    chief = station.user(Role.STATION_CHIEF)
    township = station.user(Role.TOWNSHIP_OFFICER)
    login(chief)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'action="/cases/{case_id}/assign' in page and township.display_name in page
    events = count_events(read, case_id)
    response = client.post(f"/cases/{case_id}/assign",
                           data={"version": case_version(read, case_id), "assignee": str(township.id)})
    assert response.status_code == 302
    assert count_events(read, case_id) == events + 1
    event = read(lambda s: s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq.desc())).first())
    assert event.trigger == "assign" and event.from_state == event.to_state == "tier3"
    assert event.data["assignee"] == township.display_name and event.data["previous"] is None
    assert read(lambda s: s.get(Case, case_id).assigned_to_id) == township.id
    notice = read(lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "assigned")).one())
    assert notice.recipient_id == township.id and notice.case_id == case_id
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "分派承办人" in page and f"由{township.display_name}承办" in page

    # Reassigning names the previous mediator; taking it back leaves no mediator.
    officer_version = case_version(read, case_id)
    response = client.post(f"/cases/{case_id}/assign", data={"version": officer_version, "assignee": str(chief.id)})
    assert response.status_code == 302
    event = read(lambda s: s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq.desc())).first())
    assert event.data["previous"] == township.display_name and event.data["assignee"] == chief.display_name
    response = client.post(f"/cases/{case_id}/assign", data={"version": case_version(read, case_id), "assignee": ""})
    assert response.status_code == 302
    assert read(lambda s: s.get(Case, case_id).assigned_to_id) is None


def test_a_stale_or_wrong_assignment_saves_nothing(client, station, login, read):
    case_id = station.file().case_id
    station.fire(case_id, "accept", {"severity": "general"})
    chief = station.user(Role.STATION_CHIEF)
    auditor = station.user(Role.AUDITOR)
    login(chief)
    version = case_version(read, case_id)
    events = count_events(read, case_id)
    response = client.post(f"/cases/{case_id}/assign", data={"version": version - 1, "assignee": str(chief.id)})
    assert response.status_code == 409
    response = client.post(f"/cases/{case_id}/assign", data={"version": version, "assignee": str(auditor.id)})
    assert response.status_code == 400 and "此人不能承办此案件" in response.get_data(as_text=True)
    for junk in ("abc", "99999", "-1"):
        response = client.post(f"/cases/{case_id}/assign", data={"version": version, "assignee": junk})
        assert response.status_code == 400
    response = client.post(f"/cases/{case_id}/assign", data={"assignee": str(chief.id)})  # no version
    assert response.status_code == 400
    assert count_events(read, case_id) == events
    assert read(lambda s: s.get(Case, case_id).assigned_to_id) is None


def test_only_the_tier_lead_and_the_chief_may_assign(client, station, login, read):
    case_id = station.file().case_id
    station.fire(case_id, "accept", {"severity": "general"})  # tier 2: the liaison officer leads
    officer = station.user(Role.LIAISON_OFFICER)
    for role, status in ((Role.AUDITOR, 403), (Role.DEPARTMENT_HEAD, 403), (Role.COMMUNITY_OFFICER, 403),
                         (Role.LIAISON_OFFICER, 302)):
        login(station.user(role))
        response = client.post(f"/cases/{case_id}/assign",
                               data={"version": case_version(read, case_id), "assignee": str(officer.id)})
        assert response.status_code == status, role
        if status == 403:
            assert f'action="/cases/{case_id}/assign' not in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert client.post("/cases/99999/assign", data={"version": 1, "assignee": ""}).status_code == 404
