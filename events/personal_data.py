"""What the events app holds about a person (accounts.personal_data).

Called under scopes_disabled(): every query below filters to the one person it is given.
"""

from __future__ import annotations

from accounts.personal_data import Erasure, keep, not_personal, register, row

from .models import (
    CalendarFeed,
    Event,
    Opportunity,
    OpportunityInterest,
    Registration,
    Resource,
    ResourceObjective,
)


def _programme(obj) -> str:
    return obj.programme.name


def export_registrations(user):
    qs = Registration.objects.filter(user=user).select_related("programme", "event")
    return [
        row(
            r,
            [
                ("programme", _programme),
                ("event", lambda r: r.event.title),
                ("event_starts_at", lambda r: r.event.starts_at),
                "status",
                "registered_at",
                "waitlisted_at",
                "cancelled_at",
                "attended_at",
                "check_in",
            ],
        )
        for r in qs.order_by("registered_at", "id")
    ]


def export_calendar_feeds(user):
    qs = CalendarFeed.objects.filter(user=user).select_related("programme")
    # Never the token: it is the feed's credential.
    return [
        row(f, [("programme", _programme), "created_at", "revoked_at", "last_read_at"])
        for f in qs.order_by("created_at", "id")
    ]


def erase_calendar_feeds(erasure: Erasure):
    erasure.tally("calendar feeds", CalendarFeed.objects.filter(user=erasure.user).delete()[0])


def export_interests(user):
    qs = OpportunityInterest.objects.filter(user=user).select_related("programme", "opportunity")
    return [
        row(
            i,
            [
                ("programme", _programme),
                ("opportunity", lambda i: i.opportunity.title),
                "bookmarked_at",
                "applied_at",
                "note",
            ],
        )
        for i in qs.order_by("id")
    ]


def erase_interests(erasure: Erasure):
    erasure.tally(
        "opportunity bookmarks",
        OpportunityInterest.objects.filter(user=erasure.user).delete()[0],
    )


def register_all():
    keep(
        Registration,
        section="event_registrations",
        title="Your event registrations",
        description="The events you registered for, and whether you attended.",
        export=export_registrations,
        reason="Attendance is counted in the programme's metrics (events attended, the "
        "attendance rate); a registration holds only a status and dates, and the person is "
        "pseudonymised through their account.",
    )
    register(
        CalendarFeed,
        section="calendar_feeds",
        title="Your calendar feeds",
        description="The private calendar addresses you created (not their secret links).",
        export=export_calendar_feeds,
        erase=erase_calendar_feeds,
    )
    register(
        OpportunityInterest,
        section="opportunity_bookmarks",
        title="Opportunities you saved",
        description="Opportunities you bookmarked or applied for, with your notes.",
        export=export_interests,
        erase=erase_interests,
    )
    not_personal(Event, reason="A programme event: it names staff only as who created it.")
    not_personal(Resource, reason="A library resource: it names staff only as who added it.")
    not_personal(Opportunity, reason="An opportunity: it names staff only as who posted it.")
    keep(
        ResourceObjective,
        reason="A link from a library resource to a PDP objective, and who made it: it holds "
        "no text; the objective itself is exported and erased with the plan.",
    )
