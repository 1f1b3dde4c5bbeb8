"""Reads of the events app that more than one page needs. Each takes the tenant explicitly."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from cohort.models import Fellow, Programme, Role

from .models import Event, Registration

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


# --- resources and opportunities -----------------------------------------------------------------
