"""Meeting reminders and staff alerts (issue #5 item 6): each rule fires on its day and not
before, reaches the right people, and is sent once however often the daily job runs. Every run
names its `today`, counted from the cohort's own meeting windows."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow, Role
from mentoring import services
from mentoring.models import MeetingReminder
from mentoring.services import (
    cohort_windows,
    meeting_reminders_send,
    meeting_return,
    meeting_start,
    meeting_submit,
    meeting_url,
)
from mentoring.tasks import meeting_reminders_daily
from notifications.models import Delivery, Kind, Notification, OutboxMessage
from notifications.services import preference_set

from ..factories import (
    CohortFactory,
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def run(programme, today):
    with scope(programme=programme):
        return meeting_reminders_send(programme=programme, today=today)


def only(**sent):
    """The counts a run returns: these, and nothing of the other kinds."""
    return {"due_soon": 0, "overdue": 0, "sign_off_waiting": 0, "staff_alert": 0, **sent}


def reminders_to(user) -> list[Notification]:
    with scopes_disabled():
        return list(Notification.objects.filter(recipient=user, kind=Kind.REMINDER).order_by("pk"))


def titles_to(user) -> list[str]:
    return [n.title for n in reminders_to(user)]


def year_link(mentorship):
    return reverse(
        "mentoring:mentorship_year",
        kwargs={"programme_slug": mentorship.programme.slug, "mentorship_uuid": mentorship.uuid},
    )


def more_mentorships(cohort, count) -> list:
    """Fellows of the cohort, each with a mentor of their own from the start of the year."""
    return [
        MentorshipFactory(
            fellow=FellowFactory(programme=cohort.programme, cohort=cohort),
            mentor=MentorFactory(programme=cohort.programme),
            started_on=cohort.starts_on,
        )
        for _ in range(count)
    ]


@pytest.fixture
def windows(programme_a, year_cohort):
    with scope(programme=programme_a):
        return cohort_windows(year_cohort)


@pytest.fixture
def closes(windows):
    """The day the first meeting's window closes (a month into the year)."""
    return windows[1][1]


def test_due_soon_reaches_fellow_and_mentor_14_days_before_the_window_closes(
    programme_a, mentorship, closes, fellow_a, mentor_a, staff_a
):
    assert run(programme_a, closes - timedelta(days=15)) == only()
    assert run(programme_a, closes - timedelta(days=14)) == only(due_soon=1)
    due = date_format(closes)
    assert due == f"{closes.day} {closes:%B %Y}"  # UK order: 28 February 2027
    assert titles_to(fellow_a) == [f"Meeting 1 with {mentor_a.display_name} is due by {due}"]
    assert titles_to(mentor_a) == [f"Meeting 1 with {fellow_a.display_name} is due by {due}"]
    assert titles_to(staff_a) == []
    # No record yet: the reminder leads to the mentorship's year, where the record is started.
    assert {n.link for n in reminders_to(fellow_a) + reminders_to(mentor_a)} == {
        year_link(mentorship)
    }
    # Later days of the fortnight, the closing day included, send nothing new.
    for days_left in (13, 3, 0):
        assert run(programme_a, closes - timedelta(days=days_left)) == only()
    assert len(reminders_to(fellow_a)) == 1
    with scopes_disabled():
        assert list(MeetingReminder.objects.values_list("kind", "key")) == [("due_soon", "1")]


def test_overdue_the_day_after_the_window_closes_once_per_meeting(
    programme_a, mentorship, closes, fellow_a, mentor_a, staff_a
):
    assert run(programme_a, closes)["overdue"] == 0  # the closing day is still in time
    assert run(programme_a, closes + timedelta(days=1)) == only(overdue=1)
    assert run(programme_a, closes + timedelta(days=1)) == only()
    assert run(programme_a, closes + timedelta(days=5)) == only()
    overdue = f"is overdue: it was due by {date_format(closes)}"
    assert titles_to(fellow_a)[-1] == f"Meeting 1 with {mentor_a.display_name} {overdue}"
    assert titles_to(mentor_a)[-1] == f"Meeting 1 with {fellow_a.display_name} {overdue}"
    assert [t for t in titles_to(fellow_a) if "overdue" in t] == [titles_to(fellow_a)[-1]]
    assert titles_to(staff_a) == []  # staff hear only after the programme's alert days


def test_a_draft_or_returned_record_is_still_overdue_and_the_reminder_leads_to_it(
    programme_a, journey, closes, fellow_a, mentor_a
):
    meeting = journey.draft(1)
    journey.review_all(meeting)
    journey.submit(meeting)
    with scope(programme=programme_a):
        meeting_return(meeting=meeting, actor=mentor_a, comments="Add what we agreed on funding.")
    assert run(programme_a, closes + timedelta(days=1)) == only(overdue=1)
    with scopes_disabled():
        link = meeting_url(meeting)
    assert [n.link for n in reminders_to(fellow_a) + reminders_to(mentor_a)] == [link, link]


def test_a_submitted_or_signed_meeting_is_neither_overdue_nor_alerted(
    programme_a, journey, windows, staff_a, fellow_a
):
    journey.signed(1)
    second = journey.draft(2, held_days_ago=3)
    journey.review_all(second)
    journey.submit(second)
    # Both windows closed long ago: only the mentor's sign-off of meeting 2 is owed.
    today = windows[2][1] + timedelta(days=30)
    assert run(programme_a, today) == only(sign_off_waiting=1)
    assert titles_to(fellow_a) == []
    assert titles_to(staff_a) == []


def test_the_mentor_is_reminded_of_a_record_waiting_more_than_a_week_once_per_submission(
    programme_a, journey, fellow_a, mentor_a
):
    meeting = journey.draft(1)
    journey.review_all(meeting)
    with scope(programme=programme_a):
        meeting = meeting_submit(
            meeting=meeting, actor=fellow_a, now=timezone.now() - timedelta(days=20)
        )
    submitted_on = timezone.localdate(meeting.submitted_at)
    assert run(programme_a, submitted_on + timedelta(days=7))["sign_off_waiting"] == 0
    assert run(programme_a, submitted_on + timedelta(days=8))["sign_off_waiting"] == 1
    assert run(programme_a, submitted_on + timedelta(days=9))["sign_off_waiting"] == 0
    waiting = f"The record of meeting 1 with {fellow_a.display_name} is waiting for your sign-off"
    assert [n.title for n in reminders_to(mentor_a) if "sign-off" in n.title] == [waiting]
    assert not any("sign-off" in t for t in titles_to(fellow_a))
    with scopes_disabled():
        assert reminders_to(mentor_a)[-1].link == meeting_url(meeting)

    # Returned, then submitted again today: a week later the mentor is reminded again.
    with scope(programme=programme_a):
        meeting_return(meeting=meeting, actor=mentor_a, comments="Say who you spoke to.")
        meeting = meeting_submit(meeting=meeting, actor=fellow_a)
    resubmitted_on = timezone.localdate(meeting.submitted_at)
    assert run(programme_a, resubmitted_on + timedelta(days=7))["sign_off_waiting"] == 0
    assert run(programme_a, resubmitted_on + timedelta(days=8))["sign_off_waiting"] == 1
    assert [n.title for n in reminders_to(mentor_a) if "sign-off" in n.title] == [waiting] * 2
    with scopes_disabled():
        keys = set(MeetingReminder.objects.filter(kind="sign_off_waiting").values_list("key"))
    assert keys == {
        (f"{meeting.uuid}:{submitted_on.isoformat()}",),
        (f"{meeting.uuid}:{resubmitted_on.isoformat()}",),
    }


def test_staff_are_alerted_the_day_after_the_programmes_alert_days(
    programme_a, mentorship, closes, staff_a, staff_b, fellow_a, mentor_a, year_cohort
):
    other_staff = UserFactory(email="staff2@alpha.example")
    MembershipFactory(programme=programme_a, user=other_staff, role=Role.STAFF)
    assert run(programme_a, closes + timedelta(days=21)) == only(overdue=1)
    assert run(programme_a, closes + timedelta(days=22)) == only(staff_alert=1)
    assert run(programme_a, closes + timedelta(days=40)) == only()
    title = (
        f"{fellow_a.display_name} and {mentor_a.display_name} have no record of meeting 1, "
        f"due by {date_format(closes)}"
    )
    assert titles_to(staff_a) == [title]
    assert titles_to(other_staff) == [title]
    assert titles_to(staff_b) == []  # another programme's staff hear nothing of it
    assert not any(t == title for t in titles_to(fellow_a) + titles_to(mentor_a))
    overview = reverse("mentoring:meetings_overview", kwargs={"programme_slug": "alpha"})
    assert reminders_to(staff_a)[0].link == (f"{overview}?cohort={year_cohort.uuid}&state=overdue")


def test_the_staff_alert_follows_the_programmes_meeting_alert_days(
    programme_a, mentorship, closes, staff_a
):
    programme_a.meeting_alert_days = 10
    programme_a.save(update_fields=["meeting_alert_days"])
    assert run(programme_a, closes + timedelta(days=10))["staff_alert"] == 0
    assert run(programme_a, closes + timedelta(days=11))["staff_alert"] == 1
    assert len(titles_to(staff_a)) == 1


def test_an_alert_with_no_staff_to_hear_it_waits_for_the_first_to_join(
    programme_a, mentorship, closes
):
    assert run(programme_a, closes + timedelta(days=22)) == only(overdue=1)
    staff = UserFactory(email="newstaff@alpha.example")
    MembershipFactory(programme=programme_a, user=staff, role=Role.STAFF)
    assert run(programme_a, closes + timedelta(days=23)) == only(staff_alert=1)
    assert len(titles_to(staff)) == 1


def test_an_ended_mentorship_is_left_alone(programme_a, mentorship, closes, staff_a):
    with scopes_disabled():
        mentorship.ended_on = closes - timedelta(days=20)
        mentorship.save(update_fields=["ended_on"])
    for days in (-14, 1, 30):
        assert run(programme_a, closes + timedelta(days=days)) == only()
    with scopes_disabled():
        assert not MeetingReminder.objects.exists()
        assert not Notification.objects.filter(kind=Kind.REMINDER).exists()


def test_a_finished_year_is_reminded_about_until_its_last_alert_and_no_longer(
    programme_a, mentorship, year_cohort, staff_a
):
    """The last window closes with the year, so its staff alert is due alert days + 1 after
    it; reminders run a week past that, then stop."""
    ends = year_cohort.ends_on
    assert run(programme_a, ends + timedelta(days=365 * 3)) == only()
    assert run(programme_a, ends + timedelta(days=21 + 7 + 1)) == only()
    assert run(programme_a, ends + timedelta(days=21 + 7)) == only(overdue=4, staff_alert=4)


def test_email_goes_out_for_people_who_want_reminders_immediately(
    programme_a, mentorship, closes, fellow_a, mentor_a
):
    with scope(programme=programme_a):
        preference_set(
            programme=programme_a, user=fellow_a, kind=Kind.REMINDER, delivery=Delivery.IN_APP
        )
    assert run(programme_a, closes - timedelta(days=14)) == only(due_soon=1)
    with scopes_disabled():
        outbox = list(OutboxMessage.objects.filter(kind=Kind.REMINDER))
    # The mentor keeps the default (straight away); the fellow chose to see it in Pitwall only.
    assert [(m.recipient, m.to_email) for m in outbox] == [(mentor_a, mentor_a.email)]
    assert f"Meeting 1 with {fellow_a.display_name} is due by" in outbox[0].subject
    assert outbox[0].status == OutboxMessage.Status.PENDING
    assert len(reminders_to(fellow_a)) == len(reminders_to(mentor_a)) == 1


def test_a_run_that_read_before_another_committed_sends_nothing_twice(
    programme_a, mentorship, closes, staff_a, fellow_a, monkeypatch
):
    today = closes + timedelta(days=22)
    assert run(programme_a, today) == only(overdue=1, staff_alert=1)
    with scopes_disabled():
        before = (Notification.objects.count(), OutboxMessage.objects.count())
    # As if this run read the sent reminders just before the first run committed them: the
    # unique constraint refuses each one and the run carries on.
    monkeypatch.setattr(services, "_reminders_sent", lambda **kwargs: set())
    assert run(programme_a, today) == only()
    with scopes_disabled():
        assert (Notification.objects.count(), OutboxMessage.objects.count()) == before
        assert MeetingReminder.objects.count() == 2


@pytest.mark.postgresql  # a true race needs two connections to a real server
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(
    programme_a, year_cohort, closes, staff_a, monkeypatch
):
    more_mentorships(year_cohort, 3)
    runs = 2
    both_read = threading.Barrier(runs, timeout=10)
    read = services._reminders_sent

    def read_then_wait(**kwargs):
        sent = read(**kwargs)
        both_read.wait()  # neither has sent anything yet: both try every reminder
        return sent

    monkeypatch.setattr(services, "_reminders_sent", read_then_wait)
    send, attempts = services._reminder_send, []

    def send_and_count(**kwargs):
        attempts.append(send(**kwargs))
        return attempts[-1]

    monkeypatch.setattr(services, "_reminder_send", send_and_count)
    results, errors = [], []

    def one_run():
        try:
            results.append(run(programme_a, closes + timedelta(days=22)))
        except Exception as error:  # reported below rather than lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and not any(t.is_alive() for t in threads)
    total = {kind: sum(r[kind] for r in results) for kind in only()}
    assert total == only(overdue=3, staff_alert=3)
    # Both runs tried all six; the unique constraint let one of each pair through.
    assert sorted(attempts) == [False] * 6 + [True] * 6
    with scopes_disabled():
        assert MeetingReminder.objects.count() == 6
        # Each overdue reminder to a fellow and a mentor, each alert to the one staff member.
        assert Notification.objects.filter(kind=Kind.REMINDER).count() == 3 * 2 + 3


def test_the_reads_of_a_run_do_not_grow_with_the_number_of_mentorships(
    programme_a, year_cohort, closes, staff_a
):
    def add_mentorships(count):
        for mentorship in more_mentorships(year_cohort, count):
            with scope(programme=programme_a):  # a record to link to, for meeting_url
                meeting_start(mentorship=mentorship, number=1, actor=mentorship.fellow.user)

    def queries(today) -> int:
        with CaptureQueriesContext(connection) as context:
            sent = run(programme_a, today)
        assert sent == only()
        return len(context)

    quiet_day = year_cohort.starts_on + timedelta(days=1)  # nothing due yet
    late = closes + timedelta(days=30)

    add_mentorships(2)
    run(programme_a, late)  # sends each its overdue reminder and alert
    two = (queries(quiet_day), queries(late))
    add_mentorships(4)
    run(programme_a, late)
    six = (queries(quiet_day), queries(late))
    assert two == six
    # Mentorships, windows, meetings, reminders sent, staff: five reads for any number.
    assert six == (5, 5)


def test_the_daily_task_runs_each_programme_in_its_own_scope(
    programme_a, programme_b, mentorship, staff_a, staff_b, fellow_b, settings
):
    starts = timezone.localdate() - timedelta(days=80)
    cohort_b = CohortFactory(
        programme=programme_b, starts_on=starts, ends_on=starts + timedelta(days=364)
    )
    with scopes_disabled():
        fellow = Fellow.objects.get(user=fellow_b)
        fellow.cohort = cohort_b
        fellow.save()
        mentorship_b = MentorshipFactory(
            fellow=fellow, mentor=MentorFactory(programme=programme_b), started_on=starts
        )
    # Eighty days in, the first meeting (due within the first month) is overdue and past the
    # programme's 21 days: both programmes owe an overdue reminder and a staff alert.
    assert meeting_reminders_daily.apply().get() == only(overdue=2, staff_alert=2)
    with scopes_disabled():
        assert sorted(
            MeetingReminder.objects.values_list("programme__slug", "mentorship", "kind")
        ) == [
            ("alpha", mentorship.pk, "overdue"),
            ("alpha", mentorship.pk, "staff_alert"),
            ("bravo", mentorship_b.pk, "overdue"),
            ("bravo", mentorship_b.pk, "staff_alert"),
        ]
    assert [n.programme_id for n in reminders_to(staff_b)] == [programme_b.pk]
    assert fellow_b.display_name in titles_to(staff_b)[0]
    assert meeting_reminders_daily.apply().get() == only()

    beat = settings.CELERY_BEAT_SCHEDULE["meeting-reminders"]
    assert beat["task"] == meeting_reminders_daily.name == "mentoring.tasks.meeting_reminders_daily"
    assert (beat["schedule"].hour, beat["schedule"].minute) == ({7}, {30})
    assert settings.CELERY_TIMEZONE == "Europe/London"
