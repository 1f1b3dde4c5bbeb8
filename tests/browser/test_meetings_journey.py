"""The year's mentor meetings in a real browser (issue #5), with axe-core on every page visited.

A fellow records her first meeting and agrees two milestones; her mentor, in a browser of his
own, returns it with comments, then signs it off (a wrong password first: nothing is signed and
what he ticked is kept). At the second meeting she reviews the milestones; he signs and confirms
the achieved one; the programme team reopen the record with a reason and he signs it again.
Two people saving the same draft are told, not silently overwritten.

The people and the programme are made with the factories, in a cohort whose year began 80 days
ago, so every date typed is inside the year and not in the future.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from cohort.models import Role
from mentoring.models import Meeting, Milestone, SignOff
from mentoring.services import meeting_save, meeting_start
from pdp.models import CompetencyDomain
from pdp.services import objective_save, pdp_for_fellow, pdp_submit
from tests.factories import (
    PASSWORD,
    CohortFactory,
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    OrganisationFactory,
    ProgrammeFactory,
    UserFactory,
)

from .conftest import _new_context, assert_accessible, sign_in

pytestmark = pytest.mark.browser

FELLOW_EMAIL = "asha.rao@meet.example"
MENTOR_EMAIL = "sam.okafor@meet.example"
STAFF_EMAIL = "morgan.lee@meet.example"
FELLOW_NAME, MENTOR_NAME = "Dr Asha Rao", "Sam Okafor"
OBJECTIVE = "Run a pilot of the triage app in two trusts"
FIRST, SECOND = "Agree the pilot sites", "Draft the evaluation protocol"


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)


def iso(day) -> str:
    return day.isoformat()


@pytest.fixture
def year(live_server, settings):
    """A programme with a fellow, her mentor and a staff member; the fellow's plan has one
    objective and is waiting for the mentor to agree it (at the first meeting)."""
    # The MFA gate would send staff to set up an authenticator before anything else.
    settings.PITWALL_REQUIRE_STAFF_MFA = False
    # Sign-off attempts are rate-limited per person in the cache; these people are new each
    # time (fresh uuids), so no counter carries over. The cache is not flushed: in CI it is
    # the Redis the worker tests' queues live in.
    with scopes_disabled():
        programme = ProgrammeFactory(slug="meet", name="Meetings Programme")
        starts = days_ago(80)
        cohort = CohortFactory(
            programme=programme,
            name="Cohort 2026",
            starts_on=starts,
            ends_on=starts + timedelta(days=364),
        )
        people = {}
        for email, name, role in [
            (FELLOW_EMAIL, FELLOW_NAME, Role.FELLOW),
            (MENTOR_EMAIL, MENTOR_NAME, Role.MENTOR),
            (STAFF_EMAIL, "Morgan Lee", Role.STAFF),
        ]:
            people[role] = UserFactory(email=email, full_name=name)
            MembershipFactory(programme=programme, user=people[role], role=role)
        fellow = FellowFactory(programme=programme, user=people[Role.FELLOW], cohort=cohort)
        mentor = MentorFactory(
            programme=programme,
            user=people[Role.MENTOR],
            organisation=OrganisationFactory(programme=programme, name="Medtech Partners"),
        )
        mentorship = MentorshipFactory(
            fellow=fellow, mentor=mentor, cohort=cohort, started_on=starts
        )
    with scope(programme=programme):
        domain = CompetencyDomain.objects.create(programme=programme, name="Leadership")
        pdp = pdp_for_fellow(fellow=fellow)
        objective_save(
            pdp=pdp,
            actor=people[Role.FELLOW],
            data={
                "title": OBJECTIVE,
                "measure": "Two trusts running it",
                "target_date": starts + timedelta(days=300),
                "domain": domain,
            },
        )
        pdp_submit(pdp=pdp, actor=people[Role.FELLOW])
    return {"programme": programme, "mentorship": mentorship, **people}


@pytest.fixture
def browser_for(browser, live_server):
    """browser_for(email) -> a page in a browser context of its own, signed in as that person."""
    contexts = []

    def open_as(email):
        context = _new_context(browser, live_server)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, email, PASSWORD)
        return page

    yield open_as
    for context in contexts:
        context.close()


def visit(page, url):
    response = page.goto(url)
    assert response.status < 400, f"GET {url}: {response.status}"
    assert_accessible(page)
    return response


def click_through(page, locator, *, status=None):
    """Click something that loads a page, check the page (status, axe) and return it."""
    with page.expect_navigation() as navigation:
        locator.click()
    response = navigation.value
    if status is not None:
        assert response.status == status, f"{page.url}: {response.status}, expected {status}"
    else:
        assert response.status < 400, f"{page.url}: {response.status}"
    assert_accessible(page)
    return response


def open_meetings(page, programme):
    """Meetings, from the navigation (or by its address when the header has folded it into
    its "More" menu on a narrow window)."""
    link = page.get_by_role("navigation", name="Menu").get_by_role("link", name="Meetings")
    if link.count() and link.first.is_visible():
        click_through(page, link.first)
    else:
        visit(page, f"/p/{programme.slug}/meetings/")


def status_message(page):
    return page.get_by_role("status")


def meeting_row(page, number):
    return page.get_by_role("row").filter(has_text=re.compile(rf"^\s*Meeting {number}\b"))


def fill_record(page, *, held_on, discussion, reflection=None):
    page.get_by_label("Date the meeting was held").fill(iso(held_on))
    page.get_by_label("How you met").select_option(label="Video call")
    page.get_by_label("What you discussed").fill(discussion)
    if reflection is not None:
        page.get_by_label("The fellow's reflection").fill(reflection)


def add_milestone(page, *, title, due_on, measure, objective=None):
    details = page.locator("details", has=page.get_by_text("Add a milestone", exact=True))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    page.get_by_label("What", exact=True).fill(title)
    page.get_by_label("By when").fill(iso(due_on))
    page.get_by_label("How we will know").fill(measure)
    if objective:
        page.get_by_label("PDP objective (optional)").select_option(label=objective)
    click_through(page, page.get_by_role("button", name="Add the milestone"))
    expect(status_message(page)).to_contain_text(f"The milestone “{title}” has been added.")


def review_milestone(page, title, *, outcome, comment, new_date=None, evidence=None):
    card = page.locator(".nhsuk-card", has=page.get_by_role("heading", name=title))
    card.get_by_label(outcome, exact=True).check()
    card.get_by_label("Comment").fill(comment)
    if new_date is not None:
        card.get_by_label("New date (if deferred)").fill(iso(new_date))
    if evidence is not None:
        card.get_by_label("Evidence (optional)").fill(evidence)
    click_through(page, card.get_by_role("button", name=f"Save the review of {title}"))
    expect(status_message(page)).to_contain_text(f"Your review of “{title}” has been saved.")


def send_to_mentor(page):
    click_through(page, page.get_by_role("button", name="Send the record to my mentor"))
    expect(status_message(page)).to_contain_text(f"The record has gone to {MENTOR_NAME}")


def sign(page, *, secret, status=None):
    page.get_by_label("Your password or authenticator code").fill(secret)
    return click_through(
        page, page.get_by_role("button", name="Sign off the record"), status=status
    )


def meeting_of(year, number) -> Meeting:
    with scopes_disabled():
        return Meeting.objects.get(mentorship=year["mentorship"], number=number)


def test_a_fellow_and_her_mentor_keep_the_years_meetings(year, browser_for):
    programme = year["programme"]
    fellow = browser_for(FELLOW_EMAIL)
    assert_accessible(fellow)

    # --- Meeting 1: the fellow records it and agrees two milestones -------------------------
    open_meetings(fellow, programme)
    expect(fellow.locator("h1")).to_have_text("Your meetings and milestones")
    click_through(fellow, fellow.get_by_role("button", name="Record meeting 1"))
    expect(fellow.locator("h1")).to_have_text("Meeting 1")
    fill_record(
        fellow,
        held_on=days_ago(70),
        discussion="Which trusts could host the pilot, and who signs it off.",
        reflection="I had not thought about information governance early enough.",
    )
    click_through(fellow, fellow.get_by_role("button", name="Save the record"))
    expect(status_message(fellow)).to_contain_text("The record has been saved.")
    # A milestone without its date and measure: said once, at the top, with her words kept.
    fellow.get_by_label("What", exact=True).fill(FIRST)
    click_through(fellow, fellow.get_by_role("button", name="Add the milestone"), status=400)
    expect(fellow).to_have_title(re.compile("^Error: "))
    summary = fellow.locator(".nhsuk-error-summary")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text("Give the date it is due.")
    expect(summary).to_contain_text("Say how you will both know it is done.")
    expect(fellow.get_by_label("What", exact=True)).to_have_value(FIRST)
    add_milestone(
        fellow,
        title=FIRST,
        due_on=days_ago(20),
        measure="Two trusts have said yes in writing.",
        objective=OBJECTIVE,
    )
    add_milestone(
        fellow,
        title=SECOND,
        due_on=days_ago(10),
        measure="A protocol the AHSN has read.",
    )
    expect(fellow.locator("#milestones + ul")).to_contain_text(
        f"toward the PDP objective “{OBJECTIVE}”"
    )
    send_to_mentor(fellow)
    assert meeting_of(year, 1).status == Meeting.Status.SUBMITTED

    # --- The mentor returns it with comments --------------------------------------------------
    mentor = browser_for(MENTOR_EMAIL)
    open_meetings(mentor, programme)
    expect(mentor.locator("h1")).to_have_text("Your mentees' meetings")
    click_through(mentor, mentor.get_by_role("link", name=f"Sign off meeting 1 of {FELLOW_NAME}"))
    expect(mentor.locator("h1")).to_have_text("Meeting 1")
    comments = "Say which trusts you approached and what the IG lead said."
    mentor.get_by_label("What should the fellow change?").fill(comments)
    click_through(mentor, mentor.get_by_role("button", name="Return the record"))
    expect(status_message(mentor)).to_contain_text(f"The record has gone back to {FELLOW_NAME}")

    # --- The fellow sees the comments, edits and sends it again --------------------------------
    visit(fellow, fellow.url)
    expect(fellow.get_by_text(f"{MENTOR_NAME} returned the record")).to_be_visible()
    expect(fellow.get_by_text(comments)).to_be_visible()
    fellow.get_by_label("What you discussed").fill(
        "Which trusts could host the pilot: Leeds and York said yes; the IG lead wants a DPIA."
    )
    click_through(fellow, fellow.get_by_role("button", name="Save the record"))
    expect(status_message(fellow)).to_contain_text("The record has been saved.")
    send_to_mentor(fellow)

    # --- The mentor signs: a wrong password first --------------------------------------------
    visit(mentor, mentor.url)
    click_through(mentor, mentor.get_by_role("link", name="Sign off the record"))
    expect(mentor.locator("h1")).to_have_text("Sign off meeting 1")
    agree = mentor.get_by_label("I agree the fellow's Personal Development Plan as it stands")
    agree.check()
    sign(mentor, secret="not my password", status=400)
    expect(mentor).to_have_title(re.compile("^Error: "))
    expect(
        mentor.get_by_role("alert").get_by_text(
            "That is not your password or a current authenticator code. Nothing was signed."
        )
    ).to_be_visible()
    expect(agree).to_be_checked()
    assert meeting_of(year, 1).status == Meeting.Status.SUBMITTED
    with scopes_disabled():
        assert not SignOff.objects.filter(meeting__mentorship=year["mentorship"]).exists()
    sign(mentor, secret=PASSWORD)
    expect(status_message(mentor)).to_contain_text("You signed off meeting 1.")

    # --- The fellow sees it signed, and checks it is intact ----------------------------------
    visit(fellow, fellow.url)
    expect(fellow.get_by_role("heading", name="Signed off and locked")).to_be_visible()
    expect(fellow.get_by_text(meeting_of(year, 1).digest)).to_be_visible()
    expect(fellow.get_by_text("The plan stood agreed when this record was signed.")).to_be_visible()
    click_through(fellow, fellow.get_by_role("link", name="Check that the record is intact"))
    expect(fellow.locator("h1")).to_have_text("Is the record of meeting 1 intact?")
    expect(fellow.get_by_role("heading", name="Intact", exact=True)).to_be_visible()

    # --- Meeting 2: the fellow reviews both milestones ---------------------------------------
    click_through(fellow, fellow.get_by_role("link", name="Back to the record"))
    click_through(fellow, fellow.get_by_role("link", name="Back to the year's meetings"))
    expect(meeting_row(fellow, 1)).to_contain_text("Signed off")
    click_through(fellow, fellow.get_by_role("button", name="Record meeting 2"))
    expect(fellow.locator("h1")).to_have_text("Meeting 2")
    fill_record(fellow, held_on=days_ago(5), discussion="Where the pilot stands.")
    click_through(fellow, fellow.get_by_role("button", name="Save the record"))
    review_milestone(
        fellow,
        FIRST,
        outcome="Achieved",
        comment="Leeds and York signed letters of intent.",
        evidence="https://example.org/letters",
    )
    new_date = timezone.localdate() + timedelta(days=45)
    review_milestone(
        fellow,
        SECOND,
        outcome="Deferred to a new date",
        comment="Waiting for the AHSN's comments.",
        new_date=new_date,
    )
    expect(
        fellow.get_by_text(f"Deferred to a new date, now due {date_format(new_date)}")
    ).to_be_visible()
    send_to_mentor(fellow)

    # --- The mentor signs it and confirms the achieved milestone -----------------------------
    visit(mentor, f"/p/{programme.slug}/meetings/")
    click_through(mentor, mentor.get_by_role("link", name=f"Sign off meeting 2 of {FELLOW_NAME}"))
    click_through(mentor, mentor.get_by_role("link", name="Sign off the record"))
    expect(mentor.locator("h1")).to_have_text("Sign off meeting 2")
    mentor.get_by_label(FIRST).check()
    sign(mentor, secret=PASSWORD)
    expect(status_message(mentor)).to_contain_text("You signed off meeting 2.")
    with scopes_disabled():
        first = Milestone.objects.get(title=FIRST)
        second = Milestone.objects.get(title=SECOND)
    assert first.status == Milestone.Status.ACHIEVED and first.confirmed_at is not None
    assert second.status == Milestone.Status.DEFERRED and second.current_due_on == new_date
    click_through(mentor, mentor.get_by_role("link", name="Back to the year's meetings"))
    milestones = mentor.locator("#milestones + table")
    expect(milestones.get_by_role("row").filter(has_text=FIRST)).to_contain_text("Signed off")
    expect(milestones.get_by_role("row").filter(has_text=SECOND)).to_contain_text("Deferred")
    signed_digest = meeting_of(year, 2).digest

    # --- Staff reopen meeting 2 with a reason ------------------------------------------------
    staff = browser_for(STAFF_EMAIL)
    open_meetings(staff, programme)
    expect(staff.locator("h1")).to_have_text("Meetings: Cohort 2026")
    click_through(
        staff, staff.get_by_role("link", name=re.compile(rf"\(meeting 2 of {FELLOW_NAME}\)"))
    )
    click_through(staff, staff.get_by_role("link", name="Reopen this record (staff)"))
    expect(staff.locator("h1")).to_have_text("Reopen the signed record of meeting 2")
    click_through(staff, staff.get_by_role("button", name="Reopen the record"), status=400)
    expect(staff).to_have_title(re.compile("^Error: "))
    expect(
        staff.get_by_role("alert").get_by_text("Say why the record is being reopened.")
    ).to_be_visible()
    assert meeting_of(year, 2).status == Meeting.Status.SIGNED
    reason = "The review of the protocol gave the wrong date."
    staff.get_by_label("Why is the record being reopened?").fill(reason)
    click_through(staff, staff.get_by_role("button", name="Reopen the record"))
    expect(status_message(staff)).to_contain_text("Meeting 2 is open again.")
    expect(staff.get_by_text(reason).first).to_be_visible()

    # The signed version stays readable.
    click_through(
        staff,
        staff.get_by_role("heading", name="Earlier signed versions")
        .locator("xpath=following-sibling::ul[1]")
        .get_by_role("link"),
    )
    expect(staff.locator("h1")).to_contain_text("Meeting record as signed on")
    expect(staff.get_by_text(signed_digest)).to_be_visible()
    expect(staff.get_by_text(reason)).to_be_visible()
    expect(staff.get_by_text("Where the pilot stands.", exact=True)).to_be_visible()

    # --- The fellow sends it again and the mentor signs it again ----------------------------
    visit(fellow, f"/p/{programme.slug}/meetings/{meeting_of(year, 2).uuid}/")
    expect(fellow.get_by_text("The programme team reopened this record")).to_be_visible()
    send_to_mentor(fellow)
    visit(mentor, f"/p/{programme.slug}/meetings/{meeting_of(year, 2).uuid}/")
    click_through(mentor, mentor.get_by_role("link", name="Sign off the record"))
    mentor.get_by_label(FIRST).check()
    sign(mentor, secret=PASSWORD)
    expect(status_message(mentor)).to_contain_text("You signed off meeting 2.")
    click_through(mentor, mentor.get_by_role("link", name="Check that the record is intact"))
    expect(mentor.get_by_role("heading", name="Intact", exact=True)).to_be_visible()
    expect(mentor.get_by_role("heading", name="Earlier signatures (reopened)")).to_be_visible()
    assert meeting_of(year, 2).status == Meeting.Status.SIGNED

    # --- The fellow downloads the year's record for her Training Programme Director ---------
    open_meetings(fellow, programme)
    with fellow.expect_download() as download_info:
        fellow.get_by_role("link", name="Download the year's record as a PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("meetings-")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_two_people_saving_the_same_draft_are_told(year, browser_for):
    """The fellow and her mentor open the same draft; he saves first; her save is refused with
    what she typed still in the form, and what he saved shown beside it."""
    mentorship, fellow_user = year["mentorship"], year[Role.FELLOW]
    with scope(programme=year["programme"]):
        meeting = meeting_start(mentorship=mentorship, number=1, actor=fellow_user)
        meeting_save(
            meeting=meeting,
            actor=fellow_user,
            data={"held_on": days_ago(60), "format": "video", "discussion": "First notes."},
            version=meeting.version,
        )
    url = f"/p/{year['programme'].slug}/meetings/{meeting.uuid}/"
    fellow = browser_for(FELLOW_EMAIL)
    mentor = browser_for(MENTOR_EMAIL)
    visit(fellow, url)
    visit(mentor, url)

    advice = "Book the DPIA with the trust's IG lead before anything else."
    mentor.get_by_label("The mentor's advice").fill(advice)
    click_through(mentor, mentor.get_by_role("button", name="Save the record"))
    expect(status_message(mentor)).to_contain_text("The record has been saved.")

    mine = "First notes, and what Leeds said about the pilot."
    fellow.get_by_label("What you discussed").fill(mine)
    click_through(fellow, fellow.get_by_role("button", name="Save the record"), status=409)
    callout = fellow.locator("#changed-since")
    expect(callout).to_contain_text("Changed since you opened it")
    expect(callout).to_contain_text(f"{MENTOR_NAME} saved this record")
    expect(callout).to_contain_text(advice)
    expect(fellow.get_by_label("What you discussed")).to_have_value(mine)
    with scopes_disabled():
        assert Meeting.objects.get(pk=meeting.pk).discussion == "First notes."
