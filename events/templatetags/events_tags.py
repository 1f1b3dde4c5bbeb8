"""Template pieces the home pages and the PDP include without importing this app in Python
(dependencies point one way: cohort ← … ← events)."""

from django import template
from django.urls import reverse
from django.utils import formats, timezone

from cohort.models import Role
from cohort.selectors import fellow_for_user

from .. import selectors as library
from ..models import Event, Registration
from ..selectors import event_counts, live_calendar_feed, visible_events

register = template.Library()

# --- events and registration ---------------------------------------------------------------------

HOME_EVENTS = 4


@register.inclusion_tag("events/includes/home_events.html", takes_context=True)
def home_events(context):
    """A member's next events (registered or waiting), and what else is coming up for them."""
    request = context["request"]
    programme = getattr(request, "programme", None)
    if programme is None or not request.user.is_authenticated:
        return {"mine": [], "open": []}
    now = timezone.now()
    upcoming = (
        visible_events(programme=programme, user=request.user, roles=request.roles)
        .filter(status=Event.Status.PUBLISHED, ends_at__gt=now)
        .select_related("programme")
    )
    mine = list(
        Registration.objects.filter(
            programme=programme,
            user=request.user,
            status__in=Registration.EXPECTED,
            event__ends_at__gt=now,
        )
        .exclude(event__status=Event.Status.DRAFT)
        .select_related("event__programme")
        .order_by("event__starts_at")[:HOME_EVENTS]
    )
    others = list(
        upcoming.exclude(pk__in=[r.event_id for r in mine]).order_by("starts_at")[
            : max(HOME_EVENTS - len(mine), 2)
        ]
    )
    return {"mine": mine, "open": others, "programme": programme}


@register.inclusion_tag("events/includes/staff_events.html", takes_context=True)
def staff_upcoming_events(context):
    """The staff home: the next events with registrations, waiting lists and attendance, and
    the last ones held with how many came."""
    request = context["request"]
    programme = request.programme
    now = timezone.now()
    events = Event.objects.filter(programme=programme).exclude(status=Event.Status.CANCELLED)

    def counted(chosen, order, limit):
        # Pick the few events first, then count their registrations: counting every event's
        # before taking the first few read all of a large programme's registrations.
        ids = chosen.order_by(order, "pk").values("pk")[:limit]
        return list(
            event_counts(events.filter(pk__in=ids).select_related("programme")).order_by(
                order, "pk"
            )
        )

    upcoming = counted(events.filter(ends_at__gt=now), "starts_at", 6)
    recent = counted(events.filter(ends_at__lte=now), "-starts_at", 3)
    return {"upcoming": upcoming, "recent": recent, "programme": programme}


# --- calendars -----------------------------------------------------------------------------------


@register.inclusion_tag("events/includes/calendar_links.html", takes_context=True)
def calendar_links(context, event):
    """On an event's page: download the event as an .ics file, or subscribe to all of one's
    events (the calendar page)."""
    request = context.get("request")
    programme = getattr(request, "programme", None)
    slug = programme.slug if programme is not None else event.programme.slug
    return {
        "event": event,
        "ics_url": reverse(
            "events:event_ics", kwargs={"programme_slug": slug, "event_uuid": event.uuid}
        ),
        "calendar_url": reverse("events:calendar", kwargs={"programme_slug": slug})
        if programme is not None
        else "",
    }


@register.inclusion_tag("events/includes/calendar_feed_card.html", takes_context=True)
def calendar_feed_card(context):
    """On a home page: the person's calendar feed, on or off, and the way to the calendar page.
    One query."""
    request = context["request"]
    programme = request.programme
    return {
        "calendar_url": reverse("events:calendar", kwargs={"programme_slug": programme.slug}),
        "has_feed": live_calendar_feed(programme=programme, user=request.user) is not None,
        "has_meetings": bool(set(request.roles) & {Role.FELLOW, Role.MENTOR}),
    }


# --- resources and opportunities -----------------------------------------------------------------

HOME_OPPORTUNITIES = 4


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
