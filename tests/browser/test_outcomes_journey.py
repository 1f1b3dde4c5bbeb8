"""Outcomes in a real browser on the demo data (issue #7, item 1): the demo fellow reports a
grant (an amount below a penny first: refused at the field, what she typed kept) and says her
outcomes are up to date; staff verify it from the queue. axe-core checks every page visited."""

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser


def test_the_fellow_reports_a_grant_and_staff_verify_it(page):
    sign_in(page, FELLOW_EMAIL)
    expect(page.get_by_text("Bring your outcomes up to date for")).to_be_visible()
    open_menu(page, "Your outcomes")
    expect(page.locator("h1")).to_have_text("Your outcomes")
    expect(page.get_by_text("Not verified", exact=True)).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Report funding").click()
    page.get_by_label("Kind").select_option(label="Grant")
    page.get_by_label("Amount (£)").fill("0")
    page.get_by_label("Source").fill("NIHR i4i Product Development Award")
    page.get_by_label("Date received").fill("2019-06-03")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Report it").click()
    assert navigation.value.status == 400
    expect(page.get_by_text("Give an amount of at least £0.01.").first).to_be_visible()
    expect(page.get_by_label("Source")).to_have_value("NIHR i4i Product Development Award")
    assert_accessible(page)
    page.get_by_label("Amount (£)").fill("98000")
    with page.expect_navigation():
        page.get_by_role("button", name="Report it").click()
    expect(page.get_by_role("status")).to_contain_text("Reported: £98,000 grant")
    with page.expect_navigation():
        page.get_by_role("button", name="My outcomes are up to date").click()
    expect(page.get_by_role("status")).to_contain_text("your outcomes are up to date")

    page.context.clear_cookies()
    sign_in(page, STAFF_EMAIL)
    open_menu(page, "Outcomes")
    expect(page.locator("h1")).to_have_text("Verify outcomes")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Verify £98,000 grant from NIHR i4i").click()
    expect(page.get_by_role("status")).to_contain_text("Verified: £98,000 grant")
    assert_accessible(page)
