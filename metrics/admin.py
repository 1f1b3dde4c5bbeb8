from django.contrib import admin

from cohort.admin_site import ProgrammeScopedAdmin

from .models import (
    CompanyRecord,
    ForecastInput,
    ForecastRun,
    ForecastSettings,
    FundingRecord,
    JobsRecord,
    MetricRun,
    MetricSnapshot,
    MetricTarget,
    OutcomeUpdate,
    PartnershipRecord,
    PatientReachRecord,
    ProgrammeReport,
)


class OutcomeRecordAdmin(ProgrammeScopedAdmin):
    """Fellows report outcomes and staff verify them on their own pages (the fellow is told,
    the audit log keeps it); the admin is for looking things up and small corrections."""

    list_filter = ["status"]
    search_fields = ["fellow__user__full_name", "fellow__user__email"]
    readonly_fields = [
        "uuid",
        "fellow",
        "status",
        "reported_by",
        "reported_at",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "version",
    ]
    list_select_related = ["programme", "fellow__user"]

    def has_add_permission(self, request):
        return False


@admin.register(FundingRecord)
class FundingRecordAdmin(OutcomeRecordAdmin):
    list_display = ["fellow", "amount", "kind", "source", "received_on", "status"]
    list_filter = ["status", "kind"]


@admin.register(PartnershipRecord)
class PartnershipRecordAdmin(OutcomeRecordAdmin):
    list_display = ["fellow", "partner_name", "kind", "started_on", "status"]
    list_filter = ["status", "kind"]


@admin.register(PatientReachRecord)
class PatientReachRecordAdmin(OutcomeRecordAdmin):
    list_display = ["fellow", "patients", "period_start", "period_end", "status"]


@admin.register(CompanyRecord)
class CompanyRecordAdmin(OutcomeRecordAdmin):
    list_display = ["fellow", "company_name", "company_number", "incorporated_on", "status"]


@admin.register(JobsRecord)
class JobsRecordAdmin(OutcomeRecordAdmin):
    list_display = ["fellow", "jobs", "counted_on", "status"]


@admin.register(OutcomeUpdate)
class OutcomeUpdateAdmin(ProgrammeScopedAdmin):
    """A fellow's quarterly update: a record of having done it, read-only."""

    list_display = ["fellow", "quarter_start", "completed_at", "nothing_new"]
    list_select_related = ["programme", "fellow__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MetricRun)
class MetricRunAdmin(ProgrammeScopedAdmin):
    """Each computation of the figures: when, who asked, how it went. Read-only: staff ask for
    a run on the metrics page, and beat runs one every night."""

    list_display = ["created_at", "trigger", "status", "snapshot_count", "finished_at"]
    list_filter = ["status", "trigger"]
    list_select_related = ["programme"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(ProgrammeScopedAdmin):
    """The computed figures, for looking things up; a run replaces them, so no edits."""

    list_display = ["key", "cohort", "period_start", "period_end", "value", "computed_at"]
    list_filter = ["key"]
    list_select_related = ["programme", "cohort"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MetricTarget)
class MetricTargetAdmin(ProgrammeScopedAdmin):
    """The aims for a programme year: staff set them on the targets page (one per metric and
    year, audited); the admin corrects a value or a note."""

    list_display = ["key", "cohort", "value", "set_by", "updated_at"]
    list_select_related = ["programme", "cohort", "set_by"]
    readonly_fields = ["key", "cohort", "set_by", "updated_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ForecastSettings)
class ForecastSettingsAdmin(ProgrammeScopedAdmin):
    """A programme's forecast settings. Staff change them on the forecast's settings page
    (stale edits refused, every forecast made again, audited); here they can be looked up."""

    list_display = ["programme", "draws", "horizon_years", "bass_p", "bass_q", "updated_at"]
    readonly_fields = ["uuid", "seed", "version", "updated_at", "updated_by"]
    list_select_related = ["programme"]

    def has_add_permission(self, request):
        return False


@admin.register(ForecastInput)
class ForecastInputAdmin(ProgrammeScopedAdmin):
    """A venture's forecast inputs. Fellows enter them and staff review them on the forecast
    pages (the fellow is told, the audit log keeps it); the admin is for looking them up."""

    list_display = ["venture", "status", "submitted_at", "reviewed_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["venture__name", "venture__fellow__user__full_name"]
    readonly_fields = [
        "uuid",
        "venture",
        "status",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "updated_at",
        "updated_by",
        "version",
    ]
    list_select_related = ["programme", "venture"]

    def has_add_permission(self, request):
        return False


@admin.register(ForecastRun)
class ForecastRunAdmin(ProgrammeScopedAdmin):
    """A stored forecast: never changed, so read-only here."""

    list_display = ["__str__", "scope", "trigger", "ventures_count", "seed", "created_at"]
    list_filter = ["scope", "trigger"]
    list_select_related = ["programme", "venture", "cohort"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProgrammeReport)
class ProgrammeReportAdmin(ProgrammeScopedAdmin):
    """The annual reports written so far (staff write and download them on the reports page);
    read-only here, the PDF itself is left out."""

    list_display = ["cohort", "status", "created_at", "requested_by", "size"]
    list_filter = ["status"]
    list_select_related = ["programme", "cohort", "requested_by"]
    exclude = ["pdf"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
