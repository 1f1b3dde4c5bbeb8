"""A mentorship's year of meetings at every stage, built with the real services, for the
isolation suite.

Each meeting route acts on a record in one state (signing needs a submitted record, reopening a
signed one, editing a draft), so one year holds a record in each: a write that got through to
the wrong person would then change programme A's rows, and the snapshot would show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Cohort, Fellow, Membership, Mentor, Role
from mentoring.models import Meeting, Mentorship, Milestone, SignOff
from mentoring.services import (
    meeting_save,
    meeting_sign_as,
    meeting_start,
    meeting_submit,
    milestone_add,
    review_save,
)

from ..factories import FellowFactory, MembershipFactory, MentorFactory, MentorshipFactory

ACHIEVED, OPEN, DRAFTED = "Achieved milestone", "Open milestone", "Drafted milestone"


@dataclass(frozen=True)
class MeetingYear:
    mentorship: Mentorship
    signed: Meeting  # meeting 1: signed off; agreed ACHIEVED (tied to a PDP objective) and OPEN
    reviewed: Meeting  # meeting 2: signed off; ACHIEVED reviewed as achieved, OPEN deferred
    draft: Meeting  # meeting 3: a complete draft, ready to send; OPEN reviewed, DRAFTED agreed
    submitted: Meeting  # meeting 4: waiting for the mentor's sign-off
    achieved: Milestone  # achieved at a signed meeting, waiting for its own sign-off
    open: Milestone  # still open: reviewed at the draft and at the submitted meeting
    drafted: Milestone  # agreed at the draft meeting, so it can still be removed
    sign_off: SignOff  # the mentor's signature of meeting 1


def year_cohort(programme) -> Cohort:
    """A cohort whose year began 80 days ago, so meetings can be dated in it (not in the future)."""
    starts = timezone.localdate() - timedelta(days=80)
    with scopes_disabled():
        cohort, _ = Cohort.objects.get_or_create(
            programme=programme,
            name="Isolation year",
            defaults={"starts_on": starts, "ends_on": starts + timedelta(days=364)},
        )
    return cohort


def mentorship_of(programme, fellow_user, mentor_user) -> Mentorship:
    """The person's active mentorship in the programme, made (with their fellow and mentor
    profiles and memberships) in the year cohort if they have none yet."""
    with scopes_disabled():
        fellow = Fellow.objects.filter(programme=programme, user=fellow_user).first()
        mentorship = fellow.mentorships.filter(ended_on__isnull=True).first() if fellow else None
        if mentorship is not None:
            return mentorship
        cohort = year_cohort(programme)
        if fellow is None:
            fellow = FellowFactory(programme=programme, user=fellow_user, cohort=cohort)
        else:
            fellow.cohort = cohort
            fellow.save(update_fields=["cohort"])
        mentor = Mentor.objects.filter(programme=programme, user=mentor_user).first()
        if mentor is None:
            if not Membership.objects.filter(
                programme=programme, user=mentor_user, role=Role.MENTOR
            ).exists():
                MembershipFactory(programme=programme, user=mentor_user, role=Role.MENTOR)
            mentor = MentorFactory(programme=programme, user=mentor_user)
        return MentorshipFactory(
            fellow=fellow, mentor=mentor, cohort=cohort, started_on=cohort.starts_on
        )


def _record(mentorship, number, held_on):
    fellow = mentorship.fellow.user
    meeting = meeting_start(mentorship=mentorship, number=number, actor=fellow)
    return meeting_save(
        meeting=meeting,
        actor=fellow,
        data={
            "held_on": held_on,
            "format": Meeting.Format.VIDEO,
            "discussion": f"Meeting {number}: the pilot plan and its evaluation.",
            "fellow_reflection": "I need a clearer evaluation design.",
            "mentor_advice": "Speak to the evaluation team this month.",
        },
        version=meeting.version,
    )


def _milestone(meeting, title, due_on, objective=None):
    return milestone_add(
        meeting=meeting,
        actor=meeting.mentorship.fellow.user,
        data={
            "title": title,
            "measure": "It is on the PDP.",
            "due_on": due_on,
            "objective": objective,
        },
    )


def _review(meeting, milestone, outcome, **extra):
    review_save(
        meeting=meeting,
        milestone=milestone,
        actor=meeting.mentorship.fellow.user,
        data={"outcome": outcome, "comment": f"{outcome.capitalize()}.", **extra},
        version=None,
    )


def _build(mentorship, objective) -> None:
    fellow, mentor = mentorship.fellow.user, mentorship.mentor.user
    start = mentorship.cohort.starts_on  # 80 days ago

    def send_and_sign(meeting):
        meeting_submit(meeting=meeting, actor=fellow)
        meeting_sign_as(meeting=meeting, actor=mentor, method=SignOff.Method.PASSWORD)

    first = _record(mentorship, 1, start + timedelta(days=10))
    achieved = _milestone(first, ACHIEVED, start + timedelta(days=60), objective)
    still_open = _milestone(first, OPEN, start + timedelta(days=70))
    send_and_sign(first)

    second = _record(mentorship, 2, start + timedelta(days=40))
    _review(second, achieved, "achieved")
    _review(second, still_open, "deferred", new_due_on=start + timedelta(days=120))
    send_and_sign(second)  # the achieved milestone is not confirmed here: it waits on its own

    third = _record(mentorship, 3, start + timedelta(days=70))
    _review(third, still_open, "partly")
    _milestone(third, DRAFTED, start + timedelta(days=150))

    fourth = _record(mentorship, 4, start + timedelta(days=75))
    _review(fourth, still_open, "partly")
    meeting_submit(meeting=fourth, actor=fellow)


def meeting_year(programme, fellow_user, mentor_user, *, objective=None) -> MeetingYear:
    """The year of fellow_user's mentorship with mentor_user, built the first time it is asked
    for (the records are read back afterwards, so asking again returns the same rows)."""
    mentorship = mentorship_of(programme, fellow_user, mentor_user)
    with scope(programme=programme):
        if not Meeting.objects.filter(mentorship=mentorship).exists():
            _build(mentorship, objective)
        meetings = {m.number: m for m in Meeting.objects.filter(mentorship=mentorship)}
        milestones = {m.title: m for m in Milestone.objects.filter(mentorship=mentorship)}
        sign_off = (
            SignOff.objects.filter(meeting=meetings[1], kind=SignOff.Kind.MEETING)
            .order_by("signed_at", "pk")
            .first()
        )
    return MeetingYear(
        mentorship=mentorship,
        signed=meetings[1],
        reviewed=meetings[2],
        draft=meetings[3],
        submitted=meetings[4],
        achieved=milestones[ACHIEVED],
        open=milestones[OPEN],
        drafted=milestones[DRAFTED],
        sign_off=sign_off,
    )
