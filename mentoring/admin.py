from django.contrib import admin

from cohort.admin_site import ProgrammeScopedAdmin

from .models import (
    Connection,
    MatchPair,
    Meeting,
    MeetingReminder,
    MeetingWindow,
    Mentorship,
    Milestone,
    MilestoneReview,
    SignOff,
)


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


@admin.register(MeetingWindow)
class MeetingWindowAdmin(ProgrammeScopedAdmin):
    """Staff set a cohort's windows on its meeting windows page, which checks them; here they
    can be read or removed (the derived window then applies again)."""

    list_display = ["cohort", "number", "opens_on", "closes_on"]
    list_filter = ["cohort"]
    readonly_fields = ["uuid", "cohort", "number", "opens_on", "closes_on"]
    list_select_related = ["programme", "cohort"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Every field is read-only but the programme, and moving a window to another programme
        # would leave it outside its cohort's (staff of two programmes could choose either).
        return False


class _RecordAdmin(ProgrammeScopedAdmin):
    """Meeting records change only through their pages, which keep the sign-off rules, the
    version check and the audit trail; the admin reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(_RecordAdmin):
    list_display = ["mentorship", "number", "status", "held_on", "signed_at"]
    list_filter = ["status", "number", "mentorship__cohort"]
    search_fields = ["mentorship__fellow__user__full_name", "mentorship__mentor__user__full_name"]
    list_select_related = [
        "programme",
        "mentorship__fellow__user",
        "mentorship__mentor__user",
    ]


@admin.register(Milestone)
class MilestoneAdmin(_RecordAdmin):
    list_display = ["title", "mentorship", "due_on", "status", "confirmed_at"]
    list_filter = ["status"]
    search_fields = ["title", "mentorship__fellow__user__full_name"]
    list_select_related = ["programme", "mentorship__fellow__user", "mentorship__mentor__user"]


@admin.register(MilestoneReview)
class MilestoneReviewAdmin(_RecordAdmin):
    list_display = ["milestone", "meeting", "outcome", "new_due_on"]
    list_filter = ["outcome"]
    list_select_related = [
        "programme",
        "milestone",
        "meeting__mentorship__fellow__user",
        "meeting__mentorship__mentor__user",
    ]


@admin.register(SignOff)
class SignOffAdmin(_RecordAdmin):
    list_display = ["kind", "meeting", "milestone", "signed_by", "signed_at", "reopened_at"]
    list_filter = ["kind"]
    list_select_related = [
        "programme",
        "signed_by",
        "milestone",
        "meeting__mentorship__fellow__user",
        "meeting__mentorship__mentor__user",
    ]


@admin.register(MeetingReminder)
class MeetingReminderAdmin(_RecordAdmin):
    list_display = ["kind", "key", "mentorship", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["programme", "mentorship__fellow__user", "mentorship__mentor__user"]
