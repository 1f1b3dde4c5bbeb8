"""The meeting pages in the browser's shoes (Django's test client): each workflow step, each
bad input of issue #5 answered with a clear message and nothing lost or changed, and lists
whose query count does not grow with the number of mentorships."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from cohort.models import AuditEvent, Role
from mentoring.models import Meeting, Milestone, SignOff

from ..factories import (
    PASSWORD,
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    UserFactory,
)
from .conftest import behind_the_services_back, days_ago

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"mentoring:{name}", kwargs={"programme_slug": "alpha", **kwargs})


def fresh(meeting):
    with scopes_disabled():
        return Meeting.objects.get(pk=meeting.pk)


def record_post(meeting, **changes):
    return {
        "version": meeting.version,
        "held_on": days_ago(70).isoformat(),
        "format": "video",
        "discussion": "We planned the pilot with the trust.",
        "fellow_reflection": "Evaluation first.",
        "mentor_advice": "Talk to the AHSN.",
        **changes,
    }


def test_the_fellow_records_a_meeting_and_the_mentor_signs_it(
    client_for, journey, mentorship, mentor_a
):
    client = client_for(journey.fellow)
    year = client.get(url("mentorship_year", mentorship_uuid=mentorship.uuid))
    assert "Meeting 1" in year.text and "Overdue" in year.text
    started = client.post(url("meeting_start", mentorship_uuid=mentorship.uuid, number=1))
    with scopes_disabled():
        meeting = Meeting.objects.get(mentorship=mentorship, number=1)
    assert started.url == url("meeting", meeting_uuid=meeting.uuid)

    saved = client.post(url("meeting_edit", meeting_uuid=meeting.uuid), record_post(meeting))
    assert saved.status_code == 302
    added = client.post(
        url("milestone_add", meeting_uuid=meeting.uuid),
        {
            "title": "Book the DTAC assessment",
            "due_on": (days_ago(-40)).isoformat(),
            "measure": "A date with the trust's IG lead",
        },
    )
    assert added.status_code == 302
    page = client.get(url("meeting", meeting_uuid=meeting.uuid))
    assert "Book the DTAC assessment" in page.text
    assert "The record is complete" in page.text
    client.post(url("meeting_submit", meeting_uuid=meeting.uuid))
    assert fresh(meeting).status == Meeting.Status.SUBMITTED

    mentor = client_for(mentor_a)
    sign_page = mentor.get(url("meeting_sign", meeting_uuid=meeting.uuid))
    assert sign_page.status_code == 200 and "We planned the pilot" in sign_page.text
    wrong = mentor.post(url("meeting_sign", meeting_uuid=meeting.uuid), {"secret": "nope"})
    assert wrong.status_code == 400
    assert "That is not your password" in wrong.text
    assert fresh(meeting).status == Meeting.Status.SUBMITTED
    signed = mentor.post(url("meeting_sign", meeting_uuid=meeting.uuid), {"secret": PASSWORD})
    assert signed.status_code == 302
    meeting = fresh(meeting)
    assert meeting.status == Meeting.Status.SIGNED and len(meeting.digest) == 64

    verify = client_for(journey.fellow).get(url("meeting_verify", meeting_uuid=meeting.uuid))
    assert "Intact" in verify.text and meeting.digest in verify.text
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action="meeting.verified", target_id=str(meeting.uuid), changes__intact=True
        ).exists()


def test_a_date_outside_the_cohort_keeps_what_was_typed(client_for, journey, year_cohort):
    meeting = journey.draft(1, milestones=0)
    text = "A long account of the meeting that must not be lost."
    response = client_for(journey.fellow).post(
        url("meeting_edit", meeting_uuid=meeting.uuid),
        record_post(
            meeting,
            held_on=(year_cohort.starts_on - timedelta(days=3)).isoformat(),
            discussion=text,
        ),
    )
    assert response.status_code == 400
    assert "must fall within" in response.text and text in response.text
    assert fresh(meeting).discussion != text


def test_someone_elses_save_in_between_is_reported_and_the_text_kept(client_for, journey):
    meeting = journey.draft(1, milestones=0)
    opened = fresh(meeting)
    mentor = client_for(journey.mentor)
    mentor.post(
        url("meeting_edit", meeting_uuid=meeting.uuid),
        record_post(opened, discussion="The account, as the mentor saved it first."),
    )
    fellow = client_for(journey.fellow)
    mine = "The words of the fellow, typed at the same time."
    response = fellow.post(
        url("meeting_edit", meeting_uuid=meeting.uuid), record_post(opened, discussion=mine)
    )
    assert response.status_code == 409
    assert "Changed since you opened it" in response.text
    assert mine in response.text  # still in the form
    assert "The account, as the mentor saved it first." in response.text  # what is saved now
    assert fresh(meeting).discussion == "The account, as the mentor saved it first."
    # Saving again, knowingly, replaces it.
    again = fellow.post(
        url("meeting_edit", meeting_uuid=meeting.uuid),
        record_post(fresh(meeting), discussion=mine),
    )
    assert again.status_code == 302 and fresh(meeting).discussion == mine
    # The mentor's own advice was never in the fellow's form, so it is untouched.
    assert fresh(meeting).mentor_advice == "Talk to the AHSN."


def test_submitting_with_a_milestone_unreviewed_says_so(client_for, journey):
    journey.signed(1, held_days_ago=75)
    second = journey.draft(2, held_days_ago=5, milestones=0)
    client = client_for(journey.fellow)
    response = client.post(url("meeting_submit", meeting_uuid=second.uuid), follow=True)
    assert "The record has not been sent: Review the milestone “Milestone 1.1”." in response.text
    assert fresh(second).status == Meeting.Status.DRAFT


def test_a_signed_record_cannot_be_edited_by_a_crafted_post(client_for, journey):
    meeting = journey.signed(1)
    before = (meeting.discussion, meeting.digest, meeting.version)
    client = client_for(journey.fellow)
    attempts = [
        (url("meeting_edit", meeting_uuid=meeting.uuid), record_post(meeting, discussion="x")),
        (
            url("milestone_add", meeting_uuid=meeting.uuid),
            {"title": "x", "due_on": days_ago(-9).isoformat(), "measure": "x"},
        ),
        (url("meeting_submit", meeting_uuid=meeting.uuid), {}),
    ]
    with scopes_disabled():
        milestone = Milestone.objects.get(agreed_at=meeting)
    attempts.append((url("milestone_remove", milestone_uuid=milestone.uuid), {}))
    for target, data in attempts:
        response = client.post(target, data, follow=True)
        assert response.status_code == 200, target
        assert "signed off and locked" in response.text, target
    meeting = fresh(meeting)
    assert (meeting.discussion, meeting.digest, meeting.version) == before
    with scopes_disabled():
        assert Milestone.objects.filter(agreed_at=meeting).count() == 1


def test_signing_as_someone_who_is_not_the_mentor(client_for, journey, programme_a, staff_a):
    meeting = journey.draft(1)
    journey.submit(meeting)
    other = UserFactory()
    MembershipFactory(programme=programme_a, user=other, role=Role.MENTOR)
    MentorFactory(programme=programme_a, user=other)
    sign = url("meeting_sign", meeting_uuid=meeting.uuid)
    assert client_for(journey.fellow).post(sign, {"secret": PASSWORD}).status_code == 403
    assert client_for(staff_a).post(sign, {"secret": PASSWORD}).status_code == 403
    # Another mentor of the programme does not even learn the record exists.
    assert client_for(other).post(sign, {"secret": PASSWORD}).status_code == 404
    assert fresh(meeting).status == Meeting.Status.SUBMITTED
    with scopes_disabled():
        assert not SignOff.objects.exists()


def test_a_fifth_meeting_by_url_is_refused_with_a_message(client_for, journey, mentorship):
    response = client_for(journey.fellow).post(
        url("meeting_start", mentorship_uuid=mentorship.uuid, number=5), follow=True
    )
    assert "There is no meeting 5: the programme holds 4 meetings a year." in response.text
    with scopes_disabled():
        assert not Meeting.objects.exists()


def test_another_fellow_cannot_reach_the_records(client_for, journey, programme_a):
    meeting = journey.signed(1)
    other = UserFactory()
    MembershipFactory(programme=programme_a, user=other, role=Role.FELLOW)
    FellowFactory(programme=programme_a, user=other)
    client = client_for(other)
    for name in ["meeting", "meeting_verify", "meeting_history"]:
        assert client.get(url(name, meeting_uuid=meeting.uuid)).status_code == 404
    assert (
        client.get(url("mentorship_year", mentorship_uuid=journey.mentorship.uuid)).status_code
        == 404
    )


def test_staff_reopen_with_a_reason_and_read_the_audit_trail(client_for, journey, staff_a):
    meeting = journey.signed(1)
    staff = client_for(staff_a)
    reopen = url("meeting_reopen", meeting_uuid=meeting.uuid)
    empty = staff.post(reopen, {"reason": "  "})
    assert empty.status_code == 400 and "Say why the record is being reopened." in empty.text
    assert fresh(meeting).is_signed
    assert client_for(journey.mentor).post(reopen, {"reason": "x"}).status_code == 403
    staff = client_for(staff_a)
    done = staff.post(reopen, {"reason": "The date was recorded wrongly."}, follow=True)
    assert "needs a fresh sign-off" in done.text
    assert fresh(meeting).status == Meeting.Status.DRAFT
    page = client_for(journey.fellow).get(url("meeting", meeting_uuid=meeting.uuid))
    assert "The date was recorded wrongly." in page.text and "Earlier signed versions" in page.text
    with scopes_disabled():
        earlier = SignOff.objects.get(meeting=meeting)
    version = client_for(journey.fellow).get(url("sign_off", sign_off_uuid=earlier.uuid))
    assert earlier.digest in version.text and "We discussed" not in version.text
    trail = client_for(staff_a).get(url("meeting_history", meeting_uuid=meeting.uuid))
    for action in ["meeting.started", "meeting.submitted", "meeting.signed", "meeting.reopened"]:
        assert action in trail.text
    assert (
        client_for(journey.fellow)
        .get(url("meeting_history", meeting_uuid=meeting.uuid))
        .status_code
        == 403
    )


def test_verify_says_when_a_record_was_altered(client_for, journey):
    meeting = journey.signed(1)
    with scopes_disabled(), behind_the_services_back():
        Meeting.objects.filter(pk=meeting.pk).update(discussion="Altered")
    page = client_for(journey.fellow).get(url("meeting_verify", meeting_uuid=meeting.uuid))
    assert "Not intact" in page.text and "meeting.discussion" in page.text


def test_staff_change_a_cohorts_windows_with_clear_errors(client_for, staff_a, year_cohort):
    client = client_for(staff_a)
    target = url("meeting_windows", cohort_uuid=year_cohort.uuid)
    page = client.get(target)
    assert page.status_code == 200 and "Meeting 4" in page.text
    data = {}
    for field in page.context["form"]:
        data[field.name] = field.value().isoformat()
    data["closes_2"] = (year_cohort.ends_on + timedelta(days=10)).isoformat()
    bad = client.post(target, data)
    assert bad.status_code == 400 and "inside the cohort" in bad.text
    data["closes_2"] = page.context["form"]["closes_2"].value().isoformat()
    data["opens_1"] = (year_cohort.starts_on + timedelta(days=5)).isoformat()
    good = client.post(target, data)
    assert good.status_code == 302
    cohorts = client.get(reverse("cohort:cohorts", kwargs={"programme_slug": "alpha"}))
    assert "(set by staff)" in cohorts.text


def _more_mentorships(programme, mentor_user, cohort, count):
    mentor = mentor_user.mentor_profiles.get()
    for _ in range(count):
        fellow = FellowFactory(programme=programme, cohort=cohort)
        MentorshipFactory(fellow=fellow, mentor=mentor, cohort=cohort, started_on=cohort.starts_on)


@pytest.mark.parametrize("page", ["mentees", "meetings_overview"])
def test_meeting_lists_run_the_same_queries_for_few_or_many(
    client_for, journey, programme_a, mentor_a, staff_a, year_cohort, page
):
    journey.signed(1)
    viewer = mentor_a if page == "mentees" else staff_a
    client = client_for(viewer)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(page)).status_code == 200
        return len(queries)

    few = count()
    with scopes_disabled():
        _more_mentorships(programme_a, mentor_a, year_cohort, 5)
    assert count() == few


def test_home_pages_show_the_meetings(client_for, journey, mentor_a, staff_a):
    meeting = journey.draft(1)
    journey.submit(meeting)
    home = reverse("cohort:home", kwargs={"programme_slug": "alpha"})
    fellow_home = client_for(journey.fellow).get(home)
    assert "Your meetings" in fellow_home.text and "waiting for" in fellow_home.text
    mentor_home = client_for(mentor_a).get(home)
    assert "1 meeting record waiting for your sign-off" in mentor_home.text
    assert url("meeting", meeting_uuid=meeting.uuid) in mentor_home.text
    staff_home = client_for(staff_a).get(home)
    assert "1 meeting record waiting for a mentor" in staff_home.text


def test_guessing_the_password_to_sign_is_throttled(client_for, journey):
    meeting = journey.draft(1)
    journey.submit(meeting)
    client = client_for(journey.mentor)
    sign = url("meeting_sign", meeting_uuid=meeting.uuid)
    statuses = [client.post(sign, {"secret": f"guess-{n}"}).status_code for n in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    # Even the right password waits now; nothing was signed.
    assert client.post(sign, {"secret": PASSWORD}).status_code == 429
    assert fresh(meeting).status == Meeting.Status.SUBMITTED


def test_adding_a_milestone_does_not_make_open_text_stale(client_for, journey):
    meeting = journey.draft(1, milestones=0)
    opened = fresh(meeting)
    client_for(journey.mentor).post(
        url("milestone_add", meeting_uuid=meeting.uuid),
        {"title": "Meet the AHSN", "due_on": days_ago(-20).isoformat(), "measure": "A meeting"},
    )
    saved = client_for(journey.fellow).post(
        url("meeting_edit", meeting_uuid=meeting.uuid),
        record_post(opened, discussion="Still mine"),
    )
    assert saved.status_code == 302 and fresh(meeting).discussion == "Still mine"


def test_a_record_left_waiting_when_the_mentorship_ended_is_not_offered_for_sign_off(
    client_for, journey, mentorship
):
    """Found by the load benchmark: the mentees page offered "Sign off meeting 1" for a
    mentorship that had ended, and signing answered a bare 403. Now the page says why it
    cannot be signed and a stale link to sign or return it explains instead of refusing."""
    meeting = journey.draft(1)
    journey.submit(meeting)
    with scopes_disabled():
        type(mentorship).objects.filter(pk=mentorship.pk).update(ended_on=days_ago(1))
    mentor = client_for(journey.mentor)

    mentees = mentor.get(url("mentees")).text
    assert "Sign off meeting 1" not in mentees
    assert "was sent to you before the mentorship ended and can no longer be signed off" in mentees
    assert "waiting for your sign-off" not in mentees

    sign = url("meeting_sign", meeting_uuid=meeting.uuid)
    for response in (
        mentor.get(sign, follow=True),
        mentor.post(sign, {"secret": PASSWORD}, follow=True),
        mentor.post(
            url("meeting_return", meeting_uuid=meeting.uuid), {"comments": "Fix"}, follow=True
        ),
    ):
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == url("meeting", meeting_uuid=meeting.uuid)
        assert "This mentorship has ended, so its records stay as they are" in response.text
    assert fresh(meeting).status == Meeting.Status.SUBMITTED
    with scopes_disabled():
        assert not SignOff.objects.exists()
