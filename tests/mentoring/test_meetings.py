"""The year's meetings (issue #5): windows, drafting, milestones, the sign-off workflow, the
lock and digest of a signed record, staff reopening, and the concurrency guard."""

import hashlib
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent
from mentoring import records
from mentoring.models import Meeting, MeetingWindow, Milestone, MilestoneReview, SignOff
from mentoring.services import (
    StaleEdit,
    cohort_windows,
    meeting_reopen,
    meeting_return,
    meeting_save,
    meeting_schedule,
    meeting_sign,
    meeting_start,
    meeting_submit,
    meeting_windows_save,
    milestone_sign,
    open_milestones,
    review_save,
)
from notifications.models import Notification

from ..factories import PASSWORD, MembershipFactory, MentorFactory, UserFactory
from .conftest import RECORD, behind_the_services_back, days_ago

pytestmark = pytest.mark.django_db


def test_the_year_has_the_programmes_number_of_meetings_with_states(journey, year_cohort):
    with scopes_disabled():
        rows = meeting_schedule(journey.mentorship)
    assert [r["number"] for r in rows] == [1, 2, 3, 4]
    # The first window (the year's first month) has closed: overdue, and it is next.
    assert rows[0]["state"] == "overdue" and rows[0]["is_next"]
    assert rows[0]["closes_on"] == year_cohort.starts_on + timedelta(days=30)
    assert {r["state"] for r in rows[1:]} <= {"due", "upcoming"}


def test_staff_adjust_a_cohorts_windows_within_its_year(programme_a, staff_a, year_cohort):
    with scope(programme=programme_a):
        derived = cohort_windows(year_cohort)
        opens = year_cohort.starts_on + timedelta(days=7)
        meeting_windows_save(
            cohort=year_cohort,
            actor=staff_a,
            windows={**derived, 1: (opens, opens + timedelta(days=40))},
        )
        assert cohort_windows(year_cohort)[1] == (opens, opens + timedelta(days=40))
        assert MeetingWindow.objects.filter(cohort=year_cohort).count() == 1  # only the change
        assert AuditEvent.objects.filter(action="meeting_windows.changed").exists()
        with pytest.raises(ValidationError) as error:
            meeting_windows_save(
                cohort=year_cohort,
                actor=staff_a,
                windows={
                    **derived,
                    2: (year_cohort.ends_on, year_cohort.ends_on + timedelta(days=5)),
                    3: (derived[3][1], derived[3][0]),
                },
            )
        assert "inside the cohort's year" in str(error.value.message_dict["opens_2"])
        assert "close after it opens" in str(error.value.message_dict["closes_3"])
        # Nothing of the refused change was kept.
        assert cohort_windows(year_cohort)[2] == derived[2]


def test_a_fifth_meeting_is_refused_when_the_programme_holds_four(programme_a, journey):
    with scope(programme=programme_a), pytest.raises(ValidationError) as error:
        meeting_start(mentorship=journey.mentorship, number=5, actor=journey.fellow)
    assert "holds 4 meetings a year" in str(error.value)
    with scopes_disabled():
        assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("held_on", "message"),
    [
        (lambda c: c.starts_on - timedelta(days=1), "must fall within"),
        (lambda c: timezone.localdate() + timedelta(days=1), "cannot be in the future"),
    ],
)
def test_a_meeting_date_outside_the_cohort_is_refused(
    programme_a, journey, year_cohort, held_on, message
):
    with scope(programme=programme_a):
        meeting = meeting_start(mentorship=journey.mentorship, number=1, actor=journey.fellow)
        with pytest.raises(ValidationError) as error:
            meeting_save(
                meeting=meeting,
                actor=journey.fellow,
                data={**RECORD, "held_on": held_on(year_cohort)},
                version=meeting.version,
            )
        assert message in str(error.value.message_dict["held_on"])
        meeting.refresh_from_db()
        assert meeting.discussion == "" and meeting.version == 1


def test_two_editors_never_silently_overwrite_each_other(programme_a, journey):
    with scope(programme=programme_a):
        meeting = meeting_start(mentorship=journey.mentorship, number=1, actor=journey.fellow)
        opened_at = meeting.version  # both open the draft
        meeting_save(
            meeting=meeting,
            actor=journey.mentor,
            data={"discussion": "Mentor's words"},
            version=opened_at,
        )
        with pytest.raises(StaleEdit) as stale:
            meeting_save(
                meeting=meeting,
                actor=journey.fellow,
                data={"discussion": "Fellow's words"},
                version=opened_at,
            )
        assert stale.value.current.discussion == "Mentor's words"
        meeting.refresh_from_db()
        assert meeting.discussion == "Mentor's words"


def test_submitting_needs_every_open_milestone_reviewed(programme_a, journey):
    first = journey.signed(1, held_days_ago=75, milestones=2)
    assert first.status == Meeting.Status.SIGNED
    second = journey.draft(2, held_days_ago=5, milestones=0)
    with scope(programme=programme_a):
        with pytest.raises(ValidationError) as error:
            meeting_submit(meeting=second, actor=journey.fellow)
        assert error.value.messages == [
            "Review the milestone “Milestone 1.1”.",
            "Review the milestone “Milestone 1.2”.",
        ]
        second.refresh_from_db()
        assert second.status == Meeting.Status.DRAFT


def test_only_the_fellow_submits_and_only_the_mentor_signs(programme_a, journey, staff_a):
    meeting = journey.draft(1)
    with scope(programme=programme_a):
        with pytest.raises(PermissionDenied):
            meeting_submit(meeting=meeting, actor=journey.mentor)
        meeting_submit(meeting=meeting, actor=journey.fellow)
        other_mentor = UserFactory()
        MembershipFactory(programme=programme_a, user=other_mentor, role="mentor")
        MentorFactory(programme=programme_a, user=other_mentor)
        for not_the_mentor in (journey.fellow, staff_a, other_mentor):
            with pytest.raises(PermissionDenied):
                meeting_sign(meeting=meeting, actor=not_the_mentor, secret=PASSWORD)
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.SUBMITTED
        assert not SignOff.objects.exists()


def test_signing_needs_the_mentors_password(programme_a, journey):
    meeting = journey.draft(1)
    journey.submit(meeting)
    with scope(programme=programme_a):
        with pytest.raises(ValidationError) as error:
            meeting_sign(meeting=meeting, actor=journey.mentor, secret="not-my-password")
        assert "Nothing was signed" in str(error.value)
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.SUBMITTED and not SignOff.objects.exists()


def test_signing_with_an_authenticator_code(programme_a, journey):
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    secret = generate_totp_secret()
    TOTP.activate(journey.mentor, secret)
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    meeting = journey.draft(1)
    journey.submit(meeting)
    with scope(programme=programme_a):
        sign_off = meeting_sign(meeting=meeting, actor=journey.mentor, secret=code)
    assert sign_off.method == SignOff.Method.MFA


def test_a_signed_record_is_hashed_locked_and_verifiable(programme_a, journey):
    meeting = journey.signed(1)
    with scope(programme=programme_a):
        sign_off = SignOff.objects.get(meeting=meeting, kind="meeting")
        expected = hashlib.sha256(records.canonical_json(sign_off.content)).hexdigest()
        assert meeting.digest == sign_off.digest == expected
        assert sign_off.content["milestones_agreed"][0]["what"] == "Milestone 1.1"
        assert sign_off.content["signed_by"] == {"id": str(journey.mentor.uuid)}
        assert records.verify(sign_off).intact

        # Through the services, nothing changes any more.
        with pytest.raises(ValidationError) as error:
            meeting_save(
                meeting=meeting,
                actor=journey.fellow,
                data={"discussion": "Rewritten"},
                version=meeting.version,
            )
        assert "signed off and locked" in str(error.value)
        meeting.refresh_from_db()
        assert meeting.discussion == RECORD["discussion"]
        assert Notification.objects.filter(
            recipient=journey.fellow, title__contains="signed off the record of meeting 1"
        ).exists()


def test_verify_finds_a_change_that_bypassed_the_service(programme_a, journey):
    meeting = journey.signed(1)
    with scope(programme=programme_a):
        with behind_the_services_back():
            Meeting.objects.filter(pk=meeting.pk).update(discussion="Quietly rewritten")
        result = records.verify(SignOff.objects.get(meeting=meeting, kind="meeting"))
    assert not result.intact and result.copy_intact and not result.rows_intact
    assert result.differences == ["meeting.discussion"]


def test_a_direct_database_change_of_a_signed_record_is_refused_or_found(programme_a, journey):
    """PostgreSQL's triggers refuse every statement; on SQLite, where the services are the
    guard, each change to signed content goes through and verify() finds it."""
    meeting = journey.signed(2, held_days_ago=3)
    with scopes_disabled():
        milestone = Milestone.objects.get(agreed_at=meeting)
        sign_off = SignOff.objects.get(meeting=meeting)
    on_postgresql = connection.vendor == "postgresql"
    statements = [
        ("UPDATE mentoring_meeting SET discussion = 'forged' WHERE id = %s", meeting.pk),
        ("UPDATE mentoring_meeting SET status = 'draft' WHERE id = %s", meeting.pk),
        ("DELETE FROM mentoring_meeting WHERE id = %s", meeting.pk),
        ("UPDATE mentoring_milestone SET title = 'forged' WHERE id = %s", milestone.pk),
        ("DELETE FROM mentoring_milestone WHERE id = %s", milestone.pk),
        ("UPDATE mentoring_signoff SET digest = 'forged' WHERE id = %s", sign_off.pk),
        ("DELETE FROM mentoring_signoff WHERE id = %s", sign_off.pk),
    ]
    content_changes = [sql for sql, _ in statements if "forged" in sql]
    found = []
    for sql, pk in statements:
        if on_postgresql:
            with (
                pytest.raises(DatabaseError) as error,
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [pk])
            assert "signed" in str(error.value) or "cannot" in str(error.value), sql
        elif sql in content_changes:
            with transaction.atomic(), connection.cursor() as cursor, scopes_disabled():
                cursor.execute(sql, [pk])
                if not records.verify(SignOff.objects.get(pk=sign_off.pk)).intact:
                    found.append(sql)
                transaction.set_rollback(True)
    assert found == ([] if on_postgresql else content_changes)
    with scopes_disabled():
        assert records.verify(SignOff.objects.get(pk=sign_off.pk)).intact


def test_return_with_comments_then_resubmit_and_sign(programme_a, journey):
    meeting = journey.draft(1)
    journey.submit(meeting)
    with scope(programme=programme_a):
        with pytest.raises(ValidationError):
            meeting_return(meeting=meeting, actor=journey.mentor, comments="  ")
        meeting_return(
            meeting=meeting, actor=journey.mentor, comments="Add what we said about NICE."
        )
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.RETURNED
        assert Notification.objects.filter(recipient=journey.fellow, body__contains="NICE").exists()
        meeting_save(
            meeting=meeting,
            actor=journey.fellow,
            data={"discussion": RECORD["discussion"] + " We discussed NICE's evidence standards."},
            version=meeting.version,
        )
    journey.submit(meeting)
    journey.sign(meeting)
    with scopes_disabled():
        meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SIGNED


def test_milestones_are_reviewed_deferred_and_signed_off(programme_a, journey):
    first = journey.signed(1, held_days_ago=75, milestones=2)
    second = journey.draft(2, held_days_ago=5, milestones=0)
    with scope(programme=programme_a):
        achieved, deferred = list(open_milestones(second))
        review_save(
            meeting=second,
            milestone=achieved,
            actor=journey.fellow,
            data={"outcome": "achieved", "comment": "Done", "evidence": "https://example.org"},
            version=None,
        )
        with pytest.raises(ValidationError) as error:
            review_save(
                meeting=second,
                milestone=deferred,
                actor=journey.fellow,
                data={"outcome": "deferred", "comment": "Needs the trust's data"},
                version=None,
            )
        assert "new date" in str(error.value)
        new_date = deferred.due_on + timedelta(days=60)
        review_save(
            meeting=second,
            milestone=deferred,
            actor=journey.fellow,
            data={"outcome": "deferred", "comment": "Needs data", "new_due_on": new_date},
            version=None,
        )
        meeting_submit(meeting=second, actor=journey.fellow)
        meeting_sign(meeting=second, actor=journey.mentor, secret=PASSWORD)
        achieved.refresh_from_db()
        deferred.refresh_from_db()
        assert achieved.status == "achieved" and achieved.confirmed_at is None
        assert deferred.status == "deferred" and deferred.current_due_on == new_date

        # The mentor signs off the achieved milestone separately, with their password.
        with pytest.raises(ValidationError):
            milestone_sign(milestone=deferred, actor=journey.mentor, secret=PASSWORD)
        sign_off = milestone_sign(milestone=achieved, actor=journey.mentor, secret=PASSWORD)
        achieved.refresh_from_db()
        assert achieved.confirmed_at == sign_off.signed_at
        assert records.verify(sign_off).intact

        # The deferred one comes up again at the next meeting; the achieved one does not.
        third = meeting_start(mentorship=journey.mentorship, number=3, actor=journey.fellow)
        assert list(open_milestones(third)) == [deferred]
    assert first.is_signed


def test_the_mentor_confirms_achieved_milestones_when_signing(programme_a, journey):
    journey.signed(1, held_days_ago=75, milestones=1)
    second = journey.draft(2, held_days_ago=5, milestones=1)
    journey.review_all(second)
    journey.submit(second)
    with scopes_disabled():
        milestone = Milestone.objects.get(agreed_at__number=1)
    journey.sign(second, confirm=[milestone.uuid])
    with scopes_disabled():
        milestone.refresh_from_db()
        assert milestone.confirmed_at is not None
        assert SignOff.objects.filter(kind="milestone", milestone=milestone).count() == 1


def test_staff_reopen_with_a_reason_keeping_the_signed_version(programme_a, journey, staff_a):
    meeting = journey.signed(1)
    with scope(programme=programme_a):
        earlier = SignOff.objects.get(meeting=meeting)
        with pytest.raises(PermissionDenied):
            meeting_reopen(meeting=meeting, actor=journey.mentor, reason="Typo")
        with pytest.raises(ValidationError):
            meeting_reopen(meeting=meeting, actor=staff_a, reason=" ")
        meeting_reopen(meeting=meeting, actor=staff_a, reason="The date was wrong.")
        meeting.refresh_from_db()
        earlier.refresh_from_db()
        assert meeting.status == Meeting.Status.DRAFT and meeting.digest == ""
        assert earlier.reopened_by == staff_a and earlier.reopen_reason == "The date was wrong."
        assert earlier.content["meeting"]["held_on"] == str(days_ago(70))  # still readable
        assert AuditEvent.objects.filter(
            action="meeting.reopened", changes__reason="The date was wrong."
        ).exists()
        meeting_save(
            meeting=meeting,
            actor=journey.fellow,
            data={"held_on": days_ago(68)},
            version=meeting.version,
        )
    journey.submit(meeting)
    fresh = journey.sign(meeting)
    assert fresh.digest != earlier.digest
    with scopes_disabled():
        assert SignOff.objects.filter(meeting=meeting, reopened_at__isnull=True).get() == fresh


def test_the_first_meeting_agrees_the_submitted_pdp(programme_a, journey):
    from pdp.models import PDP, CompetencyDomain
    from pdp.services import objective_save, pdp_for_fellow, pdp_submit

    with scope(programme=programme_a):
        domain = CompetencyDomain.objects.create(programme=programme_a, name="Finance")
        pdp = pdp_for_fellow(fellow=journey.mentorship.fellow)
        objective_save(
            pdp=pdp,
            actor=journey.fellow,
            data={
                "title": "Raise a pre-seed round",
                "measure": "Signed term sheet",
                "target_date": date(2027, 6, 30),
                "domain": domain,
            },
        )
        pdp_submit(pdp=pdp, actor=journey.fellow)
    meeting = journey.draft(1)
    journey.submit(meeting)
    sign_off = journey.sign(meeting, agree_pdp=True)
    with scopes_disabled():
        assert PDP.objects.get(pk=pdp.pk).status == PDP.Status.AGREED
    assert sign_off.content["meeting"]["pdp_agreed"] is True


def test_reviews_of_a_submitted_record_cannot_change(programme_a, journey):
    journey.signed(1, held_days_ago=75)
    second = journey.draft(2, held_days_ago=5, milestones=0)
    journey.review_all(second)
    journey.submit(second)
    with scope(programme=programme_a):
        review = MilestoneReview.objects.get(meeting=second)
        with pytest.raises(ValidationError):
            review_save(
                meeting=second,
                milestone=review.milestone,
                actor=journey.fellow,
                data={"outcome": "missed", "comment": "Changed my mind"},
                version=review.version,
            )
        review.refresh_from_db()
        assert review.outcome == "achieved"


def test_a_fellow_matched_mid_year_is_not_behind_for_earlier_windows(programme_a, mentorship):
    from mentoring.services import meeting_reminders_send

    with scopes_disabled():
        windows = cohort_windows(mentorship.cohort)
        Meeting.objects.filter(mentorship=mentorship).delete()
        mentorship.started_on = windows[1][1] + timedelta(days=1)  # after meeting 1's window
        mentorship.save()
        rows = meeting_schedule(mentorship)
    assert rows[0]["state"] == "before" and not rows[0]["is_next"]
    assert rows[1]["is_next"]
    with scope(programme=programme_a):
        sent = meeting_reminders_send(
            programme=programme_a, today=windows[1][1] + timedelta(days=40)
        )
    assert sent["overdue"] == 0 and sent["staff_alert"] == 0


def test_each_party_writes_their_own_words(programme_a, journey):
    meeting = journey.draft(1, milestones=0)
    with scope(programme=programme_a):
        meeting = meeting_save(
            meeting=meeting,
            actor=journey.fellow,
            data={"mentor_advice": "Forged advice", "fellow_reflection": "My reflection"},
            version=meeting.version,
        )
        meeting = meeting_save(
            meeting=meeting,
            actor=journey.mentor,
            data={"fellow_reflection": "Forged reflection", "mentor_advice": "My advice"},
            version=meeting.version,
        )
    assert meeting.fellow_reflection == "My reflection"
    assert meeting.mentor_advice == "My advice"


def test_a_signature_made_in_local_time_still_verifies(programme_a, journey):
    """The database returns moments in UTC; the digest must not depend on the zone they were
    made in."""
    from zoneinfo import ZoneInfo

    from mentoring.services import meeting_sign_as

    meeting = journey.draft(1)
    journey.submit(meeting)
    summer = timezone.now().astimezone(ZoneInfo("Europe/London")).replace(month=7, day=1)
    with scope(programme=programme_a):
        sign_off = meeting_sign_as(
            meeting=meeting, actor=journey.mentor, method=SignOff.Method.PASSWORD, now=summer
        )
        assert records.verify(SignOff.objects.get(pk=sign_off.pk)).intact
