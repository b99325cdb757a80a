"""The case page and its actions (issue 2, points 4–5): the journeys of each role."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

from pypdf import PdfReader

from mediation.enums import Role
from tests.web.conftest import act, case_version, count_events, get_case


def actions_on(page: str) -> set[str]:
    """The triggers the page offers a form for."""
    return set(re.findall(r'/actions/(\w+)#', page))


def test_liaison_officer_accepts_records_session_drafts_signs_and_downloads_agreement(
    client, make_user, enterprise, file_case, login, read
):
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    case_id = file_case(liaison)
    officer = make_user(Role.LIAISON_OFFICER, display_name="王警官")
    login(officer)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert actions_on(page) == {"accept", "decline"}  # withdraw and notes are for the tier lead, once accepted

    v = case_version(read, case_id)
    response = act(client, case_id, "accept", v, severity="general")
    assert response.status_code == 302
    case = get_case(read, case_id)
    assert case.state == "tier2" and case.tier == 2

    response = act(
        client, case_id, "record_session", case.version, mode="joint", participants=["a1", "r1"],
        participants_other="社区干部王某、物业经理", place="温溪警企驿站", minutes="双方同意分期支付", public="y",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "社区干部王某" in page and "物业经理" in page and "温溪警企驿站" in page

    v = case_version(read, case_id)
    response = act(
        client, case_id, "draft_agreement", v,
        **{
            "terms-0-obligor": "r1", "terms-0-obligee": "a1", "terms-0-text": "支付拖欠工资",
            "terms-0-amount": "49,830", "terms-0-due_on": "2026-04-30",
            "terms-1-obligor": "a1", "terms-1-obligee": "r1", "terms-1-text": "收款后不再就此事主张权利",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    case = get_case(read, case_id)
    assert case.state == "agreement_drafted"
    terms = case.current_agreement.obligations
    assert [t.text for t in terms] == ["支付拖欠工资", "收款后不再就此事主张权利"]
    assert [str(t.amount) if t.amount is not None else None for t in terms] == ["49830.00", None]

    response = act(client, case_id, "sign", case.version)
    assert response.status_code == 302
    assert get_case(read, case_id).state == "performing"

    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "履行中" in page and "待履行" in page
    link = re.search(rf'href="(/cases/{case_id}/documents/\d+\.pdf)"[^>]*>调解协议书', page).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "调解协议书" in unquote(disposition.split("filename*=UTF-8''")[1])
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    compact = re.sub(r"\s+", "", text)
    assert case.number in compact
    assert "刘某某等5名工人" in compact


def test_station_chief_signs_off_a_tier3_agreement(client, make_user, file_case, login, read):
    chief = make_user(Role.STATION_CHIEF, display_name="李所长")
    case_id = file_case(chief)
    assert act(client, case_id, "accept", case_version(read, case_id), severity="major").status_code == 302
    assert get_case(read, case_id).state == "tier3"
    act(
        client, case_id, "draft_agreement", case_version(read, case_id),
        **{"terms-0-obligor": "r1", "terms-0-obligee": "a1", "terms-0-text": "一次性支付工资",
           "terms-0-amount": "49830"},
    )
    assert act(client, case_id, "sign", case_version(read, case_id)).status_code == 302
    assert get_case(read, case_id).state == "awaiting_signoff"
    queue = client.get("/").get_data(as_text=True)
    signoff = queue.split("待我审签")[1].split("</section>")[0]
    assert f"/cases/{case_id}" in signoff
    assert "sign_off" in actions_on(client.get(f"/cases/{case_id}").get_data(as_text=True))
    assert act(client, case_id, "sign_off", case_version(read, case_id)).status_code == 302
    case = get_case(read, case_id)
    assert case.state == "performing"
    assert case.current_agreement.signed_off_at is not None


def test_forbidden_action_is_refused_with_403_and_changes_nothing(
    client, make_user, enterprise, file_case, login, read
):
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    case_id = file_case(liaison)
    events = count_events(read, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "accept" not in actions_on(page)
    response = act(client, case_id, "accept", case_version(read, case_id), severity="general")
    assert response.status_code == 403
    assert "无权" in response.get_data(as_text=True)
    auditor = make_user(Role.AUDITOR)
    login(auditor)
    assert actions_on(client.get(f"/cases/{case_id}").get_data(as_text=True)) == set()
    assert act(client, case_id, "add_note", case_version(read, case_id), note="x").status_code == 403
    assert count_events(read, case_id) == events
    assert get_case(read, case_id).state == "registered"


def test_stale_version_is_refused_with_409(client, make_user, file_case, read):
    chief = make_user(Role.STATION_CHIEF)
    case_id = file_case(chief)
    seen = case_version(read, case_id)
    assert act(client, case_id, "add_note", seen, note="先电话联系双方").status_code == 302
    events = count_events(read, case_id)
    response = act(client, case_id, "accept", seen, severity="general")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "其他人修改了此案件" in page
    assert f'name="version" value="{seen + 1}"' in page  # the page shows the case as it is now
    assert count_events(read, case_id) == events
    assert get_case(read, case_id).state == "registered"


def test_action_not_possible_in_this_state_answers_409(client, make_user, file_case, read):
    chief = make_user(Role.STATION_CHIEF)
    case_id = file_case(chief)
    response = act(client, case_id, "sign", case_version(read, case_id))
    assert response.status_code == 409
    assert "当前状态下不能进行此操作" in response.get_data(as_text=True)


def test_action_with_bad_data_shows_errors_beside_the_fields(client, make_user, file_case, read):
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer)
    v = case_version(read, case_id)
    response = act(client, case_id, "decline", v, reason="", referral="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<details class="action" id="action-decline" open>' in page
    assert re.search(r'id="act-decline-reason-error"[^>]*>此项为必填项', page)
    assert re.search(r'id="act-decline-referral-error"[^>]*>此项为必填项', page)
    assert "act-accept-severity-error" not in page  # only the failed form shows errors
    act(client, case_id, "accept", v, severity="general")
    response = act(
        client, case_id, "draft_agreement", case_version(read, case_id),
        **{"terms-0-obligor": "r1", "terms-0-obligee": "r1", "terms-0-text": "付款", "terms-0-amount": "abc"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="act-draft_agreement-terms-0-obligee-error"[^>]*>当事人不能对自己负有义务', page)
    assert re.search(r'id="act-draft_agreement-terms-0-amount-error"[^>]*>金额格式不正确', page)
    assert 'value="abc"' in page
    assert get_case(read, case_id).state == "tier2"


def test_missing_or_bad_version_is_a_400_not_a_crash(client, make_user, file_case, read):
    chief = make_user(Role.STATION_CHIEF)
    case_id = file_case(chief)
    assert client.post(f"/cases/{case_id}/actions/add_note", data={"note": "x"}).status_code == 400
    assert client.post(f"/cases/{case_id}/actions/add_note", data={"note": "x", "version": "abc"}).status_code == 400
    assert client.post(f"/cases/{case_id}/actions/no_such_trigger", data={"version": "2"}).status_code == 404
    assert client.get(f"/cases/{case_id}/actions/add_note").status_code == 405
    assert client.get("/cases/999999").status_code == 404
    assert client.get(f"/cases/{case_id}/documents/999.pdf").status_code == 404


def test_case_page_in_english_shows_english_labels(client, make_user, file_case, read):
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer)
    act(client, case_id, "accept", case_version(read, case_id), severity="general")
    client.get(f"/cases/{case_id}")  # shows (and so clears) the Chinese flashes of filing and accepting
    client.post("/locale", data={"locale": "en"})
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert '<html lang="en">' in page
    for english in ("Tier 2 – liaison officer", "Labour dispute mediation", "Unpaid wages", "Group of workers",
                    "Record session", "Escalate", "Timeline", "Registered", "15-day mediation period", "Day 0 of 15"):
        assert english in page, english
    for chinese in ("联企民警快处", "劳动争议调解<", "办理记录", "已登记"):
        assert chinese not in page, chinese  # (data keeps its language: the title, the statute a clock cites)


def test_auditor_sees_masked_particulars_and_the_officer_whole(client, make_user, file_case, login):
    """R36: ID numbers and phones are masked for roles that do not need them."""
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "510824196903150379" in page and "13912345678" in page
    login(make_user(Role.AUDITOR))
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "510824196903150379" not in page and "13912345678" not in page
    assert "510824********0379" in page and "139****5678" in page


def test_record_performance_and_breach_offer_the_open_terms(client, make_user, file_case, read):
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer)
    act(client, case_id, "accept", case_version(read, case_id), severity="general")
    act(
        client, case_id, "draft_agreement", case_version(read, case_id),
        **{"terms-0-obligor": "r1", "terms-0-obligee": "a1", "terms-0-text": "第一期", "terms-0-amount": "20000",
           "terms-1-obligor": "r1", "terms-1-obligee": "a1", "terms-1-text": "第二期", "terms-1-amount": "29830"},
    )
    act(client, case_id, "sign", case_version(read, case_id))
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert {"record_performance", "report_breach", "record_follow_up"} <= actions_on(page)
    assert act(client, case_id, "record_performance", case_version(read, case_id), term="1").status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    performance_form = page.split('id="action-record_performance"')[1].split("</details>")[0]
    assert '<option value="2">' in performance_form and '<option value="1">' not in performance_form
    assert act(client, case_id, "record_performance", case_version(read, case_id), term="2").status_code == 302
    assert get_case(read, case_id).state == "follow_up"


def test_lapsed_statutory_period_is_shown_and_offers_referral_to_arbitration(
    app, client, make_user, file_case, read, uow
):
    """R18 (Labour Dispute Mediation and Arbitration Law, Art. 14): no agreement within 15 days of
    acceptance → a party may apply for arbitration; the page says so and pre-selects the referral."""
    from datetime import timedelta

    from mediation.services import sweep, utcnow

    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer)
    act(client, case_id, "accept", case_version(read, case_id), severity="general")
    later = utcnow() + timedelta(days=40)
    with uow:
        sweep(uow, now=later)
    app.config["NOW"] = later
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "期限已届满" in page and "当事人可以依法申请仲裁" in page
    terminate = page.split('id="action-terminate"')[1].split("</details>")[0]
    assert '<option selected value="arbitration">' in terminate or 'value="arbitration" selected' in terminate
    queue = client.get("/").get_data(as_text=True)
    assert "已届满，第" in queue
    act(
        client, case_id, "draft_agreement", case_version(read, case_id),
        **{"terms-0-obligor": "r1", "terms-0-obligee": "a1", "terms-0-text": "支付工资", "terms-0-amount": "100"},
    )
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "当事人可以依法申请仲裁" not in page  # the lapse stays on the timeline, no longer a warning
    assert "期限届满" in page
    assert "已届满，第" not in client.get("/").get_data(as_text=True)


def test_work_injury_agreement_that_waives_certification_is_flagged_before_signing(
    client, make_user, file_case, read
):
    """R24: a work-injury agreement signed before certification, waiving it, can be set aside by a court."""
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer, category="work_injury")
    act(client, case_id, "accept", case_version(read, case_id), severity="general")
    act(
        client, case_id, "draft_agreement", case_version(read, case_id),
        **{"terms-0-obligor": "r1", "terms-0-obligee": "a1", "terms-0-amount": "30000",
           "terms-0-text": "一次性支付赔偿金30000元，申请人放弃申请工伤认定"},
    )
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "可能被人民法院撤销" in page
    sign_form = page.split("/actions/sign#")[1].split("</form>")[0]
    assert "可能被人民法院撤销" in sign_form
