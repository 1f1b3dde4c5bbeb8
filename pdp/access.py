"""Who may see and agree a fellow's plan (DESIGN §5): the fellow, their mentor, staff.

Mentorships live in the mentoring app, which depends on this one and not the other way round,
so it registers here how to find a fellow's mentors and a mentor's mentees (MentoringConfig).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404

from cohort.models import Fellow, Role

OWNER, MENTOR, STAFF = "owner", "mentor", "staff"

_mentors_of: list[Callable] = []
_mentees_of: list[Callable] = []


def register_mentor_lookups(*, mentors_of: Callable, mentees_of: Callable) -> None:
    """mentors_of(fellow) -> users who mentor them now; mentees_of(programme, user) -> a
    queryset of the Fellow ids this person mentors now."""
    if mentors_of not in _mentors_of:
        _mentors_of.append(mentors_of)
    if mentees_of not in _mentees_of:
        _mentees_of.append(mentees_of)


def mentor_users(fellow: Fellow) -> list:
    return [user for lookup in _mentors_of for user in lookup(fellow)]


def mentee_fellow_ids(programme, user) -> set[int]:
    return {pk for lookup in _mentees_of for pk in lookup(programme, user)}


def relations_to(request, fellow: Fellow) -> set[str]:
    """How the signed-in person stands to this fellow's plan (one may be staff and mentor);
    404 for anyone with no relation, so the page does not confirm the plan exists."""
    relations = set()
    if fellow.user_id == request.user.pk:
        relations.add(OWNER)
    if Role.STAFF in request.roles:
        relations.add(STAFF)
    if Role.MENTOR in request.roles and any(u.pk == request.user.pk for u in mentor_users(fellow)):
        relations.add(MENTOR)
    if not relations:
        raise Http404("No plan here.")
    return relations


def main_relation(relations: set[str]) -> str:
    """The relation a page speaks from: the fellow's own, else staff's, else the mentor's."""
    return next(r for r in (OWNER, STAFF, MENTOR) if r in relations)
