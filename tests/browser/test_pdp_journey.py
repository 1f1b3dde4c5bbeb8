"""The PDP year in a real browser on the demo data: a fellow writes an objective and sends the
plan; her mentor returns it with comments; axe-core checks every page visited."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser


def test_the_demo_fellow_works_on_her_plan(page):
    sign_in(page, FELLOW_EMAIL)
    expect(page.get_by_role("heading", name="Your Personal Development Plan")).to_be_visible()
    open_menu(page, "Your plan")
    expect(page.locator("h1")).to_have_text("Your Personal Development Plan")
    expect(page.get_by_text("Changed since agreement")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Add an objective").click()
    assert_accessible(page)
    page.get_by_label("What will you achieve?").fill("Present at a national conference")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save the objective").click()
    assert navigation.value.status == 400
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_label("What will you achieve?")).to_have_value(
        "Present at a national conference"
    )
    assert_accessible(page)
    page.get_by_label("How will you know it is done?").fill("An accepted abstract.")
    page.get_by_label("By when?").fill("2017-06-30")
    page.get_by_label("Competency domain").select_option(label="Networking and partnership")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the objective").click()
    expect(page.get_by_role("status")).to_contain_text("has been saved")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the changes to my mentor to agree").click()
    expect(page.get_by_role("status")).to_contain_text("sent to your mentor")
    assert_accessible(page)


def test_the_mentor_returns_a_plan_with_comments(page):
    sign_in(page, FELLOW_EMAIL)
    open_menu(page, "Your plan")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the changes to my mentor to agree").click()
    page.context.clear_cookies()
    sign_in(page, MENTOR_EMAIL)
    page.goto("/p/cep/pdp/")
    expect(page.locator("h1")).to_have_text("Your mentees' plans")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Dr Priya Shah").click()
    page.get_by_label("Return it with comments").check()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Record my decision").click()
    assert navigation.value.status == 400
    expect(page.get_by_text("Say what the fellow should change.").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Comments for the fellow").fill("Add a measure for the pilot.")
    with page.expect_navigation():
        page.get_by_role("button", name="Record my decision").click()
    expect(page.get_by_role("status")).to_contain_text("You have returned")
    assert_accessible(page)


def test_the_fellow_downloads_her_plan_as_a_pdf(page):
    sign_in(page, FELLOW_EMAIL)
    open_menu(page, "Your plan")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the plan as a PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("pdp-") and download.suggested_filename.endswith(
        ".pdf"
    )
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_staff_see_every_plan(page):
    sign_in(page, STAFF_EMAIL)
    open_menu(page, "Plans")
    expect(page.locator("h1")).to_have_text("Personal Development Plans")
    expect(page.get_by_role("table")).to_contain_text("Dr Priya Shah")
    assert_accessible(page)
