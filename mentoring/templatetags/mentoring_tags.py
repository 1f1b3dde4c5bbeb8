"""Template pieces the cohort home pages include without importing this app in Python
(dependencies point one way: cohort ← … ← mentoring)."""

from django import template
from django.db.models import Count, Prefetch, Q

from pdp.models import Objective
from pdp.services import fulfilment

from ..models import Connection, Mentorship
from ..selectors import mentorship_rows

register = template.Library()


@register.inclusion_tag("mentoring/includes/home_mentorships.html", takes_context=True)
def home_mentorships(context, as_role: str):
    """A fellow's mentor, or a mentor's mentees, on their home page."""
    request = context["request"]
    programme = getattr(request, "programme", None)
    mentorships = []
    if programme is not None and request.user.is_authenticated:
        person = {"fellow": "fellow__user", "mentor": "mentor__user"}[as_role]
        mentorships = Mentorship.objects.filter(
            programme=programme, ended_on__isnull=True, **{person: request.user}
        ).select_related(
            "fellow__user", "mentor__user", "mentor__organisation", "cohort__programme"
        )
        if as_role == "mentor":
            # Each mentee's plan fulfilment, from one prefetch (no query per mentee).
            mentorships = mentorships.select_related("fellow__pdp").prefetch_related(
                Prefetch(
                    "fellow__pdp__objectives",
                    queryset=Objective.objects.prefetch_related("actions"),
                )
            )
        mentorships = list(mentorships)
        for m in mentorships:
            # A fellow's own card does not show it (her plan has its own card): it cost her
            # home page a query per objective.
            pdp = getattr(m.fellow, "pdp", None) if as_role == "mentor" else None
            m.fulfilment = fulfilment(list(pdp.objectives.all())) if pdp else None
        # The year's meetings of each, read for all of them at once.
        for m, row in zip(mentorships, mentorship_rows(mentorships), strict=True):
            m.year = row
    waiting = sum(len(m.year["waiting"]) for m in mentorships)
    return {
        "mentorships": mentorships,
        "as_role": as_role,
        "programme": programme,
        "waiting": waiting,
    }


@register.inclusion_tag("mentoring/includes/connect_button.html", takes_context=True)
def connect_button(context, person):
    """On a directory profile: connect with this person, or where the connection stands."""
    request = context["request"]
    programme = getattr(request, "programme", None)
    state = None
    can_connect = (
        programme is not None
        and person.pk != request.user.pk
        and bool(request.roles & {"fellow", "mentor"})
    )
    if can_connect:
        existing = Connection.objects.filter(
            Q(requester=request.user, addressee=person)
            | Q(requester=person, addressee=request.user),
            programme=programme,
        ).first()
        if existing is not None and existing.status != Connection.Status.DECLINED:
            state = existing.get_status_display()
    return {
        "person": person,
        "programme": programme,
        "can_connect": can_connect,
        "state": state,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("mentoring/includes/cohort_windows.html", takes_context=True)
def cohort_meeting_windows(context, cohort):
    """A cohort's meeting windows as they apply (staff's dates where set), on the cohort list."""
    from ..services import cohort_windows

    derived = {n: (o, c) for n, o, c in cohort.meeting_windows()}
    windows = cohort_windows(cohort)
    return {
        "cohort": cohort,
        "rows": [
            {"number": n, "opens": o, "closes": c, "custom": (o, c) != derived[n]}
            for n, (o, c) in sorted(windows.items())
        ],
        "programme": cohort.programme,
    }


@register.inclusion_tag("mentoring/includes/home_staff_meetings.html", takes_context=True)
def home_staff_meetings(context):
    """Staff home: records waiting for sign-off and returned, across active mentorships."""
    from ..models import Meeting

    programme = context["request"].programme
    counts = dict(
        Meeting.objects.filter(programme=programme, mentorship__ended_on__isnull=True)
        .filter(status__in=[Meeting.Status.SUBMITTED, Meeting.Status.RETURNED])
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        "programme": programme,
        "submitted": counts.get(Meeting.Status.SUBMITTED, 0),
        "returned": counts.get(Meeting.Status.RETURNED, 0),
    }
