"""Events in a real browser on the demo data (issue #6): the demo fellow finds a course and
registers; is checked in to the Pit Stop under way by scanning the code staff show, and finds
the event as evidence in her plan; moves up the waiting list of a full Pit Stop when two people
give up their places. axe-core checks every page visited; one journey runs without JavaScript."""

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser


def test_the_demo_fellow_finds_a_course_and_registers(page):
    sign_in(page, FELLOW_EMAIL)
    expect(page.get_by_role("heading", name="Your next events")).to_be_visible()
    open_menu(page, "Events")
    expect(page.locator("h1")).to_have_text("Events")
    assert_accessible(page)
    page.get_by_label("Kind").select_option(label="Course")
    with page.expect_navigation():
        page.get_by_role("button", name="Show events").click()
    expect(page.get_by_role("link", name="Course: health economics for innovators")).to_be_visible()
    expect(page.get_by_role("link", name="Pit Stop: investor readiness")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("link", name="Course: health economics for innovators").click()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("You are registered")
    expect(page.get_by_text("Registered", exact=True)).to_be_visible()
    assert_accessible(page)
    # Her calendar entry: a valid iCalendar file for this course, in UK time.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to your calendar (.ics)").click()
    with open(download_info.value.path(), "rb") as ics:
        calendar = icalendar.Calendar.from_ical(ics.read())
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Course: health economics for innovators"
    assert entry["DTSTART"].params["TZID"] == "Europe/London"


def test_staff_show_the_code_and_the_fellow_checks_in_and_finds_it_in_her_plan(page, browser):
    sign_in(page, STAFF_EMAIL)
    open_menu(page, "Events")
    with page.expect_navigation():
        page.get_by_role("link", name="Pit Stop: pitch clinic").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Show the check-in QR code").click()
    expect(page.locator(".pitwall-qr svg")).to_be_visible()
    assert_accessible(page)
    checkin_url = page.locator(".pitwall-break-all").text_content().strip()

    fellow = browser.new_context(base_url=page.url.split("/p/")[0], bypass_csp=True).new_page()
    # The phone scans the code: the sign-in page comes first, then the check-in page.
    fellow.goto(checkin_url)
    fellow.fill("#id_login", FELLOW_EMAIL)
    fellow.fill("#id_password", "pitwall-demo")
    with fellow.expect_navigation():
        fellow.get_by_role("button", name="Sign in").click()
    expect(fellow.locator("h1")).to_have_text("Check in to “Pit Stop: pitch clinic”")
    assert_accessible(fellow)
    with fellow.expect_navigation():
        fellow.get_by_role("button", name="Check me in").click()
    expect(fellow.get_by_role("status")).to_contain_text("You are checked in")
    expect(fellow.get_by_text("Attended", exact=True)).to_be_visible()
    assert_accessible(fellow)
    open_menu(fellow, "Your plan")
    evidence = fellow.get_by_role("link", name="Pit Stop: pitch clinic")
    expect(evidence.first).to_be_visible()

    # Staff see her on the register as attended, checked in with the code.
    with page.expect_navigation():
        page.get_by_role("link", name="The register").click()
    expect(page.get_by_role("table")).to_contain_text("Dr Priya Shah")
    assert_accessible(page)
    fellow.context.close()


def test_a_place_comes_up_and_the_waiting_fellow_moves_up(nojs_page):
    page = nojs_page
    with scopes_disabled():
        from events.models import Event

        event = Event.objects.get(title="Pit Stop: investor readiness")
        holders = list(
            get_user_model().objects.filter(
                event_registrations__event=event, event_registrations__status="registered"
            )[:2]
        )
    sign_in(page, FELLOW_EMAIL)
    page.goto(event.get_absolute_url())
    expect(page.get_by_text("You are number 2")).to_be_visible()
    assert_accessible(page)
    for holder in holders:
        page.context.clear_cookies()
        sign_in(page, holder.email)
        page.goto(event.get_absolute_url())
        with page.expect_navigation():
            page.get_by_role("button", name="Cancel my place").click()
        expect(page.get_by_role("status")).to_contain_text("is cancelled")
    page.context.clear_cookies()
    sign_in(page, FELLOW_EMAIL)
    expect(page.get_by_role("link", name="Notifications")).to_contain_text("unread")
    page.goto(event.get_absolute_url())
    expect(page.get_by_text("Registered", exact=True)).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Notifications").first.click()
    expect(page.get_by_role("link", name="A place has come up")).to_be_visible()
    assert_accessible(page)
