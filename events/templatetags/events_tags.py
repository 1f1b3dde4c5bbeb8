"""Template pieces the home pages and the PDP include without importing this app in Python
(dependencies point one way: cohort ← … ← events)."""

from django import template
from django.urls import reverse
from django.utils import timezone

from cohort.models import Role

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
    events = event_counts(
        Event.objects.filter(programme=programme)
        .exclude(status=Event.Status.CANCELLED)
        .select_related("programme")
    )
    upcoming = list(events.filter(ends_at__gt=now).order_by("starts_at")[:6])
    recent = list(events.filter(ends_at__lte=now).order_by("-starts_at")[:3])
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
