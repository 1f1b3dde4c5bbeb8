"""The staff intake in a real browser on the demo data: an applicant expresses interest on the
public page, staff score blind, appoint an interviewed applicant and match the new fellow with
a mentor, then publish. axe-core checks every page visited."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser

OPEN_COHORT = "Cohort 12 — 2027/28"


def test_a_clinician_expresses_interest_on_the_public_page(page):
    response = page.goto("/apply/cep/")
    assert response is not None and response.ok
    expect(page.locator("h1")).to_have_text(
        "Express interest in NHS Clinical Entrepreneur Programme"
    )
    assert_accessible(page)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send my expression of interest").click()
    assert navigation.value.status == 400
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    page.get_by_label("Full name").fill("Dr Nia Roberts")
    page.get_by_label("Email address").fill("nia.roberts@nhs.example")
    page.get_by_label("Profession").select_option("doctor")
    page.get_by_label("Your idea").fill("Help GP practices cut unnecessary referrals.")
    page.get_by_label(re.compile("I agree")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send my expression of interest").click()
    expect(page.locator("h1")).to_have_text("Thank you for your interest")
    expect(page.get_by_text("nia.roberts@nhs.example")).to_be_visible()
    assert_accessible(page)


def test_staff_run_the_intake_from_scoring_to_published_mentorship(page):
    sign_in(page, STAFF_EMAIL)
    open_menu(page, "Recruitment")
    expect(page.locator("h1")).to_have_text("Recruitment")
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text=OPEN_COHORT)
    with page.expect_navigation():
        row.get_by_role("link", name=re.compile("^Applications")).click()
    expect(page.locator("h1")).to_have_text("Applications")
    expect(page.get_by_text("Hidden until you score").first).to_be_visible()
    assert_accessible(page)

    # Score an application another reviewer has already scored, without seeing their score.
    waiting = page.get_by_role("row").filter(has_text="waiting for your score").first
    with page.expect_navigation():
        waiting.get_by_role("link").first.click()
    expect(page.get_by_text("Other reviewers' scores stay hidden")).to_be_visible()
    assert_accessible(page)
    score_form = page.locator("form").filter(has=page.get_by_role("button", name="Save my scores"))
    for group in score_form.locator(".nhsuk-radios").all():
        group.get_by_label(re.compile("^4 ")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save my scores").click()
    expect(page.get_by_role("status")).to_contain_text("Your scores for")
    expect(page.get_by_text(re.compile("Average"))).to_be_visible()
    assert_accessible(page)

    # Appoint the applicant the interview panel recommended.
    with page.expect_navigation():
        page.get_by_role("link", name="Back to the applications").click()
    page.get_by_label("Stage").select_option("interviewed")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    with page.expect_navigation():
        page.get_by_role("table").get_by_role("link").first.click()
    appointee = page.locator("h1").inner_text()
    page.get_by_label("Appoint to the cohort").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("has been appointed")
    expect(page.get_by_role("link", name=re.compile("profile"))).to_be_visible()
    assert_accessible(page)

    # Match the new fellow with a mentor and publish.
    open_menu(page, "Matching")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name=OPEN_COHORT).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Run matching").click()
    expect(page.get_by_role("status")).to_contain_text("Proposed 1 pair")
    proposal = page.get_by_role("row").filter(has_text=appointee)
    expect(proposal).to_have_count(1)
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Publish 1 mentorship").click()
    expect(page.get_by_role("status")).to_contain_text("Published 1 mentorship")
    assert_accessible(page)


def test_the_demo_fellow_sees_her_mentor(page):
    sign_in(page, FELLOW_EMAIL)
    expect(page.get_by_role("heading", name="Your mentor")).to_be_visible()
    expect(page.get_by_role("link", name="Dr Michael Harding")).to_be_visible()
    open_menu(page, "Mentorships")
    expect(page.get_by_role("table")).to_contain_text("Dr Michael Harding")
    assert_accessible(page)


def test_the_demo_fellow_answers_a_request_to_connect(page):
    sign_in(page, FELLOW_EMAIL)
    open_menu(page, "Network")
    expect(page.locator("h1")).to_have_text("Your network")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Accept")).first.click()
    expect(page.get_by_role("status")).to_contain_text("You are now connected with")
    expect(page.get_by_text("No requests waiting for you.")).to_be_visible()
    assert_accessible(page)
