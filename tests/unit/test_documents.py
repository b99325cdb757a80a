"""Documents (人民调解文书): HTML and A4 PDF per DOMAIN.md R26-R33, DESIGN.md §4."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from mediation import documents
from mediation.documents import (
    DOCUMENT_KINDS,
    DisallowedResource,
    UnknownDocumentKind,
    amount_in_capitals,
    content_digest,
    document_title,
    harfbuzz_subset_available,
    render_html,
    render_pdf,
    verification_code,
)

UTC = dt.UTC
ORGANISATION = {"name": "青田县公安局温溪派出所", "committee": "温溪派出所人民调解委员会", "short_name": "温溪"}


def c01_context() -> dict[str, Any]:
    """Shared case c01: unpaid wages of three villagers, a group applicant, paid the same day."""
    number = "（2025）温溪警调字第0001号"
    context: dict[str, Any] = {
        "organisation": ORGANISATION,
        "case": {
            "number": number,
            "title": "土地整理项目拖欠三位老人务工工资",
            "category_label": "劳动争议/劳务报酬纠纷",
            "workflow_label": "劳资纠纷调处",
            "facts": (
                "夏某某自2017年起在歧坪镇旭光村承包一个土地整理项目并雇当地村民干活；2020年项目园区亏损倒闭，"
                "欠下李某某等三位老人的务工工资9966元，几年来一直没给。2025年3月24日三人申请调解，"
                "坚持当天必须拿到钱，夏某某请求宽限被拒，双方当场争执起来。"
            ),
            "claims": "当日一次性付清拖欠的务工工资9966元",
            "amount_claimed": Decimal("9966.00"),
            "filed_at": dt.date(2025, 3, 24),
            "accepted_at": dt.date(2025, 3, 24),
            "closed_at": dt.date(2025, 3, 31),
            "mediator": "王调解",
            "recorder": "陈记录",
            "state_label": "调解成功",
            "source_label": "当事人申请",
            "filed_by": "陈记录",
        },
        "parties": [
            {
                "ref": "a1",
                "role": "applicant",
                "role_label": "申请人",
                "kind": "group",
                "name": "李某某等三名村民",
                "size": 3,
                "gender": None,
                "ethnicity": None,
                "age": None,
                "occupation": None,
                "phone": "13800000101",
                "id_number": None,
                "address": "四川省广元市苍溪县歧坪镇旭光村",
                "representative": "李某某",
            },
            {
                "ref": "r1",
                "role": "respondent",
                "role_label": "被申请人",
                "kind": "person",
                "name": "夏某某",
                "size": 1,
                "gender": "M",
                "ethnicity": "汉族",
                "age": 56,
                "occupation": "个体经营",
                "phone": "13800000102",
                "id_number": "510824196903150379",
                "address": "四川省广元市苍溪县东溪镇宋水社区",
                "representative": None,
            },
        ],
        "agreement": {
            "kind": "written",
            "number": number,
            "text": None,
            "terms": [
                {
                    "seq": 1,
                    "obligor": "夏某某",
                    "obligee": "李某某等三名村民",
                    "text": "夏某某当天一次性付清所欠李某某等三名村民的务工工资",
                    "amount": Decimal("9966.00"),
                    "due_date": dt.date(2025, 3, 24),
                },
            ],
            "copies": 3,
            "drafted_at": dt.date(2025, 3, 24),
            "signed_at": dt.date(2025, 3, 24),
            "verification_code": None,
        },
        "follow_up": {
            "at": dt.date(2025, 3, 31),
            "visitor": "王调解",
            "party_visited": "李某某",
            "note": "回访确认工资已全部到手，双方无新争议",
            "performance": "已于2025年3月24日全部履行",
        },
        "events": [
            {"at": dt.datetime(2025, 3, 24, 1, 30, tzinfo=UTC), "label": "受理", "actor": "陈记录", "note": None},
            {"at": dt.datetime(2025, 3, 24, 2, 0, tzinfo=UTC), "label": "面对面调解", "actor": "王调解", "note": None},
            {
                "at": dt.datetime(2025, 3, 24, 6, 0, tzinfo=UTC),
                "label": "签订协议",
                "actor": "王调解",
                "note": "当场履行",
            },
            {"at": dt.datetime(2025, 3, 31, 2, 0, tzinfo=UTC), "label": "回访", "actor": "王调解", "note": "无新争议"},
        ],
        "sessions": [
            {
                "at": dt.datetime(2025, 3, 24, 2, 0, tzinfo=UTC),
                "mode_label": "面对面调解",
                "participants": ["李某某等三名村民", "夏某某", "王调解"],
                "place": "温溪派出所调解室",
                "minutes": "双方情绪激动。调解员先稳住情绪，讲清“欠账要还、讨账也要讲理”的道理。",
            },
            {
                "at": dt.datetime(2025, 3, 24, 3, 0, tzinfo=UTC),
                "mode_label": "背靠背调解",
                "participants": ["夏某某", "王调解"],
                "place": None,
                "minutes": "夏某某同意当日筹款付清。",
            },
        ],
        "investigations": [],
        "documents": [],
    }
    context["agreement"]["verification_code"] = verification_code(content_digest(context))
    return context


def c26_context() -> dict[str, Any]:
    """Shared case c26: work injury at a valve factory, organisation respondent, two terms."""
    number = "（2026）温溪警调字第0026号"
    return {
        "organisation": ORGANISATION,
        "case": {
            "number": number,
            "title": "阀门厂冲压工手部受伤，等待工伤认定后恢复调解",
            "category": "work_injury",
            "category_label": "劳动争议/工伤赔偿纠纷",
            "workflow_label": "劳资纠纷调处",
            "facts": (
                "某阀门制造有限公司冲压工叶某操作冲床时左手被压伤住院，企业垫付了医疗费，"
                "家属要求一次性赔偿30万元并聚集在厂门口，企业报警。\n"
                "人社部门认定为工伤、劳动能力鉴定为九级后恢复调解。"
            ),
            "claims": "一次性赔偿30万元",
            "amount_claimed": Decimal("300000.00"),
            "filed_at": dt.date(2026, 1, 5),
            "accepted_at": dt.date(2026, 1, 5),
            "closed_at": dt.date(2026, 5, 15),
            "mediator": "周所长",
            "recorder": "吴记录",
            "state_label": "调解成功",
            "source_label": "公安机关移送",
            "filed_by": "吴记录",
            "retention_label": "长期",
        },
        "parties": [
            {
                "ref": "a1",
                "role": "applicant",
                "role_label": "申请人",
                "kind": "person",
                "name": "叶某",
                "size": 1,
                "gender": "M",
                "ethnicity": "汉族",
                "age": 37,
                "occupation": "冲压工",
                "phone": "13800002601",
                "id_number": "520324198807220553",
                "address": "贵州省遵义市正安县（村镇省略）",
                "representative": None,
            },
            {
                "ref": "r1",
                "role": "respondent",
                "role_label": "被申请人",
                "kind": "organisation",
                "name": "青田县温溪镇某阀门制造有限公司",
                "size": 1,
                "gender": None,
                "ethnicity": None,
                "age": None,
                "occupation": None,
                "phone": "13800002602",
                "id_number": None,
                "address": "浙江省丽水市青田县温溪镇",
                "representative": "郑某某",
            },
        ],
        "agreement": {
            "kind": "written",
            "number": number,
            "text": None,
            "terms": [
                {
                    "seq": 1,
                    "obligor": "青田县温溪镇某阀门制造有限公司",
                    "obligee": "叶某",
                    "text": "双方协商解除劳动关系，公司支付一次性伤残就业补助金及停工留薪期工资差额等",
                    "amount": Decimal("86000.00"),
                    "due_date": dt.date(2026, 4, 10),
                },
                {
                    "seq": 2,
                    "obligor": "青田县温溪镇某阀门制造有限公司",
                    "obligee": "叶某",
                    "text": "公司协助叶某向工伤保险经办机构申领一次性伤残补助金等基金支付待遇",
                    "amount": None,
                    "due_date": dt.date(2026, 5, 5),
                },
            ],
            "copies": 3,
            "drafted_at": dt.date(2026, 3, 31),
            "signed_at": dt.date(2026, 3, 31),
            "effective_at": dt.date(2026, 3, 31),
            "verification_code": "3F2A-9C41-0B7E-D5A8",
        },
        "follow_up": {
            "at": dt.date(2026, 5, 15),
            "visitor": "周所长",
            "party_visited": "叶某",
            "note": "回访确认企业款项和基金待遇均已到位，叶某已返乡",
            "performance": "两项均已履行完毕",
        },
        "events": [
            {"at": dt.datetime(2026, 1, 5, 1, 0, tzinfo=UTC), "label": "受理", "actor": "吴记录", "note": "重大矛盾"},
            {
                "at": dt.datetime(2026, 1, 8, 2, 0, tzinfo=UTC),
                "label": "中止调解",
                "actor": "周所长",
                "note": "等待工伤认定及劳动能力鉴定结论",
            },
            {"at": dt.datetime(2026, 3, 24, 2, 0, tzinfo=UTC), "label": "恢复调解", "actor": "周所长", "note": None},
            {"at": dt.datetime(2026, 3, 31, 6, 0, tzinfo=UTC), "label": "签订协议", "actor": "周所长", "note": None},
        ],
        "sessions": [
            {
                "at": dt.datetime(2026, 3, 31, 1, 30, tzinfo=UTC),
                "mode_label": "面对面调解",
                "participants": ["叶某", "郑某某", "周所长", "镇综治中心", "司法所调解员"],
                "place": "温溪派出所调解室",
                "minutes": "按工伤保险待遇标准核算后双方达成一致。",
            },
        ],
        "investigations": [
            {
                "at": dt.datetime(2026, 3, 26, 2, 0, tzinfo=UTC),
                "note": (
                    "按工伤保险条例核算：一次性伤残补助金由工伤保险基金支付，"
                    "企业承担一次性伤残就业补助金及停工留薪期待遇差额"
                ),
                "investigator": "周所长",
            },
        ],
        "documents": [],
    }


def all_kinds_context() -> dict[str, Any]:
    """c26 with what the later documents need: a termination, a judicial-confirmation application, a breach."""
    context = c26_context()
    context["termination"] = {
        "at": dt.date(2026, 1, 20),
        "reason": "双方对赔偿数额分歧较大，企业拒绝继续调解",
        "referral": "arbitration",
    }
    context["judicial"] = {"applied_at": dt.date(2026, 4, 2), "court": None}
    context["breach"] = {
        "reported_at": dt.date(2026, 4, 12),
        "note": "公司称资金紧张，未按期支付",
        "term": dict(context["agreement"]["terms"][0]),
    }
    return context


def dossier_context(base: dict[str, Any]) -> dict[str, Any]:
    """A dossier listing the case's documents in R33 order."""
    context = copy.deepcopy(base)
    context["documents"] = [
        {"kind": kind, "title": document_title(kind), "context": copy.deepcopy(base)}
        for kind in ("acceptance_register", "investigation_record", "session_record", "agreement", "follow_up")
    ]
    return context


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF, pages joined, with the line breaks pypdf puts in."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def squash(text: str) -> str:
    """Text without whitespace, so a phrase broken across lines or cells still matches."""
    return re.sub(r"\s+", "", text)


def _dict(obj: Any) -> DictionaryObject:
    """Resolve a PDF object that must be a dictionary."""
    resolved = obj.get_object() if isinstance(obj, IndirectObject) else obj
    assert isinstance(resolved, DictionaryObject), type(resolved)
    return resolved


def font_descriptors(pdf: bytes) -> Iterator[DictionaryObject]:
    """Every font descriptor reachable from the pages' font resources (descendant fonts included)."""
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = _dict(page["/Resources"]).get("/Font")
        if fonts is None:
            continue
        for ref in _dict(fonts).values():
            font = _dict(ref)
            for f in [font, *(_dict(d) for d in font.get("/DescendantFonts", []))]:
                if "/FontDescriptor" in f:
                    yield _dict(f["/FontDescriptor"])


@pytest.fixture(scope="module")
def c01_pdf() -> bytes:
    return render_pdf("agreement", c01_context())


# ---------------------------------------------------------------- titles and kinds


def test_every_kind_has_a_chinese_and_english_title() -> None:
    """R26-R33: each MOJ document kind has its Chinese title; non-zh locales get English."""
    assert document_title("agreement") == "调解协议书"
    assert document_title("oral_agreement") == "口头协议登记表"
    assert document_title("follow_up") == "回访记录"
    assert document_title("dossier") == "卷宗"
    assert document_title("agreement", "en") == "Mediation agreement"
    for kind in DOCUMENT_KINDS:
        assert document_title(kind) and document_title(kind, "en")


@pytest.mark.parametrize(
    "call",
    [document_title, lambda kind: render_html(kind, c01_context()), lambda kind: render_pdf(kind, c01_context())],
)
def test_unknown_kind_raises_value_error(call: Any) -> None:
    """An unknown document kind raises UnknownDocumentKind, a ValueError."""
    with pytest.raises(UnknownDocumentKind) as info:
        call("summons")
    assert isinstance(info.value, ValueError)


def test_dossier_cannot_list_a_dossier() -> None:
    """R33: a dossier holds the case's documents, not another dossier."""
    context = c01_context()
    context["documents"] = [{"kind": "dossier", "title": "卷宗", "context": c01_context()}]
    with pytest.raises(UnknownDocumentKind):
        render_html("dossier", context)


# ---------------------------------------------------------------- digest and code


def test_digest_is_stable_canonical_json_and_ignores_the_printed_code() -> None:
    """The verification code is a digest of the content (DESIGN §4), independent of key order and of the code itself."""
    context = c01_context()
    digest = content_digest(context)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    reordered = dict(reversed(list(context.items())))
    assert content_digest(reordered) == digest
    context["agreement"]["verification_code"] = "0000-0000-0000-0000"
    assert content_digest(context) == digest
    context["agreement"]["terms"][0]["amount"] = Decimal("9967.00")
    assert content_digest(context) != digest


def test_digest_serialises_decimal_and_dates_as_text() -> None:
    """Decimal as str, date/datetime as ISO 8601 (ensure_ascii off, keys sorted)."""
    import hashlib

    expected = '{"a":"9966.00","b":"2026-03-02","c":"2026-03-02T08:00:00+00:00","名":"夏某某"}'
    context = {
        "名": "夏某某",
        "c": dt.datetime(2026, 3, 2, 8, tzinfo=UTC),
        "b": dt.date(2026, 3, 2),
        "a": Decimal("9966.00"),
    }
    assert content_digest(context) == hashlib.sha256(expected.encode()).hexdigest()
    with pytest.raises(TypeError):
        content_digest({"x": object()})


def test_verification_code_groups_sixteen_hex_chars() -> None:
    """The printed code is the digest's first 16 hex characters, upper case, 4-4-4-4."""
    assert verification_code("0123456789abcdef" + "0" * 48) == "0123-4567-89AB-CDEF"
    with pytest.raises(ValueError):
        verification_code("xyz")


# ---------------------------------------------------------------- money in capitals


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        (Decimal("9966"), "玖仟玖佰陆拾陆元整"),
        (Decimal("9966.00"), "玖仟玖佰陆拾陆元整"),
        (Decimal("86000.00"), "捌万陆仟元整"),
        (Decimal("300000"), "叁拾万元整"),
        (Decimal("100010"), "壹拾万零壹拾元整"),
        (Decimal("1005"), "壹仟零伍元整"),
        (Decimal("1010.50"), "壹仟零壹拾元伍角"),
        (Decimal("1000.06"), "壹仟元零陆分"),
        (Decimal("20000000.01"), "贰仟万元零壹分"),
        (Decimal("0.05"), "伍分"),
        (Decimal("12.345"), "壹拾贰元叁角伍分"),  # rounded half-up to the fen first
        (10, "壹拾元整"),
    ],
)
def test_amount_in_capitals_follows_the_bill_writing_rules(amount: Decimal | int, capitals: str) -> None:
    """R30 amounts in figures and 大写 (PBoC 支付结算办法 附件一 正确填写票据和结算凭证的基本规定)."""
    assert amount_in_capitals(amount) == capitals


def test_negative_amount_has_no_capitals() -> None:
    """An agreement never promises a negative sum."""
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("-1"))


# ---------------------------------------------------------------- HTML


def test_html_is_chinese_a4_and_self_contained() -> None:
    """R30 HTML: lang zh-CN, A4 @page, CJK serif font, the CSS inline (nothing fetched)."""
    html = render_html("agreement", c01_context())
    assert '<html lang="zh-CN">' in html
    assert "size: A4" in html
    assert f"font-family: {documents.FONT_FAMILY};" in html  # the measured choice is the one in print.css
    assert "<link" not in html


def test_none_fields_render_as_blanks_never_none() -> None:
    """Any field may be None: it prints as a blank line for hand-filling, never as 'None'."""
    context = c01_context()
    for party in context["parties"]:
        for key in party:
            if key not in ("ref", "role", "kind"):
                party[key] = None
    for key in context["case"]:
        context["case"][key] = None
    context["agreement"].update(signed_at=None, copies=None, verification_code=None, number=None)
    context["agreement"]["terms"][0].update(amount=None, due_date=None, obligor=None)
    context["follow_up"] = None
    context["events"] = None
    context["sessions"] = [{"at": None, "mode_label": None, "participants": None, "place": None, "minutes": None}]
    for kind in DOCUMENT_KINDS:
        html = render_html(kind, {**context, "documents": [{"kind": "agreement", "title": None, "context": context}]})
        assert "None" not in html, kind
        assert 'class="blank' in html, kind
    assert "None" not in pdf_text(render_pdf("agreement", context))


# ---------------------------------------------------------------- PDF content


def test_agreement_pdf_carries_the_r30_content(c01_pdf: bytes) -> None:
    """R30 (MOJ 人民调解文书格式 2010): number, parties, facts, terms, 大写 amount, copies, signatures, seal, date."""
    text = squash(pdf_text(c01_pdf))
    for phrase in (
        "（2025）温溪警调字第0001号",
        "调解协议书",
        "李某某等三名村民",
        "夏某某",
        "510824196903150379",
        "纠纷主要事实、争议事项",
        "经调解，自愿达成如下协议：",
        "夏某某当天一次性付清所欠李某某等三名村民的务工工资",
        "履行方式、时限",
        "人民币9,966.00元（大写：玖仟玖佰陆拾陆元整）",
        "2025年3月24日前履行完毕",
        "本协议一式3份，当事人各执一份，调解委员会留存一份。",
        "人民调解员（签名）",
        "记录人（签名）",
        "推选代表人",
        "温溪派出所人民调解委员会（盖章）",
        "2025年3月24日",
        "第1页",
    ):
        assert phrase in text, phrase
    code = c01_context()["agreement"]["verification_code"]
    assert f"校验码{code}" in text


def test_long_numbers_wrap_inside_their_cells() -> None:
    """Long ID / bank account numbers break inside the table cell (overflow-wrap: anywhere) instead of overflowing."""
    context = c01_context()
    account = "6222" + "0123456789" * 9  # wider than the page
    context["parties"][1]["id_number"] = account
    context["parties"][1]["address"] = "开户行账号" + account
    lines = pdf_text(render_pdf("agreement", context)).splitlines()
    assert account in squash("\n".join(lines))
    assert not [line for line in lines if account in line], "a long number ran past its cell"


def test_no_line_starts_with_closing_punctuation() -> None:
    """行首禁则 (GB/T 15834 usage): Pango's UAX #14 line breaking keeps ，。、；：）” off the start of a line."""
    closing = "，。、；：）”！？"
    context = c01_context()
    context["case"]["facts"] = "".join("字" * (1 + i % 9) + closing[i % len(closing)] for i in range(300))
    lines = [line for line in pdf_text(render_pdf("agreement", context)).splitlines() if line]
    assert len(lines) > 40
    assert not [line for line in lines if line[0] in closing]


def test_agreement_is_a4(c01_pdf: bytes) -> None:
    """A4 portrait: 595 x 842 pt."""
    box = PdfReader(io.BytesIO(c01_pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_two_term_agreement_lists_every_term_and_party_signature() -> None:
    """R30 / R10: every term numbered, every party's signature line (an organisation via its legal representative)."""
    text = squash(pdf_text(render_pdf("agreement", c26_context())))
    for phrase in (
        "一、双方协商解除劳动关系",
        "二、公司协助叶某向工伤保险经办机构申领",
        "人民币86,000.00元（大写：捌万陆仟元整）",
        "2026年5月5日前履行完毕",
        "申请人：叶某",
        "被申请人：青田县温溪镇某阀门制造有限公司",
        "法定代表人郑某某",
        "法定代表人签名并盖章",
    ):
        assert phrase in text, phrase
    assert f"校验码{verification_code(content_digest(c26_context()))}" in text


def test_oral_agreement_register_fits_one_page() -> None:
    """R31 口头协议登记表: the agreement's content on a single page."""
    context = c01_context()
    context["agreement"].update(kind="oral", text="夏某某当日付清工资9966元，李某某等三人不再追究。")
    pdf = render_pdf("oral_agreement", context)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = squash(pdf_text(pdf))
    for phrase in (
        "口头协议登记表",
        "（2025）温溪警调字第0001号",
        "李某某等三名村民",
        "夏某某",
        "夏某某当日付清工资9966元",
        "玖仟玖佰陆拾陆元整",
    ):
        assert phrase in text, phrase


def test_follow_up_record_names_the_visit() -> None:
    """R32 回访记录: party visited, agreement number, the dispute, performance, visitor's signature, date."""
    text = squash(pdf_text(render_pdf("follow_up", c01_context())))
    for phrase in (
        "回访记录",
        "李某某",
        "（2025）温溪警调字第0001号",
        "土地整理项目拖欠三位老人务工工资",
        "已于2025年3月24日全部履行",
        "回访确认工资已全部到手",
        "回访人（签名）",
        "2025年3月31日",
    ):
        assert phrase in text, phrase


@pytest.mark.parametrize(
    ("kind", "phrases"),
    [
        ("application", ["调解申请书", "申请事项", "自愿申请人民调解", "叶某"]),
        ("acceptance_register", ["受理登记表", "公安机关移送", "劳动争议/工伤赔偿纠纷", "叶某"]),
        ("investigation_record", ["调查记录", "被调查人（签名）", "按工伤保险条例核算", "2026年3月26日10时00分"]),
        ("session_record", ["调解记录", "面对面调解", "叶某、郑某某、周所长", "2026年3月31日9时30分"]),
    ],
)
def test_procedural_records_carry_their_fields(kind: str, phrases: list[str]) -> None:
    """R26 申请书, R27 受理登记表, R28 调查记录, R29 调解记录 (times shown in Asia/Shanghai)."""
    text = squash(pdf_text(render_pdf(kind, c26_context())))
    for phrase in [*phrases, "（2026）温溪警调字第0026号"]:
        assert phrase in text, (kind, phrase)


def test_dossier_has_cover_contents_with_page_numbers_and_every_document() -> None:
    """R33 卷宗: cover (name, number, mediator, dates, retention), contents with page numbers, documents in order."""
    context = dossier_context(c26_context())
    reader = PdfReader(io.BytesIO(render_pdf("dossier", context)))
    raw_pages = [page.extract_text() for page in reader.pages]
    pages = [squash(text) for text in raw_pages]
    cover, contents = pages[0], raw_pages[1]
    for phrase in (
        "卷宗",
        "阀门厂冲压工手部受伤",
        "（2026）温溪警调字第0026号",
        "周所长",
        "2026年1月5日",
        "2026年5月15日",
        "保管期限长期",
        "立卷人吴记录",
    ):
        assert phrase in cover, phrase
    assert "卷内目录" in contents
    titles = [doc["title"] for doc in context["documents"]] + ["结案说明", "备考表"]
    # One contents line per document: "seq title [date] page"; that page starts the document.
    listed = {
        m["title"]: int(m["page"])
        for m in re.finditer(
            r"^(?P<seq>\d+) (?P<title>\S+)(?: \d{4}年\d{1,2}月\d{1,2}日)? (?P<page>\d+)$", contents, re.MULTILINE
        )
    }
    assert list(listed) == titles
    for title, page in listed.items():
        assert 3 <= page <= len(pages), (title, page)
        assert title in pages[page - 1], (title, page)
    starts = list(listed.values())
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert "人民币86,000.00元（大写：捌万陆仟元整）" in "".join(pages)
    assert f"第{len(pages)}页" in pages[-1]


# ---------------------------------------------------------------- fonts and speed


def test_cjk_font_is_embedded_as_a_subset(c01_pdf: bytes) -> None:
    """DESIGN §4: the CJK font travels inside the PDF, subset (name prefixed ABCDEF+)."""
    descriptors = list(font_descriptors(c01_pdf))
    embedded = [d for d in descriptors if "/FontFile2" in d or "/FontFile3" in d]
    assert embedded, "no embedded font program"
    names = [str(d["/FontName"]) for d in embedded]
    assert any("UMing" in n for n in names), names
    assert all(re.match(r"/[A-Z]{6}\+", n) for n in names), names
    assert len(c01_pdf) < 150_000


def test_harfbuzz_subset_fast_path_is_taken() -> None:
    """DESIGN §4: without libharfbuzz-subset0 WeasyPrint falls back to fontTools (6-9 s a document)."""
    assert harfbuzz_subset_available(), "install Debian's libharfbuzz-subset0 (HarfBuzz >= 4.1)"


def test_render_does_not_fall_back_to_fonttools(caplog: pytest.LogCaptureFixture) -> None:
    """No 'Using fontTools instead of HarfBuzz-Subset' warning from WeasyPrint during a render."""
    with caplog.at_level("WARNING", logger="weasyprint"):
        render_pdf("follow_up", c01_context())
    assert not [r for r in caplog.records if "fontTools" in r.getMessage()]


def test_missing_harfbuzz_subset_is_detected(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The check sees what WeasyPrint sees: without the library it says False and WeasyPrint logs the fallback."""
    from weasyprint.pdf import fonts as weasy_pdf_fonts

    monkeypatch.setattr(weasy_pdf_fonts, "harfbuzz_subset", None)
    assert not harfbuzz_subset_available()
    with caplog.at_level("WARNING", logger="weasyprint"):
        render_pdf("follow_up", c01_context())  # UMing (TrueType) falls back in ~0.5 s; Noto would take ~5 s
    assert [r for r in caplog.records if "fontTools" in r.getMessage()]


# ---------------------------------------------------------------- injection and fetching


INJECTIONS = ("<link rel=attachment href=file:///etc/passwd>", "<img src=http://example.com/x.png>")


def test_user_markup_prints_as_text_and_embeds_nothing() -> None:
    """Autoescaping: markup in a party's name and the facts is printed literally; no attachment, no image."""
    context = c01_context()
    context["parties"][1]["name"] = INJECTIONS[0]
    context["case"]["facts"] = INJECTIONS[1]
    context["agreement"]["terms"][0]["text"] = "<script>alert(1)</script>"
    html = render_html("agreement", context)
    assert INJECTIONS[0] not in html and "&lt;link rel=attachment" in html
    pdf = render_pdf("agreement", context)
    text = squash(pdf_text(pdf))
    for literal in (*INJECTIONS, "<script>alert(1)</script>"):
        assert squash(literal) in text, literal
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert "/EmbeddedFiles" not in str(_dict(reader.trailer["/Root"]).get("/Names", {}))
    for page in reader.pages:
        assert not _dict(page["/Resources"]).get("/XObject"), "an image was embedded"
        for annot in page.get("/Annots") or []:
            assert _dict(annot).get("/Subtype") != "/FileAttachment"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/x.png",
        "https://example.com/x.css",
        "data:text/plain,hello",
        (documents.ASSET_DIR / ".." / ".." / "setup.cfg").as_uri(),
        (documents.ASSET_DIR.parent.parent / "setup.cfg").as_uri(),
        documents.ASSET_DIR.as_uri() + "/../../setup.cfg",
        "file://evil.example.com" + str(documents.ASSET_DIR / "print.css"),
    ],
)
def test_url_fetcher_refuses_everything_outside_the_templates(url: str) -> None:
    """A restrictive url_fetcher (Indico practice, STYLE.md): no network, no file outside templates/documents/."""
    with pytest.raises(DisallowedResource):
        documents._FETCHER.fetch(url)


def test_url_fetcher_serves_the_templates_own_assets() -> None:
    """The documents' own assets (templates/documents/*) may be loaded."""
    response = documents._FETCHER.fetch((documents.ASSET_DIR / "print.css").as_uri())
    assert b"@page" in response.read()


def test_a_template_reaching_outside_stops_the_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL the fetcher refuses stops the render with DisallowedResource instead of being skipped."""
    html = render_html("follow_up", c01_context()).replace("</body>", '<img src="file:///etc/passwd"></body>')
    with pytest.raises(DisallowedResource):
        documents._html_to_pdf(html)


def _every_string(value: Any, replace: Any) -> Any:
    """``value`` with every text field (not refs, roles, kinds, codes) replaced by ``replace(key, text)``."""
    keep = {"ref", "role", "kind", "gender", "referral", "verification_code", "category"}
    if isinstance(value, dict):
        return {k: (v if k in keep else _every_string(v, replace) if not isinstance(v, str) else replace(k, v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [replace("", v) if isinstance(v, str) else _every_string(v, replace) for v in value]
    return value


def kind_context(kind: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A context for ``kind`` from ``base`` (default all_kinds_context); a dossier lists every kind in R33 order."""
    context = copy.deepcopy(base or all_kinds_context())
    if kind == "oral_agreement":
        context["agreement"]["kind"] = "oral"
    if kind == "dossier":
        context["documents"] = [
            {"kind": k, "title": document_title(k), "context": copy.deepcopy(context)}
            for k in documents.DOSSIER_ORDER
            if k != "oral_agreement"
        ]
    return context


def _stream_text(obj: Any) -> str:
    """The decoded data of a PDF stream object, as Latin-1 text."""
    stream = obj.get_object()
    assert isinstance(stream, StreamObject), type(stream)
    return stream.get_data().decode("latin-1")


def _array(obj: Any) -> ArrayObject:
    resolved = obj.get_object()
    assert isinstance(resolved, ArrayObject), type(resolved)
    return resolved


def _font_programs(pdf: bytes) -> Iterator[tuple[DictionaryObject, dict[str, int]]]:
    """Each embedded Type0 font's descriptor and its ToUnicode map (character -> CID)."""
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in _dict(_dict(page["/Resources"]).get("/Font", DictionaryObject())).values():
            font = _dict(ref)
            if "/ToUnicode" not in font or "/DescendantFonts" not in font:
                continue
            cmap = _stream_text(font["/ToUnicode"])
            chars: dict[str, int] = {}
            for cid, hexchars in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", cmap):
                try:
                    chars[bytes.fromhex(hexchars).decode("utf-16-be")] = int(cid, 16)
                except (UnicodeDecodeError, ValueError):
                    continue
            descendant = _dict(_array(font["/DescendantFonts"])[0])
            yield _dict(descendant["/FontDescriptor"]), chars


def glyph_of(pdf: bytes, char: str) -> tuple[str, bool]:
    """(font name, drawn) for ``char``: drawn is False for .notdef, a glyph id the font lacks, or an empty outline."""
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    for descriptor, chars in _font_programs(pdf):
        if char not in chars:
            continue
        cid = chars[char]  # WeasyPrint subsets with retained glyph ids: CID = glyph id
        program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        assert program is not None, "font not embedded"
        font = TTFont(io.BytesIO(program.get_object().get_data()))
        if cid == 0 or cid >= font["maxp"].numGlyphs:
            return str(descriptor["/FontName"]), False
        glyphs = font.getGlyphSet()
        pen = BoundsPen(glyphs)
        glyphs[font.getGlyphName(cid)].draw(pen)
        return str(descriptor["/FontName"]), pen.bounds is not None
    raise AssertionError(f"{char!r} is in no font's ToUnicode map")


# ---------------------------------------------------------------- issue 5: the full set


def test_the_full_set_of_moj_documents_has_its_titles() -> None:
    """R26-R33, R12, R20: every document of the set has its Chinese title."""
    assert {document_title(k) for k in DOCUMENT_KINDS} >= {
        "调解申请书", "受理登记表", "当事人权利义务告知书", "调查记录", "调解记录", "调解协议书",
        "口头协议登记表", "回访记录", "终止调解告知书", "司法确认申请书", "申请支付令告知书", "卷宗",
    }


def test_dossier_order_is_r33_and_covers_every_kind() -> None:
    """R33 卷宗: application/register, rights notice, investigations, sessions, agreement, performance,
    follow-ups, judicial confirmation, then the termination notice before the closing note."""
    assert set(documents.DOSSIER_ORDER) == set(DOCUMENT_KINDS) - {"dossier"}
    order = [documents.dossier_rank(k) for k in (
        "application", "acceptance_register", "rights_notice", "investigation_record", "session_record",
        "agreement", "payment_order_note", "follow_up", "judicial_confirmation_application", "termination_notice",
    )]
    assert order == sorted(order)
    assert documents.dossier_rank("summons") == len(documents.DOSSIER_ORDER)


@pytest.mark.parametrize(
    ("kind", "phrases"),
    [
        ("rights_notice", [
            "当事人权利义务告知书", "申请人叶某、被申请人青田县温溪镇某阀门制造有限公司：",
            "第二十三条、第二十四条", "（一）选择或者接受人民调解员；", "（二）接受调解、拒绝调解或者要求终止调解；",
            "（三）要求调解公开进行或者不公开进行；", "（四）自主表达意愿、自愿达成调解协议。",
            "（一）如实陈述纠纷事实；", "（三）尊重对方当事人行使权利。", "三十日内共同向人民法院申请司法确认",
            "十五日内未达成调解协议的，当事人可以依法申请仲裁", "申请人：叶某", "法定代表人签名并盖章",
            "人民调解员（签名）", "温溪派出所人民调解委员会（盖章）", "2026年1月5日",
        ]),
        ("termination_notice", [
            "终止调解告知书", "本委员会于2026年1月5日受理", "由人民调解员周所长主持调解",
            "因双方对赔偿数额分歧较大，企业拒绝继续调解，调解未能达成协议", "第二十六条",
            "决定于2026年1月20日终止调解", "劳动人事争议仲裁委员会申请仲裁", "时效期间为一年", "送达回执",
            "签收（签名、盖章或按指印）", "温溪派出所人民调解委员会（盖章）",
        ]),
        ("judicial_confirmation_application", [
            "司法确认申请书", "调解协议编号：（2026）温溪警调字第0026号", "请求事项：",
            "请求人民法院确认申请人叶某、青田县温溪镇某阀门制造有限公司于2026年3月31日经温溪派出所人民调解委员会"
            "主持调解达成的调解协议有效。",
            "一、双方协商解除劳动关系", "人民币86,000.00元（大写：捌万陆仟元整）", "没有恶意串通、规避法律的行为",
            "第三十三条", "第二百零五条", "三十日内共同申请司法确认", "此致", "人民法院（调解组织所在地基层人民法院）",
            "校验码3F2A-9C41-0B7E-D5A8", "申请人：叶某", "申请人：青田县温溪镇某阀门制造有限公司", "2026年4月2日",
        ]),
        ("payment_order_note", [
            "申请支付令告知书", "叶某：", "协议第一项约定", "人民币86,000.00元（大写：捌万陆仟元整）",
            "于2026年4月10日前履行完毕", "截至2026年4月12日，青田县温溪镇某阀门制造有限公司未按调解协议约定的期限履行",
            "公司称资金紧张，未按期支付", "第十六条", "申请支付令", "劳动人事争议仲裁委员会申请仲裁",
            "被告知人（签收）", "告知人（人民调解员）", "温溪派出所人民调解委员会（盖章）",
        ]),
    ],
)
def test_later_documents_carry_their_fields(kind: str, phrases: list[str]) -> None:
    """Rights notice (人民调解法 arts. 23-24), termination notice (R7, art. 26; R18, R21), judicial-confirmation
    application (R12: 人民调解法 art. 33, 民事诉讼法 art. 205), payment-order note (R20: 劳动争议调解仲裁法 art. 16)."""
    text = squash(pdf_text(render_pdf(kind, kind_context(kind))))
    for phrase in [*phrases, "（2026）温溪警调字第0026号"]:
        assert squash(phrase) in text, (kind, phrase)


@pytest.mark.parametrize(
    ("referral", "category", "phrase"),
    [
        ("arbitration", "work_injury", "可以依法向劳动人事争议仲裁委员会申请仲裁"),
        ("arbitration", "neighbour_other", "可以依照仲裁协议向约定的仲裁机构申请仲裁"),
        ("litigation", "neighbour_lift", "可以依法向人民法院提起诉讼"),
        ("payment_order", "wages", "持调解协议书依法向人民法院申请支付令"),
        ("administrative", "property_service", "可以依法向有关行政机关申请处理"),
        ("other", "other", "可以依法通过仲裁、行政、司法等途径解决纠纷"),
    ],
)
def test_termination_notice_tells_the_recorded_channel(referral: str, category: str, phrase: str) -> None:
    """R7 (人民调解法 art. 26): failed mediation is ended and the parties are told of the other channel."""
    context = kind_context("termination_notice")
    context["termination"]["referral"] = referral
    context["case"]["category"] = category
    text = squash(pdf_text(render_pdf("termination_notice", context)))
    assert phrase in text
    assert ("劳动人事争议仲裁委员会" in text) is (referral == "arbitration" and category == "work_injury")


def test_copies_and_a_signature_line_for_every_party_and_the_group_representative() -> None:
    """R10, R30 (人民调解法 art. 29): one copy per party plus one; every party signs, a group through its
    elected representative (R15), an organisation through its legal representative; mediator, recorder, seal."""
    context = c01_context()
    context["parties"].append({
        **context["parties"][1], "ref": "t1", "role": "third_party", "role_label": None,
        "name": "歧坪镇旭光村村民委员会", "kind": "organisation", "representative": "村主任张某",
    })
    context["agreement"]["copies"] = len(context["parties"]) + 1
    text = squash(pdf_text(render_pdf("agreement", context)))
    for phrase in ("本协议一式4份", "申请人：李某某等三名村民", "推选代表人李某某（签名或按指印）", "被申请人：夏某某",
                   "第三人：歧坪镇旭光村村民委员会", "法定代表人签名并盖章", "人民调解员（签名）", "记录人（签名）",
                   "温溪派出所人民调解委员会（盖章）"):
        assert phrase in text, phrase


@pytest.mark.parametrize("kind", ["agreement", "oral_agreement", "judicial_confirmation_application",
                                  "payment_order_note", "application", "acceptance_register"])
def test_amounts_print_in_figures_and_capitals(kind: str) -> None:
    """R30: every sum in figures and in capital numerals (大写), the yuan with two places."""
    text = squash(pdf_text(render_pdf(kind, kind_context(kind))))
    expected = "人民币300,000.00元（大写：叁拾万元整）" if kind in ("application", "acceptance_register") else (
        "人民币86,000.00元（大写：捌万陆仟元整）")
    assert expected in text


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_dates_are_written_the_chinese_way(kind: str) -> None:
    """Dates print as 2026年1月5日 (no zero padding, no ISO form), times in Asia/Shanghai."""
    text = squash(pdf_text(render_pdf(kind, kind_context(kind))))
    assert re.search(r"20\d\d年\d{1,2}月\d{1,2}日", text), kind
    assert not re.search(r"20\d\d-\d\d-\d\d", text), kind
    assert not re.search(r"年0\d月|月0\d日", text), kind


CLOSING = "，。、；：）」』”！？"
FIXED_WORDING = frozenset({
    "number", "name", "short_name", "committee", "phone", "id_number", "at", "label", "mode_label", "kind_label",
    "title", "obligor", "obligee", "role_label", "category_label", "source_label", "state_label", "workflow_label",
    "mediator", "recorder", "filed_by", "visitor", "investigator", "actor", "representative", "ethnicity",
    "occupation", "retention_label", "court",
})


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_no_line_of_any_document_starts_with_closing_punctuation(kind: str) -> None:
    """行首禁则 (GB/T 15834 usage): ，。、；：）」 never start a line, in running text or in a table cell."""
    def punctuate(key: str, text: str) -> str:
        if key in FIXED_WORDING:  # names, numbers and labels: no sentence punctuation in them
            return text
        return "".join("字" * (1 + i % 7) + CLOSING[i % len(CLOSING)] for i in range(60))

    context = kind_context(kind, _every_string(all_kinds_context(), punctuate))
    lines = [line.strip() for line in pdf_text(render_pdf(kind, context)).splitlines() if line.strip()]
    assert len(lines) > 20
    assert not [line for line in lines if line[0] in CLOSING], kind


@pytest.mark.parametrize("kind", ["agreement", "oral_agreement", "application", "judicial_confirmation_application"])
def test_long_numbers_wrap_inside_their_cells_on_every_party_form(kind: str) -> None:
    """An ID or bank account number longer than its cell wraps inside it instead of running off the page."""
    context = kind_context(kind)
    account = "6222" + "0123456789" * 9
    context["parties"][0]["id_number"] = account
    pdf = render_pdf(kind, context)
    lines = pdf_text(pdf).splitlines()
    assert account in squash("\n".join(lines))
    assert not [line for line in lines if account in line]


def test_a_long_table_repeats_its_header_on_every_page() -> None:
    """The closing note's list of events runs over pages; each page repeats the column headings (<thead>)."""
    context = kind_context("dossier")
    event = {"at": dt.datetime(2026, 1, 5, 1, 0, tzinfo=UTC), "label": "记录调解会", "actor": "周所长",
             "note": "双方陈述意见，调解员释法说理"}
    context["events"] = [dict(event, note=f"{event['note']}（第{i}次）") for i in range(1, 121)]
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(render_pdf("dossier", context))).pages]
    with_events = [p for p in pages if "第" in p and "次）" in p]
    assert len(with_events) >= 3
    assert all("时间事项经办人说明" in p for p in with_events)


RARE = ("𠮷", "𡃁", "𪚥")


def test_rare_characters_render_from_a_font_never_as_boxes() -> None:
    """Names with CJK Extension B characters: 𠮷 (U+20BB7) from Noto Serif CJK SC, 𡃁 (U+210C1) from UMing,
    𪚥 (U+2A6A5) from HanaMinB (Debian fonts-hanazono): each glyph is drawn, none is .notdef."""
    context = c01_context()
    context["parties"][1]["name"] = "𠮷𡃁𪚥某"
    pdf = render_pdf("agreement", context)
    assert "𠮷𡃁𪚥某" in squash(pdf_text(pdf))
    fonts = {}
    for char in RARE:
        font, drawn = glyph_of(pdf, char)
        assert drawn, (char, font)
        fonts[char] = font
    assert "Noto-Serif-CJK" in fonts["𠮷"] and "HanaMinB" in fonts["𪚥"], fonts


def test_the_rare_character_check_sees_an_empty_box() -> None:
    """The check above is real: 𰀀 (U+30000, CJK Extension G) is in no installed font and comes out as a box."""
    context = c01_context()
    context["parties"][1]["name"] = "\U00030000某"
    assert not glyph_of(render_pdf("agreement", context), "\U00030000")[1]


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_every_document_is_pdfa3b_with_title_case_number_language_and_digest(kind: str) -> None:
    """PDF/A-3b (ISO 19005-3) for the archive: XMP part 3 / conformance B, an sRGB output intent, every font
    embedded; title, case number and language in the metadata; the content digest in the keywords."""
    context = kind_context(kind)
    pdf = render_pdf(kind, context)
    reader = PdfReader(io.BytesIO(pdf))
    root = _dict(reader.trailer["/Root"])
    assert str(root["/Lang"]) == "zh-CN"
    assert str(_dict(_array(root["/OutputIntents"])[0])["/S"]) == "/GTS_PDFA1"
    xmp = reader.xmp_metadata
    assert xmp is not None
    xml = xmp.rdf_root.toxml()
    assert 'pdfaid:part="3"' in xml and 'pdfaid:conformance="B"' in xml
    info = reader.metadata
    assert info is not None and info.title == f"{document_title(kind)} （2026）温溪警调字第0026号"
    assert f"mediation-digest:{content_digest(context)}" in str(info["/Keywords"])
    assert "（2026）温溪警调字第0026号" in str(info["/Keywords"])
    descriptors = list(font_descriptors(pdf))
    assert descriptors and all("/FontFile2" in d or "/FontFile3" in d for d in descriptors)
    assert all(re.match(r"/[A-Z]{6}\+", str(d["/FontName"])) for d in descriptors)


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_the_verification_code_is_in_every_page_footer(kind: str) -> None:
    """DESIGN §4: every document's code (a digest of its content) is printed on each page; in a dossier each
    part prints its own code (the one it was issued with) and the contents and closing pages the dossier's."""
    context = kind_context(kind)
    code = verification_code(content_digest(context))
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(render_pdf(kind, context))).pages]
    if kind != "dossier":
        assert all(f"校验码{code}" in page for page in pages)
        return
    assert "校验码" not in pages[0]  # the cover
    assert f"校验码{code}" in pages[1] and f"校验码{code}" in pages[-1]
    part_code = verification_code(content_digest(context["documents"][0]["context"]))
    assert part_code != code and f"校验码{part_code}" in pages[2]


def _qr_texts(pdf: bytes, tmp_path: Any) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    import subprocess

    from PIL import Image

    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "doc.pdf"),
                    str(tmp_path / "page")], check=True)
    return [b.text for b in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]


@pytest.mark.parametrize("kind", sorted(documents.AGREEMENT_KINDS))
def test_an_agreement_carries_a_qr_code_of_its_verification_url(kind: str, tmp_path: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """DESIGN §4: the QR code (made locally by segno, no network) encodes <base>/verify/<code>; the base is
    configurable and the default is http://127.0.0.1:5000; the printed text does not depend on it."""
    monkeypatch.delenv("MEDIATION_VERIFY_BASE_URL", raising=False)
    context = kind_context(kind)
    code = verification_code(content_digest(context))
    default = render_pdf(kind, context)
    assert _qr_texts(default, tmp_path) == [f"http://127.0.0.1:5000/verify/{code}"]
    monkeypatch.setenv("MEDIATION_VERIFY_BASE_URL", "https://tiaojie.example.cn/")
    configured = render_pdf(kind, context)
    assert _qr_texts(configured, tmp_path) == [f"https://tiaojie.example.cn/verify/{code}"]
    assert pdf_text(configured) == pdf_text(default)
    given = render_pdf(kind, context, verify_base="http://10.0.0.2:8000")
    assert _qr_texts(given, tmp_path) == [f"http://10.0.0.2:8000/verify/{code}"]


def test_only_agreements_carry_a_qr_code() -> None:
    """The QR code marks the agreements (R30, R31); the other forms carry the printed code only."""
    for kind in DOCUMENT_KINDS:
        assert ("<svg" in render_html(kind, kind_context(kind))) is (kind in documents.AGREEMENT_KINDS or
                                                                     kind == "dossier"), kind


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_markup_in_any_field_of_any_document_prints_as_text_and_embeds_nothing(kind: str) -> None:
    """Autoescaping and the restrictive url_fetcher, for every kind: markup in every text field is printed
    literally; no attachment, no image, no file is embedded, nothing is fetched."""
    injected = _every_string(all_kinds_context(), lambda key, text: INJECTIONS[len(key) % 2])
    context = kind_context(kind, injected)
    html = render_html(kind, context)
    assert "<link rel=attachment" not in html and "<img src" not in html
    pdf = render_pdf(kind, context)
    assert squash(INJECTIONS[0]) in squash(pdf_text(pdf)) or squash(INJECTIONS[1]) in squash(pdf_text(pdf))
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert "/EmbeddedFiles" not in str(_dict(reader.trailer["/Root"]).get("/Names", {}))
    assert "/AF" not in _dict(reader.trailer["/Root"])
    for page in reader.pages:
        for xobject in _dict(_dict(page["/Resources"]).get("/XObject", DictionaryObject())).values():
            assert _dict(xobject).get("/Subtype") != "/Image", "an image was embedded"
        for annot in page.get("/Annots") or []:
            assert _dict(annot).get("/Subtype") != "/FileAttachment"


# ---------------------------------------------------------------- R24: work-injury waiver warning


@pytest.mark.parametrize(
    "text",
    [
        "乙方自愿放弃工伤认定",
        "双方同意不再进行伤残鉴定，甲方一次性支付5万元",
        "乙方放弃申请劳动能力鉴定的权利",
        "一次性了结本次工伤事故的全部赔偿，乙方不再主张任何权利",
        "本次工伤一次性买断",
        "乙方不申请工伤认定",
    ],
)
def test_work_injury_agreement_waiving_certification_warns_the_mediator(text: str) -> None:
    """R24 (published court cases): a work-injury agreement that waives certification or grading, signed before
    them, can be set aside; the agreement screen warns before signing."""
    from mediation.warnings import WAIVES_CERTIFICATION, WAIVES_INJURY_CLAIMS, agreement_warnings

    warnings = agreement_warnings({"category": "work_injury"}, [{"text": "支付医疗费3万元"}, {"text": text}])
    assert warnings and set(warnings) <= {WAIVES_CERTIFICATION, WAIVES_INJURY_CLAIMS}
    assert len(warnings) == len(set(warnings))


@pytest.mark.parametrize(
    ("category", "text"),
    [
        ("work_injury", "公司协助叶某申请工伤认定，劳动能力鉴定结论作出后按标准支付"),
        ("work_injury", "本协议不影响乙方申请工伤认定的权利"),
        ("work_injury", "乙方不放弃工伤认定"),
        ("wages", "乙方放弃工伤认定"),  # not a work-injury case: no R24 warning
    ],
)
def test_no_warning_without_a_waiver_or_outside_work_injury(category: str, text: str) -> None:
    """R24 applies to work-injury agreements only, and only to a waiver."""
    from mediation.warnings import agreement_warnings

    assert agreement_warnings({"category": category}, [{"text": text}]) == []


def test_waiver_warnings_are_marked_msgids_and_read_orm_terms() -> None:
    """The warnings are English msgids (N_, translated by the web layer); terms may be Obligation-like objects."""
    from types import SimpleNamespace

    from mediation.enums import Category
    from mediation.warnings import WAIVES_CERTIFICATION, WAIVES_INJURY_CLAIMS, agreement_warnings

    case = SimpleNamespace(category=Category.WORK_INJURY)
    terms = [SimpleNamespace(text="放弃工伤认定"), SimpleNamespace(text="一次性了结工伤纠纷")]
    assert agreement_warnings(case, terms) == [WAIVES_CERTIFICATION, WAIVES_INJURY_CLAIMS]
    assert all(w.isascii() and "R24" in w for w in (WAIVES_CERTIFICATION, WAIVES_INJURY_CLAIMS))
    assert agreement_warnings(case, [], text="双方同意放弃伤残等级鉴定") == [WAIVES_CERTIFICATION]
