"""Pages of the events app: events and their registers, check-in, calendars, the resource
library and opportunities."""

# --- events and registration ---------------------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------
# This section's imports are local to its functions: the module's head belongs to the events part.

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _only(*methods):
    """require_http_methods, imported where it is used (see above)."""
    from django.views.decorators.http import require_http_methods

    return require_http_methods(list(methods))


def _private(response):
    # Personal data behind a secret or a session: never kept by a shared cache or indexed.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _ics_response(body: bytes, *, filename: str | None = None):
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    if filename:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    return _private(response)


def _text_response(message: str, *, status: int):
    from django.http import HttpResponse

    return _private(
        HttpResponse(message + "\n", content_type="text/plain; charset=utf-8", status=status)
    )


@_only("GET", "HEAD")
def event_ics_view(request, programme_slug, event_uuid):
    """One event as an .ics file, for any member who may see the event (404 for anyone else,
    the same as for an event that does not exist)."""
    from django.shortcuts import get_object_or_404

    from cohort.models import Role

    from . import calendar as ics
    from .models import Registration
    from .selectors import visible_events

    event = get_object_or_404(
        visible_events(
            programme=request.programme, user=request.user, roles=request.roles
        ).select_related("programme"),
        uuid=event_uuid,
    )
    registration = Registration.objects.filter(event=event, user=request.user).first()
    body = ics.event_ics(
        event,
        registration=registration,
        # The joining link is for those holding a place, and staff, as on the event page.
        with_joining_link=Role.STAFF in request.roles
        or (registration is not None and registration.holds_place),
    )
    return _ics_response(body, filename=ics.ics_filename(event))


def _webcal(url: str) -> str:
    """The same address for calendar apps that subscribe when a webcal:// link is opened."""
    return "webcal://" + url.split("://", 1)[1]


@_only("GET", "HEAD")
def calendar_view(request, programme_slug):
    """The person's calendar feed: what it carries, its private address and how to add it to
    Outlook, Google Calendar or Apple Calendar; switch it on, get a new address, or turn it off."""
    from django.template.response import TemplateResponse

    from cohort.models import Role

    from .selectors import live_calendar_feed

    feed = live_calendar_feed(programme=request.programme, user=request.user)
    context = {
        "feed": feed,
        "has_meetings": bool(request.roles & {Role.FELLOW, Role.MENTOR}),
    }
    if feed is not None:
        url = feed.get_feed_url()
        context.update(feed_url=url, webcal_url=_webcal(url))
    return _private(TemplateResponse(request, "events/calendar.html", context))


def _back_to_calendar(programme_slug):
    from django.shortcuts import redirect

    return redirect("events:calendar", programme_slug=programme_slug)


@_only("POST")
def calendar_create_view(request, programme_slug):
    from django.contrib import messages

    from .services import calendar_feed_create

    calendar_feed_create(programme=request.programme, user=request.user)
    messages.success(request, "Your calendar feed is on. Add its address to your calendar app.")
    return _back_to_calendar(programme_slug)


@_only("POST")
def calendar_reset_view(request, programme_slug):
    from django.contrib import messages

    from .services import calendar_feed_reset

    calendar_feed_reset(programme=request.programme, user=request.user)
    messages.success(
        request,
        "Your calendar feed has a new address and the old one no longer works. Replace the "
        "subscription in your calendar app with the new address.",
    )
    return _back_to_calendar(programme_slug)


@_only("POST")
def calendar_revoke_view(request, programme_slug):
    from django.contrib import messages

    from .services import calendar_feed_revoke

    if calendar_feed_revoke(programme=request.programme, user=request.user):
        messages.success(
            request,
            "Your calendar feed is off and its address no longer works. Remove the "
            "subscription from your calendar app.",
        )
    else:
        messages.info(request, "Your calendar feed was already off.")
    return _back_to_calendar(programme_slug)


@_only("GET", "HEAD")
def calendar_feed_view(request, token):
    """A person's calendar feed, fetched by their calendar app with no session: the secret
    token in the address is the credential. It names the programme, and everything after the
    lookup runs inside that programme's scope. A fixed number of queries whatever it holds."""
    from django.conf import settings
    from django.urls import reverse
    from django_scopes import scope

    from cohort.selectors import member_roles
    from mentoring.selectors import mentorship_rows

    from . import calendar as ics
    from .selectors import calendar_feed_by_token, feed_mentorships, feed_registrations
    from .services import calendar_feed_mark_read

    feed = calendar_feed_by_token(token)
    if feed is None:
        return _text_response("There is no calendar at this address.", status=404)
    programme, user = feed.programme, feed.user
    if not feed.is_live:
        return _text_response(
            "This calendar address has been turned off, or replaced by a new one. To "
            f"subscribe again, sign in at {settings.SITE_URL}/ and open 'Your calendar' in "
            f"{programme.name} for a new address.",
            status=410,
        )
    with scope(programme=programme):
        # Someone who has left the programme (or whose account was closed) loses the feed too.
        if not user.is_active or not member_roles(programme=programme, user=user):
            return _text_response("There is no calendar at this address.", status=404)
        calendar_feed_mark_read(feed=feed)
        registrations = feed_registrations(programme=programme, user=user)
        mentorships = feed_mentorships(programme=programme, user=user)
        rows = mentorship_rows(mentorships) if mentorships else []
        year_urls = {
            m.pk: settings.SITE_URL
            + reverse(
                "mentoring:mentorship_year",
                kwargs={"programme_slug": programme.slug, "mentorship_uuid": m.uuid},
            )
            for m in mentorships
        }
        body = ics.feed_ics(
            programme=programme,
            user=user,
            registrations=registrations,
            mentorship_rows=rows,
            year_urls=year_urls,
        )
    return _ics_response(body)


# --- resources and opportunities -----------------------------------------------------------------
