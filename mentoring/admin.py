from django.contrib import admin

from cohort.admin_site import ProgrammeScopedAdmin

from .models import Connection, MatchPair, Mentorship


@admin.register(Mentorship)
class MentorshipAdmin(ProgrammeScopedAdmin):
    """Mentorships start by publishing a matching, which tells both people; not added here."""

    list_display = ["fellow", "mentor", "cohort", "started_on", "ended_on"]
    list_filter = ["cohort"]
    search_fields = ["fellow__user__full_name", "mentor__user__full_name"]
    readonly_fields = ["uuid", "created_at", "ended_by"]
    list_select_related = ["programme", "fellow__user", "mentor__user", "cohort"]

    def has_add_permission(self, request):
        return False


@admin.register(MatchPair)
class MatchPairAdmin(ProgrammeScopedAdmin):
    """Pairs are proposed by the matching page; staff lock or exclude them there."""

    list_display = ["fellow", "mentor", "state", "score", "cohort"]
    list_filter = ["state", "cohort"]
    readonly_fields = ["uuid", "created_at"]
    list_select_related = ["programme", "fellow__user", "mentor__user", "cohort"]

    def has_add_permission(self, request):
        return False


@admin.register(Connection)
class ConnectionAdmin(ProgrammeScopedAdmin):
    list_display = ["requester", "addressee", "status", "created_at", "responded_at"]
    list_filter = ["status"]
    readonly_fields = ["uuid", "requester", "addressee", "created_at"]
    list_select_related = ["programme", "requester", "addressee"]

    def has_add_permission(self, request):
        return False
