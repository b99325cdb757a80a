"""A member of the public files online at any hour and looks the case up with the tracking code
(issue 4); the public pages are checked by axe-core and photographed in zh-CN and English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories


@pytest.fixture
def station(session):
    """The station the public files with (only one: the form does not ask)."""
    return factories.OrganisationFactory()


def test_member_of_the_public_files_online_and_looks_up_the_status(page, live_server, station, look):
    base = live_server
    page.goto(f"{base}/login")
    look("login")
    page.goto(f"{base}/public/file")
    look("public-file")
    page.select_option("#kind", "labour:wages")
    page.fill("#facts", "2025年12月在某鞋业公司做工，工资4,800元至今未付。")
    page.fill("#claims", "支付工资4,800元")
    page.fill("#applicant_name", "潘某")
    page.fill("#applicant_phone", "13800090101")
    page.fill("#respondent_name", "青田县温溪镇某鞋业有限公司")
    page.check("#consent")
    with page.expect_navigation():
        page.click("form.public-form button[type=submit]")
    code = page.locator(".tracking-code").inner_text().strip()
    assert len(code) >= 8, page.content()
    look("public-filed")

    def look_up() -> None:
        page.goto(f"{base}/public/status")
        page.fill("#tracking_code", code)
        page.fill("#phone", "13800090101")
        with page.expect_navigation():
            page.click("form.status-form button[type=submit]")
        expect(page.locator(".status-result")).to_be_visible()

    look_up()
    expect(page.locator(".status-result")).to_contain_text("已登记")
    look("public-status", redo=look_up)
    page.fill("#tracking_code", "WRONGCODE1")
    page.fill("#phone", "13800090101")
    with page.expect_navigation():
        page.click("form.status-form button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
