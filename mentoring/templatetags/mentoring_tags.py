"""Template pieces the cohort home pages include without importing this app in Python
(dependencies point one way: cohort ← … ← mentoring)."""

from django import template

from ..models import Mentorship

register = template.Library()


@register.inclusion_tag("mentoring/includes/home_mentorships.html", takes_context=True)
def home_mentorships(context, as_role: str):
    """A fellow's mentor, or a mentor's mentees, on their home page."""
    request = context["request"]
    programme = getattr(request, "programme", None)
    mentorships = []
    if programme is not None and request.user.is_authenticated:
        person = {"fellow": "fellow__user", "mentor": "mentor__user"}[as_role]
        mentorships = list(
            Mentorship.objects.filter(
                programme=programme, ended_on__isnull=True, **{person: request.user}
            ).select_related("fellow__user", "mentor__user", "mentor__organisation", "cohort")
        )
    return {"mentorships": mentorships, "as_role": as_role, "programme": programme}
