"""Collective disputes (issue 4 B, point 3): a group party's workers on a form or from XLSX, one
agreement with a payment term per worker, performance per worker. DOMAIN R15, R22, R34, R36."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select
from stdnum.cn import ric

from mediation import collective
from mediation.enums import Role
from mediation.models import Event, GroupMember, Party
from tests.web.conftest import act, case_version, count_events, get_case


def id_number(n: int, born: str = "19850315") -> str:
    """A valid 18-character ID number (area 331121, Qingtian) for worker ``n``."""
    body = f"331121{born}{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def group_case(client, make_user, enterprise, file_case, login, read):
    """The standard labour dispute (a1 is a group of 5 workers represented by 刘某某), at tier 2."""
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    case_id = file_case(liaison)
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    assert act(client, case_id, "accept", case_version(read, case_id), severity="general").status_code == 302
    return {"id": case_id, "liaison": liaison, "officer": officer, "url": f"/cases/{case_id}/groups/a1"}


WORKERS = [("刘某某", 1, "9,966"), ("张某", 2, "9,966"), ("王某", 3, "10,000.50")]


def members_form(read, case_id, workers=WORKERS, **extra):
    data = {"version": str(case_version(read, case_id)), "representative": "刘某某"}
    for i, (name, n, amount) in enumerate(workers):
        data[f"members-{i}-name"] = name
        data[f"members-{i}-id_number"] = id_number(n) if isinstance(n, int) else n
        data[f"members-{i}-phone"] = f"1380000010{i}"
        data[f"members-{i}-amount_claimed"] = amount
    data.update(extra)
    return data


def members(read, case_id):
    return read(lambda s: list(s.scalars(
        select(GroupMember).join(Party).where(Party.case_id == case_id).order_by(GroupMember.position)
    )))


def test_case_page_links_to_the_group_and_the_list_is_saved_from_the_form(client, group_case, read):
    page = client.get(f"/cases/{group_case['id']}").get_data(as_text=True)
    assert group_case["url"] in page
    response = client.post(group_case["url"] + "/members", data=members_form(read, group_case["id"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    rows = members(read, group_case["id"])
    assert [(m.position, m.name, m.id_number, str(m.amount_claimed)) for m in rows] == [
        (1, "刘某某", id_number(1), "9966.00"),
        (2, "张某", id_number(2), "9966.00"),
        (3, "王某", id_number(3), "10000.50"),
    ]
    party = get_case(read, group_case["id"]).party("a1")
    assert party.size == 3 and party.representative == "刘某某"
    event = read(lambda s: s.scalars(select(Event).where(Event.trigger == "record_group_members")).one())
    assert event.data["count"] == 3 and event.data["total_claimed"] == "29932.50"
    # no ID numbers in the immutable timeline (PIPL)
    assert event.data["group"] == "刘某某等5名工人" and "members" not in event.data
    page = client.get(group_case["url"]).get_data(as_text=True)
    assert id_number(2) in page and "¥29,932.50" in page


def test_a_wrong_id_number_is_shown_beside_its_field_and_nothing_is_saved(client, group_case, read):
    before = count_events(read, group_case["id"])
    bad = [("刘某某", 1, "100"), ("张某", wrong_check(id_number(2)), "100"), ("王某", 1, "100")]
    response = client.post(group_case["url"] + "/members", data=members_form(read, group_case["id"], bad))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "身份证号码校验位错误" in page and 'id="members-1-id_number-error"' in page
    assert "名单中已有相同的身份证号码" in page  # row 3 repeats row 1
    assert members(read, group_case["id"]) == [] and count_events(read, group_case["id"]) == before


def xlsx(rows, headings=("序号", "姓名", "身份证号码", "手机号码", "请求金额（元）")) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某阀门公司欠薪工人名单"])  # a title row above the headings is skipped? no: it is the heading row
    sheet.delete_rows(1)
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_sheet(client, read, group_case, content: bytes, name="名单.xlsx"):
    return client.post(
        group_case["url"] + "/import",
        data={"version": str(case_version(read, group_case["id"])), "sheet": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_xlsx_import_reports_every_problem_by_row_and_column_and_saves_nothing(client, group_case, read):
    rows = [(i, f"工人{i}", id_number(i), f"1390000000{i % 10}", 5000) for i in range(1, 6)]
    rows.append((6, "工人6", wrong_check(id_number(6)), "13900000006", 5000))  # sheet row 7
    rows.append((7, "", id_number(7), "12345", "abc"))  # sheet row 8
    response = import_sheet(client, read, group_case, xlsx(rows))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "第7行，“身份证号码”列：身份证号码校验位错误" in page
    assert "第8行，“姓名”列" in page and "第8行，“手机号码”列" in page and "第8行，“请求金额（元）”列" in page
    assert members(read, group_case["id"]) == []
    client.post("/locale", data={"locale": "en", "next": "/"})
    page = import_sheet(client, read, group_case, xlsx(rows)).get_data(as_text=True)
    assert "Row 7, column ID number: The ID number&#39;s check character is wrong" in page


def test_xlsx_import_replaces_the_list(client, group_case, read):
    rows = [(i, f"工人{i}", id_number(i), None, 4000 + i) for i in range(1, 13)]
    response = import_sheet(client, read, group_case, xlsx(rows))
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = members(read, group_case["id"])
    assert len(saved) == 12 and saved[11].name == "工人12" and str(saved[0].amount_claimed) == "4001.00"
    assert get_case(read, group_case["id"]).party("a1").size == 12
    event = read(lambda s: s.scalars(select(Event).where(Event.trigger == "record_group_members")).one())
    assert event.data["source"] == "XLSX: 名单.xlsx"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not a spreadsheet", "不是Excel"),
        (xlsx([], headings=("姓名", "金额")), "没有该列"),
        (
            xlsx([(1, "a", 3.3112119850315002e17, None, None)],
                 headings=("序号", "姓名", "身份证号码", "电话", "金额")),
            "格式设为文本",
        ),
    ],
)
def test_bad_sheets_are_refused_with_a_reason(client, group_case, read, content, expected):
    response = import_sheet(client, read, group_case, content)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


def test_template_sheet_has_the_headings_the_import_reads(client, group_case):
    response = client.get("/collective/workers-template.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == list(collective.TEMPLATE_HEADINGS)
    with pytest.raises(collective.ImportProblems):
        collective.read_members_xlsx(response.data)  # no worker yet


def test_payment_schedule_per_worker_then_performance_per_worker(client, group_case, read):
    case_id = group_case["id"]
    client.post(group_case["url"] + "/members", data=members_form(read, case_id))
    page = client.get(group_case["url"]).get_data(as_text=True)
    assert "amount-1" in page and "due-3" in page
    response = client.post(group_case["url"] + "/schedule", data={
        "version": str(case_version(read, case_id)), "obligor": "r1", "what": "2025年10月至12月工资",
        "due_on": "2026-04-30", "amount-1": "9966", "amount-2": "9,000", "due-2": "2026-05-31", "amount-3": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    case = get_case(read, case_id)
    assert case.state == "agreement_drafted"
    terms = read(lambda s: [(o.seq, o.text, str(o.amount), o.due_on.isoformat(), o.member.name)
                            for o in get_case_obligations(s, case_id)])
    assert terms == [
        (1, "向刘某某支付2025年10月至12月工资", "9966.00", "2026-04-30", "刘某某"),
        (2, "向张某支付2025年10月至12月工资", "9000.00", "2026-05-31", "张某"),
        (3, "向王某支付2025年10月至12月工资", "10000.50", "2026-04-30", "王某"),  # the amount claimed
    ]
    assert act(client, case_id, "sign", case_version(read, case_id)).status_code == 302
    assert get_case(read, case_id).state == "performing"
    page = client.get(group_case["url"]).get_data(as_text=True)
    assert f"{group_case['url']}/performance/2" in page
    for seq in (2, 1):
        response = client.post(f"{group_case['url']}/performance/{seq}",
                               data={"version": str(case_version(read, case_id))})
        assert response.status_code == 302
    assert get_case(read, case_id).state == "performing"
    page = client.get(group_case["url"]).get_data(as_text=True)
    assert "已履行" in page and f"{group_case['url']}/performance/3" in page
    assert f"{group_case['url']}/performance/2" not in page
    client.post(f"{group_case['url']}/performance/3", data={"version": str(case_version(read, case_id))})
    assert get_case(read, case_id).state == "follow_up"
    # a worker named in a term cannot be taken off the list
    response = client.post(group_case["url"] + "/members", data=members_form(read, case_id, WORKERS[:2]))
    assert response.status_code in (302, 400)
    assert len(members(read, case_id)) == 3


def get_case_obligations(session, case_id):
    from mediation.models import Case

    return list(session.get(Case, case_id).current_agreement.obligations)


def test_schedule_errors_are_shown_beside_the_worker_and_nothing_is_drafted(client, group_case, read):
    case_id = group_case["id"]
    client.post(group_case["url"] + "/members", data=members_form(read, case_id))
    response = client.post(group_case["url"] + "/schedule", data={
        "version": str(case_version(read, case_id)), "obligor": "r1", "what": "工资", "due_on": "",
        "amount-2": "-5", "due-3": "2026-13-40",
    })
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="amount-2-error"' in page and 'id="due-3-error"' in page
    assert get_case(read, case_id).state == "tier2"


def test_liaison_sees_masked_ids_and_keeps_them_by_leaving_them_masked(client, group_case, read, login):
    case_id = group_case["id"]
    client.post(group_case["url"] + "/members", data=members_form(read, case_id))
    login(group_case["liaison"])
    page = client.get(group_case["url"]).get_data(as_text=True)
    assert id_number(1) not in page and "331121********" in page
    shown = {f"members-{i}-id_number": id_number(n)[:6] + "********" + id_number(n)[-4:]
             for i, (_name, n, _a) in enumerate(WORKERS)}
    data = members_form(read, case_id, **shown)
    data.update({f"members-{i}-was": str(i + 1) for i in range(3)})
    data["members-2-amount_claimed"] = "12000"
    response = client.post(group_case["url"] + "/members", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = members(read, case_id)
    assert [m.id_number for m in saved] == [id_number(1), id_number(2), id_number(3)]
    assert str(saved[2].amount_claimed) == "12000.00"


def test_another_enterprise_cannot_see_the_group(client, group_case, login, make_user, other_enterprise):
    login(make_user(Role.ENTERPRISE_LIAISON, enterprise=other_enterprise))
    assert client.get(group_case["url"]).status_code == 404
    assert client.get(f"/cases/{group_case['id']}/groups/r1").status_code == 404  # not a group anyway


def test_a_group_needs_two_workers(uow, group_case):
    from mediation import services
    from mediation.errors import ValidationError

    with uow, pytest.raises(ValidationError) as info:
        services.fire(uow, group_case["id"], "record_group_members", group_case["officer"].id,
                      {"party": "a1", "members": [{"name": "甲", "id_number": id_number(1)}]})
    assert "members" in info.value.errors
    with uow, pytest.raises(ValidationError) as info:
        services.fire(uow, group_case["id"], "record_group_members", group_case["officer"].id,
                      {"party": "r1", "members": []})
    assert "party" in info.value.errors
