"""The daily work in a real browser (issue 4): filing, tiers, meetings, evidence, a collective
dispute's schedule, the chief's sign-off; every main page checked by axe-core and photographed
in zh-CN and English. Explicit waits only."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from mediation.clocks import SHANGHAI
from mediation.enums import Role
from tests import factories
from tests.browser.conftest import log_in
from tests.web.conftest import make_enterprise

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
WORKERS = [("刘某某", "331121198503150011"), ("张某", "331121199001010014"), ("王某", "33112119881212001X")]


def valid(number: str) -> str:
    from stdnum.cn import ric

    return number[:17] + ric.calc_check_digit(number[:17] + "0")


@pytest.fixture
def people(session, organisation):
    """The station's people, each with a log-in."""
    enterprise = make_enterprise(session, organisation, "青田县温溪镇某阀门有限公司")

    def user(username: str, role: Role, name: str, **kw):
        return factories.UserFactory(username=username, role=role, display_name=name, organisation=organisation, **kw)

    return {
        "liaison": user("liaison", Role.ENTERPRISE_LIAISON, "网格员小李", enterprise=enterprise),
        "depthead": user("depthead", Role.DEPARTMENT_HEAD, "车间主任陈某", enterprise=enterprise),
        "officer": user("officer", Role.LIAISON_OFFICER, "王警官"),
        "chief": user("chief", Role.STATION_CHIEF, "周所长"),
    }


def act(page: Page, trigger: str, fill: dict[str, str] | None = None, select: dict[str, str] | None = None,
        check: list[str] | None = None) -> None:
    """Open an action of the case page's side bar, fill it, submit it and wait for the page to come back."""
    box = page.locator(f"#action-{trigger}")
    if box.count() == 0:  # an action without inputs is a button of its own
        box = page.locator(f"form[action*='/actions/{trigger}#']")
    elif not box.evaluate("e => e.open"):
        box.locator("summary").click()
    for name, value in (select or {}).items():
        box.locator(f"select[name='{name}']").select_option(value)
    for name, value in (fill or {}).items():
        box.locator(f"[name='{name}']").fill(value)
    for selector in check or []:
        box.locator(selector).check()
    with page.expect_navigation():
        box.locator("button[type=submit]").last.click()
    expect(page.locator(".flash-success")).to_be_visible()


def state(page: Page) -> str:
    return page.locator(".case-head .badges .badge").first.inner_text()


def test_a_collective_wage_dispute_from_filing_to_the_chiefs_sign_off(page, live_server, people, look):
    base = live_server
    # --- the enterprise liaison files it -----------------------------------------------------
    log_in(page, base, "liaison")
    look("my-cases")
    page.goto(f"{base}/cases/new")
    look("file-a-dispute")
    page.select_option("#category", "wages")
    page.fill("#facts", "2025年10月至12月工资未发，三名工人共计被拖欠29,932元。")
    page.fill("#claims", "支付拖欠工资")
    page.fill("#amount_claimed", "29932")
    page.select_option("#parties-0-kind", "group")
    page.fill("#parties-0-name", "刘某某等3名工人")
    page.fill("#parties-0-size", "3")
    page.fill("#parties-0-representative", "刘某某")
    page.fill("#parties-1-name", "青田县温溪镇某阀门有限公司")
    with page.expect_navigation():
        page.click("form.filing button[type=submit]")
    case_url = page.url
    assert re.search(r"/cases/\d+$", case_url), page.content()
    expect(page.locator(".flash-success")).to_contain_text("温溪警调字")
    look("case-filed")

    # --- the department head (tier 1) accepts, fails in a caucus and escalates -----------------
    log_in(page, base, "depthead")
    page.goto(case_url)
    act(page, "accept", select={"severity": "simple"})
    assert state(page) == "部门负责人调处"
    act(page, "record_session", select={"mode": "caucus"}, check=["input[name=participants][value=a1]"],
        fill={"result": "企业称资金周转困难，只同意支付一半，未达成一致。"})
    act(page, "escalate", fill={"reason": "一级调处未果，企业与工人分歧较大"})
    assert state(page) == "联企民警快处"

    # --- the liaison officer (tier 2): the workers, a meeting planned and held, evidence --------
    log_in(page, base, "officer")
    page.goto(case_url)
    page.click("text=刘某某等3名工人 的成员名单")
    page.wait_for_url("**/groups/a1")
    for i, (name, number) in enumerate(WORKERS):
        if i:  # with JavaScript one blank row is shown; the button adds the next
            page.click("#members [data-add-row]")
        page.fill(f"#members-{i}-name", name)
        page.fill(f"#members-{i}-id_number", valid(number))
        page.fill(f"#members-{i}-amount_claimed", ["9966", "9966", "10000"][i])
    with page.expect_navigation():
        page.click("#members button[type=submit]")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("table.workers tbody tr")).to_have_count(3)
    page.goto(case_url)
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
    act(page, "schedule_session", select={"mode": "joint"},
        fill={"scheduled_for": f"{tomorrow.isoformat()}T14:30", "place": "温溪警企驿站调解室",
              "participants_other": "社区干部王某、物业公司经理"},
        check=["input[name=participants][value=a1]", "input[name=participants][value=r1]"])
    expect(page.locator("#h-planned")).to_be_visible()
    look("case-page")
    page.goto(f"{base}/calendar?start={tomorrow.isoformat()}")
    expect(page.locator(".cal-entry")).to_contain_text("温溪警企驿站调解室")
    look("calendar")
    page.goto(f"{base}/calendar?start={tomorrow.isoformat()}&view=list")
    expect(page.locator(".cal-entry")).to_have_count(1)
    look("calendar-list")
    page.goto(case_url)
    with page.expect_navigation():
        page.click("text=记录调解情况")
    look("session-minutes")
    page.fill("#held_at", "")  # held now, ahead of the time planned
    page.fill("#minutes", "工人要求一次性付清；企业称工程款下月到账。")
    page.fill("#verification", "核对了考勤表和工资表，欠薪数额属实。")
    page.fill("#result", "双方同意由所长主持签订分期支付协议。")
    with page.expect_navigation():
        page.click("form.record-form button[type=submit]")
    expect(page.locator(".flash-success")).to_be_visible()
    page.set_input_files("#ev-file", files=[{"name": "工资表.png", "mimeType": "image/png", "buffer": PNG}])
    page.fill("#ev-description", "2025年10-12月工资表")
    with page.expect_navigation():
        page.click("form.upload-form button[type=submit]")
    expect(page.locator("ul.attachments")).to_contain_text("工资表.png")
    act(page, "escalate", fill={"reason": "涉及多名工人，需所长牵头联合化解"})
    assert state(page) == "所长负责·联合化解"

    # --- the station chief (tier 3): one term per worker, signatures, sign-off, a payment -------
    log_in(page, base, "chief")
    page.goto(case_url.rstrip("/") + "/groups/a1")
    look("group-members")
    page.select_option("#obligor", "r1")
    page.fill("#what", "2025年10月至12月工资")
    page.fill("#due_on", (tomorrow + timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.click("#schedule button[type=submit]")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("table.terms tbody tr")).to_have_count(3)
    act(page, "sign")
    assert state(page) == "待所长审签"
    act(page, "sign_off")
    assert state(page) == "履行中"
    look("case-performing")
    page.goto(case_url.rstrip("/") + "/groups/a1")
    with page.expect_navigation():
        page.click("text=登记已向张某支付")
    expect(page.locator("#term-2 .badge")).to_have_text("已履行")

    # --- lists: the ledger ------------------------------------------------------------------------
    page.goto(f"{base}/ledger")
    expect(page.locator("table.cases")).to_contain_text("刘某某等3名工人")
    look("ledger")
