"""The plan's progress on home pages, included by the cohort app's templates without the
cohort app importing this one."""

from django import template

from ..models import PDP
from ..services import fulfilment

register = template.Library()


@register.inclusion_tag("pdp/includes/home_pdp.html", takes_context=True)
def home_pdp(context, fellow):
    """A fellow's plan on their home page: its status and fulfilment."""
    pdp = (
        PDP.objects.filter(fellow=fellow).prefetch_related("objectives__actions").first()
        if fellow is not None
        else None
    )
    objectives = list(pdp.objectives.all()) if pdp else []
    return {
        "pdp": pdp,
        "objectives": len(objectives),
        "fulfilment": fulfilment(objectives),
        "programme": context["request"].programme,
    }
