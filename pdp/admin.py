from django.contrib import admin

from cohort.admin_site import ProgrammeScopedAdmin

from .models import PDP, Action, CompetencyDomain, Evidence, Objective, PDPChange


@admin.register(CompetencyDomain)
class CompetencyDomainAdmin(ProgrammeScopedAdmin):
    list_display = ["name", "position", "programme"]
    readonly_fields = ["uuid"]


@admin.register(PDP)
class PDPAdmin(ProgrammeScopedAdmin):
    """Plans are written on their own pages (every change is kept in their history there)."""

    list_display = ["fellow", "status", "agreed_at", "agreed_by"]
    list_filter = ["status"]
    search_fields = ["fellow__user__full_name", "fellow__user__email"]
    readonly_fields = ["uuid", "fellow", "agreed_by", "agreed_at", "agreed_snapshot"]
    list_select_related = ["programme", "fellow__user", "agreed_by"]

    def has_add_permission(self, request):
        return False


@admin.register(Objective)
class ObjectiveAdmin(ProgrammeScopedAdmin):
    list_display = ["title", "pdp", "domain", "status", "target_date"]
    list_filter = ["status"]
    search_fields = ["title", "pdp__fellow__user__full_name"]
    readonly_fields = ["uuid", "pdp"]
    list_select_related = ["programme", "pdp__fellow__user", "domain"]

    def has_add_permission(self, request):
        return False


@admin.register(Action)
class ActionAdmin(ProgrammeScopedAdmin):
    list_display = ["text", "objective", "done"]
    readonly_fields = ["uuid", "objective"]
    list_select_related = ["programme", "objective"]

    def has_add_permission(self, request):
        return False


@admin.register(Evidence)
class EvidenceAdmin(ProgrammeScopedAdmin):
    list_display = ["title", "kind", "objective", "added_at"]
    readonly_fields = ["uuid", "objective", "added_by"]
    list_select_related = ["programme", "objective"]

    def has_add_permission(self, request):
        return False


@admin.register(PDPChange)
class PDPChangeAdmin(ProgrammeScopedAdmin):
    """The history of a plan is evidence: it can be read, never edited."""

    list_display = ["at", "actor_label", "summary", "pdp"]
    list_select_related = ["programme", "pdp__fellow__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
