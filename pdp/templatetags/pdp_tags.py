"""The plan's progress on home pages, included by the cohort app's templates without the
cohort app importing this one."""

from django import template
from django.db.models import Prefetch, prefetch_related_objects

from ..models import Objective
from ..services import fulfilment

register = template.Library()


@register.inclusion_tag("pdp/includes/home_pdp.html", takes_context=True)
def home_pdp(context, fellow):
    """A fellow's plan on their home page: its status and fulfilment."""
    pdp = None
    if fellow is not None:
        # Read onto her, with the objectives' domains: the recommendations card further down
        # her home page matches opportunities to them (events.selectors.fellow_facts).
        prefetch_related_objects(
            [fellow],
            Prefetch(
                "pdp__objectives",
                queryset=Objective.objects.select_related("domain").prefetch_related("actions"),
            ),
        )
        pdp = getattr(fellow, "pdp", None)
    objectives = list(pdp.objectives.all()) if pdp else []
    return {
        "pdp": pdp,
        "objectives": len(objectives),
        "fulfilment": fulfilment(objectives),
        "programme": context["request"].programme,
    }
