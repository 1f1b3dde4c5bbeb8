"""The directory, profiles and cohorts in a real browser, with axe-core on every page."""

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser


def test_fellow_edits_profile_and_finds_people_in_the_directory(page, live_server):
    sign_in(page, FELLOW_EMAIL)
    page.goto(f"{live_server.url}/p/cep/profile/")
    expect(page.locator("h1")).to_have_text("Your profile")
    assert_accessible(page)

    page.get_by_label("Interests").fill("Emergency care pathways and triage")
    page.get_by_label("Venture name").last.fill("TriageAssist")
    page.get_by_label("Summary").last.fill("Helps emergency departments prioritise patients.")
    page.get_by_label("Stage").last.select_option("prototype")
    page.get_by_label("Sector").last.select_option("ai_data")
    with page.expect_navigation():
        page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}/p/cep/directory/?q=TriageAssist")
    expect(page.get_by_role("link", name="Dr Priya Shah")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/p/cep/directory/?who=mentors&sector=medtech")
    expect(page.locator("main li p", has_text="Medical devices").first).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.locator("main h2 a").first.click()
    expect(page.get_by_text("Mentor,", exact=False).first).to_be_visible()
    assert_accessible(page)


def test_mentor_profile_form_explains_mistakes(page, live_server):
    sign_in(page, MENTOR_EMAIL)
    page.goto(f"{live_server.url}/p/cep/profile/")
    expect(page.locator("h1")).to_have_text("Your mentor profile")
    assert_accessible(page)
    page.get_by_label("How many mentees can you take?").fill("99")
    with page.expect_navigation():
        page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)


def test_staff_add_a_cohort_and_see_its_meeting_windows(page, live_server):
    sign_in(page, STAFF_EMAIL)
    open_menu(page, "Cohorts")
    expect(page.get_by_role("heading", name="Cohort 1 — 2016/17")).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Add a cohort").click()
    assert_accessible(page)
    page.get_by_label("Name").fill("Cohort 2 — 2017/18")
    page.get_by_label("Starts on").fill("2017-09-01")
    page.get_by_label("Ends on").fill("2018-08-31")
    with page.expect_navigation():
        page.get_by_role("button", name="Save cohort").click()
    expect(page.get_by_text("Cohort 2 — 2017/18 has been saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Cohort 2 — 2017/18")).to_be_visible()
    assert_accessible(page)
