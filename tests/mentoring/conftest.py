"""Fixtures of the meeting tests: a fellow of programme A mentored by mentor_a, in a cohort
whose year began 80 days ago (so the first meeting's window has closed and meetings can be
dated in the past), and helpers that take a meeting to each stage."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow
from mentoring.models import Meeting
from mentoring.services import (
    meeting_save,
    meeting_sign,
    meeting_start,
    meeting_submit,
    milestone_add,
    review_save,
)

from ..factories import PASSWORD, CohortFactory, MentorshipFactory


@pytest.fixture
def year_cohort(programme_a):
    starts = timezone.localdate() - timedelta(days=80)
    return CohortFactory(
        programme=programme_a, starts_on=starts, ends_on=starts + timedelta(days=364)
    )


@pytest.fixture
def mentorship(programme_a, fellow_a, mentor_a, year_cohort):
    with scopes_disabled():
        fellow = Fellow.objects.get(user=fellow_a)
        fellow.cohort = year_cohort
        fellow.save()
        return MentorshipFactory(
            fellow=fellow,
            mentor=mentor_a.mentor_profiles.get(),
            cohort=year_cohort,
            started_on=year_cohort.starts_on,
        )


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


RECORD = {
    "held_on": None,  # set per meeting
    "format": "video",
    "discussion": "Went through the pilot plan with the trust's digital lead.",
    "fellow_reflection": "I need a clearer evaluation design before the pilot starts.",
    "mentor_advice": "Speak to the AHSN's evaluation team this month.",
}


class Journey:
    """Takes meetings of one mentorship through their stages with the real services."""

    def __init__(self, programme, mentorship):
        self.programme = programme
        self.mentorship = mentorship
        self.fellow = mentorship.fellow.user
        self.mentor = mentorship.mentor.user

    def draft(self, number, *, held_days_ago=70, milestones=1):
        with scope(programme=self.programme):
            meeting = meeting_start(mentorship=self.mentorship, number=number, actor=self.fellow)
            meeting = meeting_save(
                meeting=meeting,
                actor=self.fellow,
                data={**RECORD, "held_on": days_ago(held_days_ago)},
                version=meeting.version,
            )
            # The mentor's advice is the mentor's to write.
            meeting = meeting_save(
                meeting=meeting,
                actor=self.mentor,
                data={"mentor_advice": RECORD["mentor_advice"]},
                version=meeting.version,
            )
            for n in range(milestones):
                milestone_add(
                    meeting=meeting,
                    actor=self.fellow,
                    data={
                        "title": f"Milestone {number}.{n + 1}",
                        "measure": "The evidence is on the PDP.",
                        "due_on": timezone.localdate() + timedelta(days=30 + n),
                        "objective": None,
                    },
                )
            return Meeting.objects.get(pk=meeting.pk)

    def review_all(self, meeting, outcome="achieved", **extra):
        from mentoring.services import open_milestones

        with scope(programme=self.programme):
            for milestone in open_milestones(meeting):
                review_save(
                    meeting=meeting,
                    milestone=milestone,
                    actor=self.fellow,
                    data={"outcome": outcome, "comment": "As agreed.", **extra},
                    version=None,
                )

    def submit(self, meeting):
        with scope(programme=self.programme):
            return meeting_submit(meeting=meeting, actor=self.fellow)

    def sign(self, meeting, **kwargs):
        with scope(programme=self.programme):
            return meeting_sign(meeting=meeting, actor=self.mentor, secret=PASSWORD, **kwargs)

    def signed(self, number, **kwargs):
        meeting = self.draft(number, **kwargs)
        self.review_all(meeting)
        self.submit(meeting)
        self.sign(meeting)
        with scopes_disabled():
            return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def journey(programme_a, mentorship):
    return Journey(programme_a, mentorship)


@contextmanager
def behind_the_services_back():
    """Change signed rows as someone with direct database access would. On PostgreSQL that
    means switching the lock triggers off first, as a superuser can (replica mode skips
    ordinary triggers); on SQLite there is nothing to switch off. Either way verify() must
    find the change."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
