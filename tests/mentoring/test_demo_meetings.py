"""seed_demo's meetings (issue #5, item 10): the demo fellow's year with the demo mentor, records
at every stage across the first cohort, and a second run that adds nothing.

Seeding the whole demo takes a while, so this module seeds it once, inside a transaction that
is rolled back when the module ends; each test runs in its own savepoint inside it, as
pytest-django's `db` does, so nothing a test writes reaches the next one."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django_scopes import scopes_disabled

from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, DemoSeeder
from cohort.models import AuditEvent, Programme
from mentoring import records
from mentoring.demo import ENDED_ON, seed_meetings
from mentoring.models import Meeting, Mentorship, Milestone, MilestoneReview, SignOff
from mentoring.selectors import mentorship_rows
from mentoring.services import cohort_windows, meeting_schedule, meeting_url, open_milestones
from notifications.models import Notification, OutboxMessage

# One full demo for the whole module (a minute to seed), on one xdist worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo-meetings")]
COHORT = "Cohort 1 — 2016/17"


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            PITWALL_DEMO_MEETING_YEARS=None,
        ),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


def _demo_mentorship():
    return Mentorship.objects.select_related("cohort", "fellow__user", "mentor__user").get(
        fellow__user__email=FELLOW_EMAIL, ended_on__isnull=True
    )


def _live_sign_off(meeting):
    return meeting.sign_offs.get(kind=SignOff.Kind.MEETING, reopened_at__isnull=True)


def test_the_demo_fellows_year_stands_at_every_stage(unscoped):
    mentorship = _demo_mentorship()
    assert mentorship.mentor.user.email == MENTOR_EMAIL
    schedule = meeting_schedule(mentorship)
    assert [row["state"] for row in schedule] == ["signed", "signed", "submitted", "overdue"]
    assert schedule[3]["meeting"] is None  # never started: its window has closed

    first, second, third = (row["meeting"] for row in schedule[:3])
    for meeting in (first, second):
        assert records.verify(_live_sign_off(meeting)).intact
    # Her PDP was agreed at the first meeting, and its milestones serve her PDP objectives.
    assert first.pdp_agreed
    tied = Milestone.objects.filter(agreed_at=first, objective__isnull=False)
    assert tied.count() >= 2
    assert {m.objective.pdp.fellow_id for m in tied} == {mentorship.fellow_id}

    # Meeting 2 reviewed them: one achieved and signed off in its own right, one partly, one
    # deferred to a later date.
    reviews = {r.outcome: r for r in MilestoneReview.objects.filter(meeting=second)}
    assert set(reviews) == {"achieved", "partly", "deferred"}
    achieved = reviews["achieved"].milestone
    sign_off = SignOff.objects.get(kind=SignOff.Kind.MILESTONE, milestone=achieved)
    assert sign_off.meeting_id == second.pk and records.verify(sign_off).intact
    deferred = reviews["deferred"]
    assert deferred.new_due_on > deferred.milestone.due_on

    # Meeting 3 reviews every open milestone, one of them missed, and waits for the mentor.
    assert third.status == Meeting.Status.SUBMITTED
    reviewed = set(third.reviews.values_list("milestone_id", flat=True))
    assert reviewed == set(open_milestones(third).values_list("pk", flat=True))
    assert third.reviews.filter(outcome="missed").exists()


def test_the_demo_years_dates_fall_in_the_cohorts_windows(unscoped):
    mentorship = _demo_mentorship()
    windows = cohort_windows(mentorship.cohort)
    for meeting in mentorship.meetings.all():
        opens, closes = windows[meeting.number]
        assert opens <= meeting.held_on <= closes
        assert meeting.held_on < meeting.submitted_at.date()
        if meeting.signed_at:
            assert meeting.submitted_at < meeting.signed_at
    # Every meeting of the cohort was held in its year, after the mentorship began.
    for meeting in Meeting.objects.filter(mentorship__cohort__name=COHORT).select_related(
        "mentorship__cohort"
    ):
        cohort = meeting.mentorship.cohort
        assert cohort.starts_on <= meeting.held_on <= cohort.ends_on
        assert meeting.held_on >= meeting.mentorship.started_on


def test_the_demo_mentor_has_a_record_waiting_and_a_mentee_with_one_returned(unscoped):
    mentorships = Mentorship.objects.filter(
        mentor__user__email=MENTOR_EMAIL, cohort__name=COHORT
    ).select_related("cohort", "fellow__user", "mentor__user")
    rows = mentorship_rows(mentorships)
    waiting = [m for row in rows for m in row["waiting"]]
    assert [m.mentorship.fellow.user.email for m in waiting] == [FELLOW_EMAIL]
    assert Notification.objects.filter(
        recipient__email=MENTOR_EMAIL,
        kind="sign_off_request",
        title__contains="meeting 3",
        read_at__isnull=True,
    ).exists()
    returned = Meeting.objects.filter(mentorship__in=mentorships, status="returned")
    assert returned.count() == 1 and returned.get().return_comments


def test_the_cohort_has_meetings_and_milestones_at_every_stage(unscoped):
    meetings = Meeting.objects.filter(mentorship__cohort__name=COHORT)
    assert set(meetings.values_list("status", flat=True)) == {"signed", "submitted", "returned"}
    assert meetings.filter(status="signed").count() > 250
    assert set(MilestoneReview.objects.values_list("outcome", flat=True)) == {
        "achieved",
        "partly",
        "deferred",
        "missed",
    }
    # A handful of fellows missed a milestone; some records were returned, corrected, signed.
    missed = Milestone.objects.filter(status="missed").values("mentorship").distinct()
    assert 3 <= missed.count() <= 10
    assert meetings.filter(status="signed", returned_at__isnull=False).exists()
    # Overdue gaps: a record for meeting 3 but none for meeting 2.
    with_third = set(meetings.filter(number=3).values_list("mentorship_id", flat=True))
    with_second = set(meetings.filter(number=2).values_list("mentorship_id", flat=True))
    assert with_third - with_second
    # Every live signature verifies, and every signed record has its audit trail.
    for sign_off in SignOff.objects.filter(reopened_at__isnull=True):
        assert records.verify(sign_off).intact, sign_off
    signed = {str(u) for u in meetings.filter(status="signed").values_list("uuid", flat=True)}
    audited = set(
        AuditEvent.objects.filter(action="meeting.signed").values_list("target_id", flat=True)
    )
    assert signed <= audited
    # No email about a 2016/17 record is waiting to go out now.
    about_meetings = Notification.objects.filter(
        link__in=[meeting_url(m) for m in meetings.select_related("programme")]
    )
    assert about_meetings.count() > 500
    assert not OutboxMessage.objects.filter(
        notification__in=about_meetings, status="pending"
    ).exists()


def test_one_record_was_reopened_by_staff_with_a_reason_and_signed_again(unscoped):
    earlier = SignOff.objects.get(kind=SignOff.Kind.MEETING, reopened_at__isnull=False)
    reopened = earlier.meeting
    assert reopened.status == Meeting.Status.SIGNED
    assert reopened.reopen_reason.startswith("The meeting date was recorded wrongly")
    assert earlier.reopened_by.email == STAFF_EMAIL
    assert earlier.reopen_reason == reopened.reopen_reason
    # The earlier version is readable as it was signed: a different date, its copy intact.
    assert earlier.content["meeting"]["held_on"] != reopened.held_on.isoformat()
    assert records.verify(earlier).copy_intact
    assert records.verify(_live_sign_off(reopened)).intact
    assert AuditEvent.objects.filter(
        action="meeting.reopened", target_id=str(reopened.uuid)
    ).exists()


def test_the_mentorship_that_ended_keeps_only_its_first_meeting(unscoped):
    ended = Mentorship.objects.get(cohort__name=COHORT, ended_on=ENDED_ON)
    meetings = list(ended.meetings.all())
    assert [(m.number, m.status) for m in meetings] == [(1, "signed")]
    assert records.verify(_live_sign_off(meetings[0])).intact


def test_seeding_the_meetings_again_creates_nothing(unscoped):
    models = [Meeting, Milestone, MilestoneReview, SignOff, AuditEvent, Notification, OutboxMessage]
    before = {model.__name__: model.objects.count() for model in models}
    rows = list(Meeting.objects.order_by("pk").values())
    seeder = DemoSeeder(stdout=io.StringIO())
    seeder.programmes = {p.slug: p for p in Programme.objects.all()}
    seed_meetings(seeder)
    assert {model.__name__: model.objects.count() for model in models} == before
    assert list(Meeting.objects.order_by("pk").values()) == rows


def test_the_accelerators_current_year_has_reminders(unscoped):
    """While the accelerator's demo year is under way, the demo mentor's two mentees there have
    a signed first meeting and the reminders have run; once it is over, the step adds nothing."""
    from django.utils import timezone

    from cohort.models import Cohort

    accel = Programme.objects.get(slug="accel")
    cohort = Cohort.objects.filter(programme=accel).order_by("-starts_on").first()
    mentorships = Mentorship.objects.filter(programme=accel, mentor__user__email=MENTOR_EMAIL)
    reminders = Notification.objects.filter(programme=accel, kind="reminder")
    if not cohort.starts_on <= timezone.localdate() <= cohort.ends_on:
        assert not mentorships.exists() and not reminders.exists()
        return
    assert mentorships.count() == 2
    for mentorship in mentorships:
        first = mentorship.meetings.get(number=1)
        assert first.is_signed and records.verify(_live_sign_off(first)).intact
    assert reminders.filter(recipient__email=MENTOR_EMAIL).exists()
    assert reminders.filter(
        recipient__email="staff@accel.example", title__contains="no record"
    ).exists()
