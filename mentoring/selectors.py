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
