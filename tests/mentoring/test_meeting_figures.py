"""Meetings and milestones change through conditional UPDATEs, which send no post_save: the
mentoring services say so (mentoring.signals.fellow_records_changed), and a fellow's kept
figures (metrics.personal_figures) show each step of her year at once."""

from datetime import timedelta

import pytest
from django_scopes import scope

from mentoring.services import meeting_reopen, meeting_windows_save

from ..metrics.test_personal_figures import assert_seen_at_once

pytestmark = pytest.mark.django_db


def test_each_step_of_a_meeting_shows_in_her_figures_at_once(journey, staff_a):
    fellow = journey.mentorship.fellow
    first = journey.draft(1, held_days_ago=70)
    assert_seen_at_once(fellow, lambda: journey.submit(first), "meetings_on_time")
    journey.sign(first)
    # The second meeting reviews the milestone agreed at the first: signing it decides it.
    second = journey.draft(2, held_days_ago=20, milestones=0)
    journey.review_all(second)
    journey.submit(second)
    assert_seen_at_once(fellow, lambda: journey.sign(second), "milestone_achievement")

    def reopen():
        with scope(programme=journey.programme):
            second.refresh_from_db()
            meeting_reopen(meeting=second, actor=staff_a, reason="The date was wrong.")

    assert_seen_at_once(fellow, reopen, "milestone_achievement")


def test_a_window_moved_by_staff_shows_in_every_fellows_figures(journey, staff_a, year_cohort):
    fellow = journey.mentorship.fellow
    journey.signed(1, held_days_ago=70)  # on time: the first window is the year's first month
    starts = year_cohort.starts_on

    def moved():
        with scope(programme=journey.programme):
            meeting_windows_save(
                cohort=year_cohort,
                actor=staff_a,
                windows={1: (starts + timedelta(days=20), starts + timedelta(days=30))},
            )

    assert_seen_at_once(fellow, moved, "meetings_on_time")
