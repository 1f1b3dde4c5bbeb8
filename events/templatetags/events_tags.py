"""Template pieces the home pages and the PDP include without importing this app in Python
(dependencies point one way: cohort ← … ← events)."""

from django import template

register = template.Library()

# --- events and registration ---------------------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------

HOME_OPPORTUNITIES = 4

from django.urls import reverse  # noqa: E402
from django.utils import formats, timezone  # noqa: E402

from cohort.models import Role  # noqa: E402
from cohort.selectors import fellow_for_user  # noqa: E402

from .. import selectors as library  # noqa: E402


@register.inclusion_tag("events/includes/resource_event_list.html", takes_context=True)
def event_resources(context, event):
    """The library resources an event links to (pre-reading, slides, the recording), on the
    event's page. Unpublished ones show to staff only."""
    request = context["request"]
    resources = library.visible_resources(programme=request.programme, roles=request.roles)
    return {
        "resources": list(resources.filter(events=event).select_related("provider")),
        "programme": request.programme,
    }


@register.inclusion_tag("events/includes/resource_objective_list.html", takes_context=True)
def objective_resources(context, objective):
    """Beside an objective's evidence on the plan: the resources linked to it. The links of
    the whole plan are read once, on the first objective, so a plan costs one query."""
    request = context["request"]
    key = ("events.objective_resources", objective.pdp_id)
    if key not in context.render_context:
        context.render_context[key] = library.objective_resource_map(
            programme=request.programme, pdp_id=objective.pdp_id, roles=request.roles
        )
    return {
        "objective": objective,
        "resources": context.render_context[key].get(objective.pk, []),
        "can_write": context.get("can_write", False),
        "programme": request.programme,
        # Back to the plan's own address (the page may be a failed form's POST answer).
        "next": reverse(
            "pdp:detail",
            kwargs={"programme_slug": request.programme.slug, "pdp_uuid": objective.pdp.uuid},
        )
        + f"#objective-{objective.uuid}",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("events/includes/opportunity_home.html", takes_context=True)
def home_opportunities(context, fellow=None):
    """A fellow's home page: the open opportunities that suit them best, each with why."""
    request = context["request"]
    programme = request.programme
    if fellow is None and Role.FELLOW in request.roles:
        fellow = fellow_for_user(programme=programme, user=request.user)
    recommendations = (
        library.recommended_opportunities(
            programme=programme, fellow=fellow, limit=HOME_OPPORTUNITIES
        )
        if fellow is not None
        else []
    )
    return {
        "recommendations": recommendations,
        "programme": programme,
        "next": request.path,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def minutes(value) -> str:
    """45 → "45 minutes", 90 → "1 hour 30 minutes"."""
    if not value:
        return ""
    hours, mins = divmod(int(value), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if mins:
        parts.append(f"{mins} minute{'s' if mins != 1 else ''}")
    return " ".join(parts)


@register.filter
def deadline_text(opportunity) -> str:
    """When it closes, as a fellow reads it: "Closes in 5 days (22 November 2026)", "Closes
    today", "Rolling: apply any time", "Deadline passed on …"."""
    if opportunity.deadline is None:
        return "Rolling: apply any time"
    on = formats.date_format(opportunity.deadline, "DATE_FORMAT")
    days = (opportunity.deadline - timezone.localdate()).days
    if days < 0:
        return f"Deadline passed on {on}"
    if days == 0:
        return f"Closes today ({on})"
    if days == 1:
        return f"Closes tomorrow ({on})"
    return f"Closes in {days} days ({on})"
