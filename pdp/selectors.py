"""Reads used by more than one place of the PDP app."""

from django.db.models import Prefetch

from .models import Action, Evidence, Objective


def plan_objectives(pdp) -> list[Objective]:
    """The plan's objectives with their domain, actions and evidence, in order: four queries
    however many objectives there are (the page and the PDF both read them so)."""
    return list(
        pdp.objectives.select_related("domain").prefetch_related(
            Prefetch("actions", queryset=Action.objects.order_by("created_at", "id")),
            Prefetch("evidence", queryset=Evidence.objects.order_by("added_at", "id")),
        )
    )


def objectives_with_actions():
    """A prefetch of plans' objectives with their actions, enough to work out fulfilment."""
    return Prefetch("objectives", queryset=Objective.objects.prefetch_related("actions"))
