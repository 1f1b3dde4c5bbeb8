"""Reads of the events app that more than one page needs. Each takes the tenant explicitly."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from cohort.models import Fellow, Programme, Role
from mentoring.models import Mentorship

from .models import CalendarFeed, Event, Registration

# --- events and registration ---------------------------------------------------------------------


def audience_q(*, programme: Programme, user, roles) -> Q:
    """Which published events a member's role lets them see (staff see every event)."""
    allowed = Q(audience=Event.Audience.PROGRAMME)
    if Role.FELLOW in roles:
        cohort_ids = Fellow.objects.filter(programme=programme, user=user).values("cohort_id")
        allowed |= Q(audience__in=[Event.Audience.FELLOWS, Event.Audience.FELLOWS_AND_MENTORS]) & (
            Q(cohort__isnull=True) | Q(cohort_id__in=cohort_ids)
        )
    if Role.MENTOR in roles:
        allowed |= Q(audience=Event.Audience.FELLOWS_AND_MENTORS)
    return allowed


def visible_events(*, programme: Programme, user, roles) -> QuerySet[Event]:
    """The events this member may open. Staff see every event, drafts included; everyone else
    sees published (and cancelled) events meant for them, and any event they registered for."""
    events = Event.objects.filter(programme=programme)
    if Role.STAFF in roles:
        return events
    registered = Registration.objects.filter(event=OuterRef("pk"), user=user)
    return events.exclude(status=Event.Status.DRAFT).filter(
        audience_q(programme=programme, user=user, roles=roles) | Q(Exists(registered))
    )


def event_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """Each event with how many hold a place, wait, and attended (one query for a list)."""
    return events.annotate(
        places_taken=Count(
            "registrations", filter=Q(registrations__status__in=Registration.HOLDS_PLACE)
        ),
        waiting=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED)
        ),
        attended=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.ATTENDED)
        ),
    )


def registrations_of(*, programme: Programme, user) -> QuerySet[Registration]:
    """A person's registrations in the programme, with their events."""
    return Registration.objects.filter(programme=programme, user=user).select_related("event")


# --- calendars -----------------------------------------------------------------------------------
# (Imports are local to this section's functions: the module's head belongs to the events part.)

# The feed carries events from this many days back (and everything ahead): a year of history is
# what people look back on, and an old programme's feed does not grow without end.
FEED_HISTORY_DAYS = 365


def live_calendar_feed(*, programme: Programme, user):
    """The person's calendar feed in the programme (a CalendarFeed), if one is switched on."""
    return CalendarFeed.objects.filter(
        programme=programme, user=user, revoked_at__isnull=True
    ).first()


def calendar_feed_by_token(token: str):
    """The feed a secret address names, live or revoked, with its programme and person. Called
    from outside any programme: the token itself says which programme it is."""
    with scopes_disabled():
        return CalendarFeed.objects.select_related("programme", "user").filter(token=token).first()


def feed_registrations(*, programme: Programme, user, now=None) -> list[Registration]:
    """The person's events for their feed: those they hold a place at or wait for, cancelled
    events included (so calendars remove them); places they cancelled, and drafts, left out."""
    now = now or timezone.now()
    return list(
        registrations_of(programme=programme, user=user)
        .exclude(status=Registration.Status.CANCELLED)
        .exclude(event__status=Event.Status.DRAFT)
        .filter(event__ends_at__gte=now - timedelta(days=FEED_HISTORY_DAYS))
        .select_related("event__programme")
        .order_by("event__starts_at", "event__pk")
    )


def feed_mentorships(*, programme: Programme, user) -> list:
    """The person's active mentorships, as fellow (their own) and as mentor (each mentee's),
    with what mentoring.selectors.mentorship_rows needs loaded."""
    return list(
        Mentorship.objects.filter(programme=programme, ended_on__isnull=True)
        .filter(Q(fellow__user=user) | Q(mentor__user=user))
        # The cohort's programme holds the number of meetings a year (its windows).
        .select_related("cohort__programme", "fellow__user", "mentor__user")
        .order_by("started_on", "pk")
    )


# --- resources and opportunities -----------------------------------------------------------------
