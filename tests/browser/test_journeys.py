"""End-to-end journeys through the demo data in a real browser, with axe-core on every page."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser


def _invitation_journey(page, new_email):
    """Staff home → People → Invitations → invite → empty submission → audit log."""
    sign_in(page, STAFF_EMAIL)
    assert page.url.endswith("/p/cep/")
    expect(page.locator("h1")).to_have_text("NHS Clinical Entrepreneur Programme")
    expect(page.get_by_role("heading", name="Cohorts")).to_be_visible()
    assert_accessible(page)

    open_menu(page, "People")
    assert page.url.endswith("/p/cep/people/")
    expect(page.locator("h1")).to_have_text("People in NHS Clinical Entrepreneur Programme")
    expect(page.get_by_text(re.compile(r"^\d+ results$"))).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Name or email").fill(FELLOW_EMAIL)
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 result", exact=True)).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(FELLOW_EMAIL)
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("main").get_by_role("link", name="Invitations", exact=True).click()
    assert page.url.endswith("/p/cep/invitations/")
    expect(page.locator("h1")).to_have_text("Invitations")
    assert_accessible(page)

    page.get_by_label("Email address").fill(new_email)
    page.get_by_label("Fellow", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send invitation").click()
    assert page.url.endswith("/p/cep/invitations/")
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {new_email}.")
    row = page.get_by_role("row").filter(has_text=new_email)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Fellow")
    expect(row).to_contain_text("Waiting for a reply")
    assert_accessible(page)

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send invitation").click()
    response = navigation.value
    assert response is not None and response.status == 400, response and response.status
    expect(page).to_have_title(re.compile(r"^Error: Invitations"))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.locator('a[href="#id_email"]')).to_have_text("This field is required.")
    expect(page.locator("#id_email-error")).to_contain_text("This field is required.")
    assert_accessible(page)

    open_menu(page, "People")
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("link", name="Audit log", exact=True).click()
    assert page.url.endswith("/p/cep/audit/")
    expect(page.locator("h1")).to_have_text("Audit log")
    created = page.get_by_role("row").filter(has_text="invitation.created")
    expect(created.filter(has_text=new_email)).to_have_count(1)
    assert_accessible(page)


def test_fellow_signs_in_and_reaches_their_home(page):
    sign_in(page, FELLOW_EMAIL, check_login_page=True)
    assert page.url.endswith("/p/cep/")
    expect(page.locator("h1")).to_have_text("Welcome, Priya")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    assert_accessible(page)


def test_staff_invites_a_fellow_and_sees_it_in_the_audit_log(page):
    _invitation_journey(page, "new.fellow@example.org")


def test_mentor_in_two_programmes_picks_one(page):
    sign_in(page, MENTOR_EMAIL)
    # After signing in everyone lands on "/", which offers a mentor both programmes.
    assert urlsplit(page.url).path == "/"
    expect(page.locator("h1")).to_have_text("Your programmes")
    expect(page.get_by_role("link", name="Health Innovation Accelerator")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="NHS Clinical Entrepreneur Programme").click()
    assert page.url.endswith("/p/cep/")
    expect(page.locator("h1")).to_have_text("Welcome, Michael")
    expect(
        page.get_by_text("You mentor fellows of NHS Clinical Entrepreneur Programme")
    ).to_be_visible()
    assert_accessible(page)


def test_fellow_gets_not_found_for_another_programme(page):
    sign_in(page, FELLOW_EMAIL)
    response = page.goto("/p/accel/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.get_by_text("Health Innovation Accelerator")).to_have_count(0)
    assert_accessible(page)


def test_staff_invitation_journey_without_javascript(nojs_page):
    _invitation_journey(nojs_page, "no.script@example.org")
