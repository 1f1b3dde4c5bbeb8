"""Reads other apps ask for (registered with them, so they need not import this app)."""

from .models import Mentorship


def mentors_of(fellow) -> list:
    """The users who mentor this fellow now."""
    return [
        m.mentor.user
        for m in Mentorship.objects.filter(fellow=fellow, ended_on__isnull=True).select_related(
            "mentor__user"
        )
    ]


def mentees_of(programme, user):
    """The ids of the fellows this person mentors now."""
    return Mentorship.objects.filter(
        programme=programme, mentor__user=user, ended_on__isnull=True
    ).values_list("fellow_id", flat=True)


def windows_by_cohort(cohorts) -> dict[int, dict[int, tuple]]:
    """Each cohort's meeting windows ({cohort pk: {number: (opens, closes)}}) in one query."""
    from .models import MeetingWindow

    cohorts = {c.pk: c for c in cohorts}
    windows = {
        pk: {n: (o, c) for n, o, c in cohort.meeting_windows()} for pk, cohort in cohorts.items()
    }
    # Unordered: the model's ordering would join the cohorts to sort by their start.
    for window in MeetingWindow.objects.filter(cohort__in=list(cohorts)).order_by():
        if window.number in windows[window.cohort_id]:
            windows[window.cohort_id][window.number] = (window.opens_on, window.closes_on)
    return windows


def mentorship_rows(mentorships, *, today=None) -> list[dict]:
    """For a list of mentorships (with cohort, fellow and mentor loaded): each one's year of
    meetings and how it stands, in a fixed number of queries whatever the count."""
    from .models import Meeting
    from .services import meeting_schedule

    mentorships = list(mentorships)
    windows = windows_by_cohort({m.cohort for m in mentorships})
    meetings: dict[int, list] = {}
    for meeting in Meeting.objects.filter(mentorship__in=[m.pk for m in mentorships]):
        meetings.setdefault(meeting.mentorship_id, []).append(meeting)
    rows = []
    for mentorship in mentorships:
        schedule = meeting_schedule(
            mentorship,
            windows=windows[mentorship.cohort_id],
            meetings=meetings.get(mentorship.pk, []),
            today=today,
        )
        states = [r["state"] for r in schedule]
        submitted = [r["meeting"] for r in schedule if r["state"] == "submitted"]
        rows.append(
            {
                "mentorship": mentorship,
                "schedule": schedule,
                "signed": states.count("signed"),
                "submitted": states.count("submitted"),
                "returned": states.count("returned"),
                "overdue": states.count("overdue"),
                "next": next((r for r in schedule if r["is_next"]), None),
                # Only a running mentorship's records can be signed off; one sent before the
                # mentorship ended stays as it is until staff decide what to do with it.
                "waiting": submitted if mentorship.is_active else [],
                "unsigned_at_end": [] if mentorship.is_active else submitted,
            }
        )
    return rows
