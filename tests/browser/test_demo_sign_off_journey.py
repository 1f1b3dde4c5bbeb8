"""The demo mentor's sign-off, as the demo users, with JavaScript off: Dr Michael Harding signs
the record of Dr Priya Shah's third meeting that has waited for him since March 2017, confirming
the milestone she achieved, and Priya finds it signed and intact. axe-core checks every
page visited (the no-JavaScript pages are replayed for it)."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from mentoring.models import Meeting, Milestone, SignOff

from .conftest import DEMO_PASSWORD, FELLOW_EMAIL, MENTOR_EMAIL, _new_context, sign_in
from .test_meetings_journey import click_through, sign, status_message, visit

pytestmark = pytest.mark.browser

FELLOW_NAME = "Dr Priya Shah"
ACHIEVED = "Register the pilot as a service evaluation"


def _third_meeting() -> Meeting:
    with scopes_disabled():
        return Meeting.objects.select_related("mentorship").get(
            mentorship__fellow__user__email=FELLOW_EMAIL,
            mentorship__mentor__user__email=MENTOR_EMAIL,
            number=3,
        )


@pytest.fixture
def nojs_page_for(browser, live_server, demo_data):
    contexts = []

    def open_as(email):
        context = _new_context(browser, live_server, java_script_enabled=False)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, email)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_the_demo_mentor_signs_off_the_meeting_waiting_for_him(nojs_page_for):
    meeting = _third_meeting()
    assert meeting.status == Meeting.Status.SUBMITTED
    mentor = nojs_page_for(MENTOR_EMAIL)
    visit(mentor, "/p/cep/meetings/")
    expect(mentor.locator("h1")).to_have_text("Your mentees' meetings")
    click_through(mentor, mentor.get_by_role("link", name=f"Sign off meeting 3 of {FELLOW_NAME}"))
    expect(mentor.locator("h1")).to_have_text("Meeting 3")
    click_through(mentor, mentor.get_by_role("link", name="Sign off the record"))
    expect(mentor.locator("h1")).to_have_text("Sign off meeting 3")

    # A slip of the password signs nothing and keeps what he ticked.
    achieved = mentor.get_by_label(ACHIEVED)
    achieved.check()
    sign(mentor, secret="not my password", status=400)
    expect(mentor).to_have_title(re.compile("^Error: "))
    expect(achieved).to_be_checked()
    with scopes_disabled():
        assert not SignOff.objects.filter(meeting=meeting).exists()

    sign(mentor, secret=DEMO_PASSWORD)
    expect(status_message(mentor)).to_contain_text("You signed off meeting 3.")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SIGNED
    with scopes_disabled():
        confirmed = Milestone.objects.filter(
            agreed_at__mentorship=meeting.mentorship, confirmed_at__isnull=False
        )
        assert confirmed.filter(title=ACHIEVED).exists()

    # Priya sees it signed and intact.
    fellow = nojs_page_for(FELLOW_EMAIL)
    visit(fellow, f"/p/cep/meetings/{meeting.uuid}/")
    expect(fellow.get_by_role("heading", name="Signed off and locked")).to_be_visible()
    click_through(fellow, fellow.get_by_role("link", name="Check that the record is intact"))
    expect(fellow.get_by_role("heading", name="Intact", exact=True)).to_be_visible()
