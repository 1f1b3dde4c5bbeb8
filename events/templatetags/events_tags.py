"""Template pieces the home pages and the PDP include without importing this app in Python
(dependencies point one way: cohort ← … ← events)."""

from django import template

register = template.Library()

# --- events and registration ---------------------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


@register.inclusion_tag("events/includes/calendar_links.html", takes_context=True)
def calendar_links(context, event):
    """On an event's page: download the event as an .ics file, or subscribe to all of one's
    events (the calendar page)."""
    from django.urls import reverse

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
    from django.urls import reverse

    from cohort.models import Role

    from ..selectors import live_calendar_feed

    request = context["request"]
    programme = request.programme
    return {
        "calendar_url": reverse("events:calendar", kwargs={"programme_slug": programme.slug}),
        "has_feed": live_calendar_feed(programme=programme, user=request.user) is not None,
        "has_meetings": bool(set(request.roles) & {Role.FELLOW, Role.MENTOR}),
    }


# --- resources and opportunities -----------------------------------------------------------------
