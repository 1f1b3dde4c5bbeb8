from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse

from accounts.admin import UserAdmin as AccountsUserAdmin

from .admin_site import AuditedAdminMixin, ProgrammeScopedAdmin, staff_programme_ids
from .models import (
    Application,
    ApplicationQuestion,
    AuditEvent,
    Cohort,
    EqualityData,
    Fellow,
    IdempotentRequest,
    Invitation,
    Membership,
    Mentor,
    Organisation,
    PartnerKey,
    PartnerKeyUse,
    PeopleImport,
    Programme,
    RecruitmentCall,
    Review,
    ReviewCriterion,
    Venture,
)
from .services import membership_revoke, person_erase, person_erasure_problem


@admin.register(Programme)
class ProgrammeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Operators create programmes; staff may edit the settings of their own."""

    list_display = ["name", "slug", "meetings_per_year", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["uuid", "created_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=staff_programme_ids(request))

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(staff_programme_ids(request))

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        return bool(staff_programme_ids(request)) and (
            obj is None or obj.pk in staff_programme_ids(request)
        )

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        return [*self.readonly_fields, "slug"]


@admin.register(Membership)
class MembershipAdmin(ProgrammeScopedAdmin):
    list_display = ["user", "role", "programme", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields: list[str] = []
    readonly_fields = ["uuid", "created_at"]
    list_select_related = ["programme", "user"]

    # Removal goes through the same service as the People page, so the last staff member of
    # a programme cannot be removed here either, and the removal is audited once.
    def delete_model(self, request, obj):
        try:
            membership_revoke(membership=obj, actor=request.user, via=AuditEvent.Via.ADMIN)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(Invitation)
class InvitationAdmin(ProgrammeScopedAdmin):
    list_display = ["email", "role", "programme", "status_label", "created_at", "expires_at"]
    list_filter = ["role"]
    search_fields = ["email"]
    readonly_fields = [
        "uuid",
        "invited_by",
        "created_at",
        "sent_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    exclude = ["token"]

    @admin.display(description="status")
    def status_label(self, obj):
        return obj.get_status_display()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.invited_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Cohort)
class CohortAdmin(ProgrammeScopedAdmin):
    list_display = ["name", "programme", "starts_on", "ends_on"]
    search_fields = ["name"]
    readonly_fields = ["uuid"]


@admin.register(Organisation)
class OrganisationAdmin(ProgrammeScopedAdmin):
    list_display = ["name", "kind", "is_partner", "programme"]
    list_filter = ["kind", "is_partner"]
    search_fields = ["name"]
    readonly_fields = ["uuid"]


@admin.register(Fellow)
class FellowAdmin(ProgrammeScopedAdmin):
    list_display = ["user", "cohort", "profession", "region", "training_arrangement"]
    list_filter = ["cohort", "profession", "region", "training_arrangement", "is_returner"]
    search_fields = ["user__email", "user__full_name", "specialty"]
    readonly_fields = ["uuid"]
    list_select_related = ["programme", "user", "cohort"]


@admin.register(Mentor)
class MentorAdmin(ProgrammeScopedAdmin):
    list_display = ["user", "organisation", "job_title", "capacity"]
    list_filter = ["organisation"]
    search_fields = ["user__email", "user__full_name", "expertise"]
    readonly_fields = ["uuid"]
    list_select_related = ["programme", "user", "organisation"]


@admin.register(Venture)
class VentureAdmin(ProgrammeScopedAdmin):
    list_display = ["name", "fellow", "stage", "sector", "company_number"]
    list_filter = ["stage", "sector"]
    search_fields = ["name", "summary", "fellow__user__full_name"]
    readonly_fields = ["uuid", "created_at"]
    list_select_related = ["programme", "fellow__user"]


@admin.register(AuditEvent)
class AuditEventAdmin(ProgrammeScopedAdmin):
    """The audit log is evidence: it can be read, never edited."""

    list_display = ["occurred_at", "actor_label", "action", "target_label", "via", "programme"]
    list_filter = ["via"]
    search_fields = ["actor_label", "action", "target_label"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EqualityData)
class EqualityDataAdmin(admin.ModelAdmin):
    """Individual equality answers: platform operators only (for subject-access and erasure
    requests). Programme staff never see them one by one, only in aggregate reports."""

    list_display = ["fellow", "programme", "updated_at"]
    readonly_fields = ["fellow", "programme", "gender", "ethnic_group", "disability", "age_band"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


# --- recruitment ------------------------------------------------------------------------------


@admin.register(RecruitmentCall)
class RecruitmentCallAdmin(ProgrammeScopedAdmin):
    """Calls are opened on the recruitment page (one per cohort); here they can be corrected."""

    list_display = ["cohort", "opens_on", "closes_on", "shortlist_threshold", "programme"]
    readonly_fields = ["uuid"]
    list_select_related = ["programme", "cohort"]

    def has_add_permission(self, request):
        return False


@admin.register(ApplicationQuestion)
class ApplicationQuestionAdmin(ProgrammeScopedAdmin):
    list_display = ["text", "call", "position", "required", "max_words"]
    readonly_fields = ["uuid"]
    list_select_related = ["programme", "call__cohort"]


@admin.register(ReviewCriterion)
class ReviewCriterionAdmin(ProgrammeScopedAdmin):
    list_display = ["name", "position", "programme"]
    readonly_fields = ["uuid"]


@admin.register(Application)
class ApplicationAdmin(ProgrammeScopedAdmin):
    """Applications arrive through the public form or an import, which email the applicant."""

    list_display = ["full_name", "email", "call", "status", "expressed_at", "submitted_at"]
    list_filter = ["status", "profession", "region"]
    search_fields = ["full_name", "email"]
    readonly_fields = ["uuid", "token", "fellow"]
    list_select_related = ["programme", "call__cohort"]

    def has_add_permission(self, request):
        return False


@admin.register(Review)
class ReviewAdmin(ProgrammeScopedAdmin):
    """Scores are the record of a selection decision: readable, not editable."""

    list_display = ["application", "reviewer", "score", "submitted_at"]
    readonly_fields = ["uuid", "application", "reviewer", "scores", "score", "submitted_at"]
    list_select_related = ["programme", "application__call__cohort", "reviewer"]

    def get_queryset(self, request):
        # Blind review holds here too: a staff reviewer sees others' scores of an application
        # only once they have scored it themselves or it has moved past review.
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        scored = Review.objects.filter(reviewer=request.user).values("application_id")
        return qs.filter(
            Q(application_id__in=scored) | ~Q(application__status=Application.Status.APPLIED)
        )

    def has_add_permission(self, request):
        return False


@admin.register(PeopleImport)
class PeopleImportAdmin(ProgrammeScopedAdmin):
    """The record of spreadsheet imports: read here, made on the import page."""

    list_display = ["created_at", "kind", "filename", "row_count", "status", "created_by"]
    list_filter = ["kind", "status"]
    exclude = ["state"]
    list_select_related = ["programme", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PartnerKey)
class PartnerKeyAdmin(ProgrammeScopedAdmin):
    """Partner API keys: staff create and revoke them on the Partner API page (the secret is
    shown once there); here they are looked up, never made or read back."""

    list_display = ["name", "organisation", "prefix", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["organisation"]
    list_select_related = ["programme", "organisation"]
    exclude = ["hashed_key"]
    readonly_fields = ["prefix", "scopes", "created_by", "revoked_at", "revoked_by", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(PartnerKeyUse)
class PartnerKeyUseAdmin(ProgrammeScopedAdmin):
    """Every request made with a partner key: a record, read-only."""

    list_display = ["at", "key", "method", "path", "status"]
    list_filter = ["status", "method"]
    list_select_related = ["programme", "key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ProgrammeScopedAdmin):
    """The answers kept for POSTs that carried an Idempotency-Key: read-only."""

    list_display = ["created_at", "key", "idempotency_key", "status"]
    list_select_related = ["programme", "key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Accounts: erasure, for platform operators (DESIGN §11) ----------------------------------
# accounts imports no other app of ours, so the account admin gains its erasure action here,
# where the service that erases across every app lives.


class AdminEraseForm(forms.Form):
    reason = forms.CharField(
        label="Reason (recorded in each programme's audit log)",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.action(description="Erase the selected people's personal data")
def erase_personal_data(modeladmin, request, queryset):
    """Erase through the same service as programme staff's page, after a confirmation page
    that asks for the reason; refusals (an operator's own account) are reported per person."""
    people = list(queryset.order_by("email"))
    form = AdminEraseForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        erased, refused = 0, []
        for person in people:
            try:
                erasure = person_erase(
                    subject=person,
                    requester=request.user,
                    reason=form.cleaned_data["reason"],
                    via=AuditEvent.Via.ADMIN,
                )
            except ValidationError as error:
                refused.append(f"{person.email}: {' '.join(error.messages)}")
            else:
                erased += erasure.first_time
        if erased:
            modeladmin.message_user(
                request, f"Erased the personal data of {erased} people.", messages.SUCCESS
            )
        for problem in refused:
            modeladmin.message_user(request, problem, messages.ERROR)
        return None
    return TemplateResponse(
        request,
        "admin/accounts/user/erase_personal_data.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Erase personal data",
            "opts": modeladmin.model._meta,
            "people": [
                (p, person_erasure_problem(subject=p, requester=request.user)) for p in people
            ],
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


class UserAdmin(AccountsUserAdmin):
    """The account admin with erasure, and the date an account was erased."""

    actions = [erase_personal_data]
    list_display = [*AccountsUserAdmin.list_display, "erased_at"]
    readonly_fields = [*AccountsUserAdmin.readonly_fields, "erased_at"]
    fieldsets = [
        *AccountsUserAdmin.fieldsets[:-1],
        ("Dates", {"fields": ["last_login", "date_joined", "erased_at"]}),
    ]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserAdmin)
