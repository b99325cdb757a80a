"""The ledger (台账): filters, search, pinyin order, keyset pages and exports (issue 4 A, point 4).

Searching folds full-width and half-width characters and the middle-dot variants in names;
ID numbers and phones are exported whole only for the roles that see them whole
(PIPL arts. 28–30, DOMAIN R36).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from mediation.enums import Role
from mediation.models import Area
from mediation.services import assign_case, file_case, fire
from tests.web.conftest import make_enterprise

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
ID_A = "331121198001010018"


def links(page: str) -> list[int]:
    """The case ids the ledger table links to, in order."""
    table = page.split('<table class="cases ledger">', 1)[-1] if '<table class="cases ledger">' in page else ""
    return [int(i) for i in re.findall(r'href="/cases/(\d+)"', table)]


class Ledger:
    """A station with enterprises, an area, a chief, an officer and cases filed at chosen times."""

    def __init__(self, uow, session, organisation, make_user):
        self.uow = uow
        self.enterprise_a = make_enterprise(session, organisation, "甲阀门有限公司")
        self.enterprise_b = make_enterprise(session, organisation, "乙鞋业有限公司")
        self.area = Area(organisation_id=organisation.id, name="东村")
        session.add(self.area)
        session.commit()
        self.chief = make_user(Role.STATION_CHIEF, display_name="王所长")
        self.officer = make_user(Role.LIAISON_OFFICER, display_name="李民警")
        self.auditor = make_user(Role.AUDITOR)

    def file(self, applicant: str = "张三", *, days_ago: int = 0, workflow: str = "labour",
             category: str = "wages", enterprise=None, respondent: str = "某公司", **party: Any) -> int:
        filing = {
            "workflow": workflow, "category": category, "filed_via": "walk_in",
            "title": party.pop("title", None), "facts": party.pop("facts", "拖欠工资"), "claims": "付清工资",
            "amount_claimed": party.pop("amount", None),
            "enterprise_id": enterprise.id if enterprise is not None else None,
            "area_id": party.pop("area_id", None),
            "parties": [
                {"role": "applicant", "name": applicant, **party},
                {"role": "respondent", "kind": "organisation", "name": respondent},
            ],
        }
        with self.uow:
            return file_case(self.uow, self.chief.id, filing, now=NOW - timedelta(days=days_ago)).case_id

    def fire(self, case_id: int, trigger: str, **data: Any) -> None:
        with self.uow:
            fire(self.uow, case_id, trigger, self.chief.id, data, now=NOW)


@pytest.fixture
def ledger(uow, session, organisation, make_user, app) -> Ledger:
    app.config["NOW"] = NOW
    return Ledger(uow, session, organisation, make_user)


def test_an_enterprises_staff_are_offered_no_other_enterprises_department_heads(client, login, ledger, make_user):
    own_head = make_user(Role.DEPARTMENT_HEAD, enterprise=ledger.enterprise_a, display_name="甲厂车间主任")
    other_head = make_user(Role.DEPARTMENT_HEAD, enterprise=ledger.enterprise_b, display_name="乙厂车间主任")
    make_user(Role.DEPARTMENT_HEAD, display_name="无厂车间主任")  # a department head of no enterprise
    grid = make_user(Role.ENTERPRISE_LIAISON, enterprise=ledger.enterprise_a)
    login(grid)
    page = client.get("/ledger").get_data(as_text=True)
    assert "甲厂车间主任" in page and "李民警" in page and "乙厂车间主任" not in page and "无厂车间主任" not in page
    refused = client.get(f"/ledger?mediator={other_head.id}")
    assert refused.status_code == 400 and "乙厂车间主任" not in refused.get_data(as_text=True)
    assert client.get(f"/ledger?mediator={own_head.id}").status_code == 200
    login(ledger.chief)  # the station sees every mediator
    assert "乙厂车间主任" in client.get("/ledger").get_data(as_text=True)


def test_filters_by_state_tier_category_enterprise_area_mediator_and_dates(client, login, ledger, uow):
    registered = ledger.file("甲", days_ago=10, enterprise=ledger.enterprise_a)
    tier1 = ledger.file("乙", days_ago=5, enterprise=ledger.enterprise_b)
    ledger.fire(tier1, "accept", severity="simple")
    tier3 = ledger.file("丙", days_ago=1, category="work_injury", area_id=ledger.area.id)
    ledger.fire(tier3, "accept", severity="major")
    with uow:
        assign_case(uow, tier3, ledger.chief.id, ledger.chief.id, now=NOW)
    login(ledger.officer)

    def shown(query: str) -> set[int]:
        response = client.get(f"/ledger?{query}")
        assert response.status_code == 200, query
        return set(links(response.get_data(as_text=True)))

    assert shown("") == {registered, tier1, tier3}
    assert shown("state=registered") == {registered}
    assert shown("tier=1") == {tier1}
    assert shown("tier=3&state=tier3") == {tier3}
    assert shown("category=work_injury") == {tier3}
    assert shown(f"enterprise={ledger.enterprise_b.id}") == {tier1}
    assert shown(f"area={ledger.area.id}") == {tier3}
    assert shown(f"mediator={ledger.chief.id}") == {tier3}
    assert shown("mediator=none") == {registered, tier1}
    # Days in Asia/Shanghai, both ends included.
    day = (NOW - timedelta(days=5)).astimezone().date().isoformat()
    assert shown(f"filed_from={day}&filed_to={day}") == {tier1}
    assert shown(f"filed_from={day}") == {tier1, tier3}
    assert shown(f"filed_to={day}") == {registered, tier1}
    assert shown("tier=9&state=nowhere&category=divorce&sort=sideways&order=up") == {registered, tier1, tier3}


@pytest.mark.parametrize(
    ("query", "field"),
    [("filed_from=2026-13-45", "filed_from"), ("filed_to=yesterday", "filed_to"),
     ("filed_from=2026-03-10&filed_to=2026-03-01", "filed_to"), ("enterprise=abc", "enterprise"),
     ("mediator=99999", "mediator"), ("q=" + "长" * 300, "q")],
)
def test_bad_filters_are_named_beside_their_field_not_a_500(client, login, ledger, query, field):
    ledger.file("甲")
    login(ledger.officer)
    response = client.get(f"/ledger?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and "部分筛选条件无法使用" in page


def test_the_search_box_stops_at_the_length_the_ledger_accepts(client, login, ledger):
    """A browser then cannot send an address longer than the server's request line (gunicorn's own page)."""
    login(ledger.officer)
    page = client.get("/ledger").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="q"[^>]*maxlength="200"', page) or re.search(
        r'<input[^>]*maxlength="200"[^>]*id="q"', page)


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ({"name": "阿卜杜·热合曼"}, "阿卜杜・热合曼"),  # katakana middle dot for the middle dot
        ({"name": "阿卜杜・热合曼"}, "阿卜杜•热合曼"),  # bullet for the katakana middle dot
        ({"name": "阿卜杜‧热合曼"}, "阿卜杜．热合曼"),  # hyphenation point for the full-width full stop
        ({"name": "Ａ公司职工"}, "A公司职工"),  # full-width letter stored, half-width typed
        ({"name": "A公司职工"}, "ａ公司"),  # half-width stored, full-width lower case typed
        ({"name": "李 四"}, "李四"),  # spaces in a name do not count
        ({"name": "张三", "id_number": ID_A}, "３３１１２１１９８００１０１００１８"),  # full-width digits
        ({"name": "张三", "id_number": ID_A}, "0101001８"),  # part of an ID number
        ({"name": "张三", "phone": "13800001234"}, "138-0000-1234"),
        ({"name": "张三", "phone": "13800001234"}, "１３８ ００００ １２３４"),
        ({"name": "张三", "facts": "2025年发生工伤ＡＢＣ车间"}, "abc车间"),
        ({"name": "张三", "title": "某某与某公司欠薪（第二批）"}, "(第二批)"),
    ],
)
def test_search_matches_whatever_width_and_dot_was_typed(client, login, ledger, stored, typed):
    wanted = ledger.file(**stored)
    other = ledger.file("无关的人", respondent="另一家公司")
    login(ledger.officer)
    found = links(client.get("/ledger", query_string={"q": typed}).get_data(as_text=True))
    assert wanted in found and other not in found


def test_search_by_case_number_in_half_width_brackets_and_by_field(client, login, ledger):
    first = ledger.file("张三")
    second = ledger.file("李四", phone="13912345678")
    login(ledger.officer)

    def found(**query: str) -> list[int]:
        return links(client.get("/ledger", query_string=query).get_data(as_text=True))

    assert found(q="(2026)温溪警调字第0001号") == [first]
    assert found(q="第0002号", search_in="number") == [second]
    assert found(q="李四", search_in="text") == [second]  # the title is made from the names
    assert found(q="李四", search_in="party") == [second]
    assert found(q="13912345678", search_in="party") == []
    assert found(q="1391234", search_in="phone") == [second]
    assert found(q="%") == [] and found(q="_") == []  # LIKE wildcards are searched for, not obeyed


def test_roles_that_see_particulars_masked_cannot_search_by_them(client, login, ledger):
    wanted = ledger.file("张三", id_number=ID_A, phone="13800001234")
    login(ledger.auditor)
    page = client.get("/ledger", query_string={"q": ID_A, "search_in": "id_number"}).get_data(as_text=True)
    assert wanted not in links(page) and "不能按身份证号或电话查找" in page
    assert wanted not in links(client.get("/ledger", query_string={"q": "13800001234"}).get_data(as_text=True))
    assert wanted in links(client.get("/ledger", query_string={"q": "张三"}).get_data(as_text=True))


def test_party_names_sort_in_pinyin_order(client, login, ledger):
    """安 an < 李 li < 林 lin < 刘 liu < 王 wang < 曾 zeng (a surname) < 张 zhang; organisations by pinyin too."""
    names = ["张三", "曾某", "刘某", "安某", "王五", "林某", "李四"]
    ids = {name: ledger.file(name) for name in names}
    login(ledger.officer)
    page = client.get("/ledger?sort=party&order=asc").get_data(as_text=True)
    expected = ["安某", "李四", "林某", "刘某", "王五", "曾某", "张三"]
    assert links(page) == [ids[n] for n in expected]
    page = client.get("/ledger?sort=party&order=desc").get_data(as_text=True)
    assert links(page) == [ids[n] for n in reversed(expected)]


def test_sorting_by_number_filed_and_updated(client, login, ledger):
    older = ledger.file("甲", days_ago=3)
    newer = ledger.file("乙", days_ago=1)
    ledger.fire(older, "accept", severity="simple")  # changed last
    login(ledger.officer)
    assert links(client.get("/ledger").get_data(as_text=True)) == [newer, older]  # newest filing first
    assert links(client.get("/ledger?sort=filed&order=asc").get_data(as_text=True)) == [older, newer]
    assert links(client.get("/ledger?sort=updated").get_data(as_text=True)) == [older, newer]
    assert links(client.get("/ledger?sort=number&order=asc").get_data(as_text=True)) == [older, newer]


def test_pages_follow_each_other_by_cursor_without_gaps_or_repeats(app, client, login, ledger):
    app.config["LEDGER_PAGE_SIZE"] = 3
    ids = [ledger.file(f"申请人{i}", days_ago=10 - i) for i in range(7)]
    newest_first = list(reversed(ids))
    login(ledger.officer)
    page = client.get("/ledger").get_data(as_text=True)
    assert links(page) == newest_first[:3] and "第 1–3 件" in page and 'rel="prev"' not in page
    next_url = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    ledger.file("后来登记的")  # a filing between two pages neither repeats nor hides a row
    page = client.get(next_url).get_data(as_text=True)
    # The new filing is first now, so these rows are the 5th to 7th of 8.
    assert links(page) == newest_first[3:6] and "第 5–7 件" in page and "共 8 件" in page
    last_url = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    page = client.get(last_url).get_data(as_text=True)
    assert links(page) == newest_first[6:] and 'rel="next"' not in page
    prev_url = re.search(r'href="([^"]+)" rel="prev"', page).group(1).replace("&amp;", "&")
    assert links(client.get(prev_url).get_data(as_text=True)) == newest_first[3:6]
    # Filters stay on the page links; a cursor that is not one is the first page.
    page = client.get("/ledger?q=申请人&sort=filed&order=asc").get_data(as_text=True)
    assert "q=%E7%94%B3%E8%AF%B7%E4%BA%BA" in page and "order=asc" in page
    assert links(client.get("/ledger?after=not-a-cursor").get_data(as_text=True))[:1] == links(
        client.get("/ledger").get_data(as_text=True))[:1]
    assert client.get("/ledger?before=eyJ4IjoxfQ").status_code == 200


def test_xlsx_export_has_headers_rows_and_masks_for_the_auditor(client, login, ledger):
    wanted = ledger.file("张三", id_number=ID_A, phone="13800001234", amount="9966", enterprise=ledger.enterprise_a)
    ledger.file("李四")
    login(ledger.auditor)
    response = client.get("/ledger/export.xlsx?q=张三")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:6] == ("案件编号", "案件名称", "调解类型", "纠纷类别", "状态", "层级")
    assert "申请人身份证号" in header and "申请人电话" in header and "请求金额（元）" in header
    assert len(rows) == 2  # the filter holds: only 张三's case
    row = dict(zip(header, rows[1], strict=True))
    assert row["案件编号"] == "（2026）温溪警调字第0001号" and row["申请人"] == "张三"
    assert row["申请人身份证号"] == "331121********0018" and row["申请人电话"] == "138****1234"
    assert row["企业"] == "甲阀门有限公司" and row["状态"] == "已登记"
    assert float(row["请求金额（元）"]) == 9966.0
    assert isinstance(row["登记时间"], datetime)
    assert wanted  # filed


def test_csv_export_is_utf8_with_bom_and_whole_for_an_officer(client, login, ledger):
    ledger.file("张三", id_number=ID_A, phone="13800001234")
    ledger.file("=HYPERLINK(\"http://evil\")", facts="事实")
    login(ledger.officer)
    response = client.get("/ledger/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "案件编号" and len(rows) == 3
    by_name = {r[rows[0].index("申请人")]: r for r in rows[1:]}
    assert by_name["张三"][rows[0].index("申请人身份证号")] == ID_A
    assert by_name["张三"][rows[0].index("申请人电话")] == "13800001234"
    assert "'=HYPERLINK(\"http://evil\")" in by_name  # a formula is exported as text


def test_exports_follow_the_language_and_refuse_bad_filters(client, login, ledger):
    ledger.file("张三")
    login(ledger.officer)
    client.post("/locale", data={"locale": "en", "next": "/ledger"})
    rows = list(csv.reader(io.StringIO(client.get("/ledger/export.csv").data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Case number", "Title", "Kind of mediation"] and rows[1][4] == "Registered"
    assert client.get("/ledger/export.csv?filed_from=nope").status_code == 400
    assert client.get("/ledger/export.pdf").status_code == 404


def test_the_ledger_page_in_english(client, login, ledger):
    ledger.file("张三")
    login(ledger.officer)
    client.post("/locale", data={"locale": "en", "next": "/ledger"})
    page = client.get("/ledger?sort=party").get_data(as_text=True)
    for words in ("Ledger", "Export XLSX", "Filters and order", "Applicant (pinyin)", "1 case"):
        assert words in page


def test_an_enterprise_liaison_is_offered_only_their_enterprise(client, login, ledger, make_user):
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=ledger.enterprise_a)
    mine = ledger.file("甲", enterprise=ledger.enterprise_a)
    theirs = ledger.file("乙", enterprise=ledger.enterprise_b)
    login(liaison)
    page = client.get("/ledger").get_data(as_text=True)
    assert links(page) == [mine] and "乙鞋业有限公司" not in page
    response = client.get(f"/ledger?enterprise={ledger.enterprise_b.id}")  # not offered: refused, no leak
    assert response.status_code == 400 and theirs not in links(response.get_data(as_text=True))
    assert theirs not in links(client.get("/ledger?q=乙").get_data(as_text=True))
