from django.contrib import admin

from cohort.admin_site import ProgrammeScopedAdmin

from .models import (
    CalendarFeed,
    Event,
    EventDomain,
    EventResource,
    Opportunity,
    OpportunityInterest,
    Registration,
    Resource,
    ResourceDomain,
    ResourceObjective,
)


@admin.register(Event)
class EventAdmin(ProgrammeScopedAdmin):
    """Events are published, changed and cancelled on their own pages, which notify the people
    registered; the admin is for looking things up and small corrections."""

    list_display = ["title", "kind", "starts_at", "status", "capacity", "region"]
    list_filter = ["kind", "status", "is_online", "region"]
    search_fields = ["title", "venue_name"]
    date_hierarchy = "starts_at"
    readonly_fields = ["uuid", "version", "created_by", "created_at"]
    exclude = ["checkin_key"]
    list_select_related = ["programme"]


@admin.register(Registration)
class RegistrationAdmin(ProgrammeScopedAdmin):
    """Registering, cancelling and the waiting list go through the event's pages (the waiting
    list moves up there); here the register can be read."""

    list_display = ["user", "event", "status", "registered_at", "attended_at", "check_in"]
    list_filter = ["status", "check_in"]
    search_fields = ["user__full_name", "user__email", "event__title"]
    readonly_fields = [
        "uuid",
        "event",
        "user",
        "status",
        "registered_at",
        "waitlisted_at",
        "promoted_at",
        "cancelled_at",
        "attended_at",
        "check_in",
        "checked_in_by",
        "reminded_for",
    ]
    list_select_related = ["programme", "user", "event"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ProgrammeScopedAdmin):
    """The token is the person's secret: never shown here. People make, renew and turn off
    their own feed on their calendar page."""

    list_display = ["user", "created_at", "revoked_at", "last_read_at"]
    readonly_fields = ["uuid", "user", "created_at", "revoked_at", "last_read_at"]
    exclude = ["token"]
    list_select_related = ["programme", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Resource)
class ResourceAdmin(ProgrammeScopedAdmin):
    list_display = ["title", "kind", "provider", "credits", "credit_level", "is_published"]
    list_filter = ["kind", "is_published", "credit_level"]
    search_fields = ["title", "summary"]
    readonly_fields = ["uuid", "created_by", "created_at"]
    list_select_related = ["programme", "provider"]


@admin.register(Opportunity)
class OpportunityAdmin(ProgrammeScopedAdmin):
    list_display = ["title", "kind", "organisation", "deadline", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "summary"]
    readonly_fields = ["uuid", "created_by", "created_at", "closed_at"]
    list_select_related = ["programme", "organisation"]


@admin.register(OpportunityInterest)
class OpportunityInterestAdmin(ProgrammeScopedAdmin):
    list_display = ["user", "opportunity", "bookmarked_at", "applied_at"]
    readonly_fields = ["uuid", "user", "opportunity", "bookmarked_at", "applied_at"]
    list_select_related = ["programme", "user", "opportunity"]

    def has_add_permission(self, request):
        return False


class _LinkAdmin(ProgrammeScopedAdmin):
    """A link between two records of one programme; made on the records' own pages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EventDomain)
class EventDomainAdmin(_LinkAdmin):
    list_display = ["event", "domain"]
    list_select_related = ["programme", "event", "domain"]


@admin.register(EventResource)
class EventResourceAdmin(_LinkAdmin):
    list_display = ["event", "resource"]
    list_select_related = ["programme", "event", "resource"]


@admin.register(ResourceDomain)
class ResourceDomainAdmin(_LinkAdmin):
    list_display = ["resource", "domain"]
    list_select_related = ["programme", "resource", "domain"]


@admin.register(ResourceObjective)
class ResourceObjectiveAdmin(_LinkAdmin):
    list_display = ["resource", "objective", "linked_at"]
    list_select_related = ["programme", "resource", "objective"]
