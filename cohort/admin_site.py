"""The programme-scoped Django admin.

Programme staff reach the admin through their staff membership (not Django's is_staff flag) and
see and change only rows of the programmes where they are staff; superusers see everything.
Every admin change is written to the programme's audit log. Every tenant-owned ModelAdmin
subclasses `ProgrammeScopedAdmin`.
"""

from django.contrib import admin
from django.contrib.admin.filters import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_scopes import scopes_disabled

from .models import AuditEvent, Membership, Programme, Role


def staff_programme_ids(request) -> frozenset[int]:
    """The programmes where this person is staff, loaded once per request."""
    cached = getattr(request, "_staff_programme_ids", None)
    if cached is None:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            cached = frozenset()
        else:
            with scopes_disabled():
                cached = frozenset(
                    Membership.objects.filter(user=user, role=Role.STAFF).values_list(
                        "programme_id", flat=True
                    )
                )
        request._staff_programme_ids = cached
    return cached


class PitwallAdminSite(admin.AdminSite):
    site_header = "Pitwall administration"
    site_title = "Pitwall admin"
    index_title = "Programme administration"

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_authenticated
            and user.is_active
            and (user.is_superuser or staff_programme_ids(request))
        )

    def login(self, request, extra_context=None):
        # One sign-in for everyone: allauth's, with its rate limits and MFA.
        next_url = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated:
            raise PermissionDenied("Only programme staff and platform operators use the admin.")
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def _jsonable(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, list | tuple):
            out[key] = [str(v.pk) if isinstance(v, models.Model) else str(v) for v in value]
        elif value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        else:
            out[key] = str(value)
    return out


class AuditedAdminMixin:
    """Writes an audit event for every add, change and delete made through the admin."""

    def audit_programme(self, obj) -> Programme | None:
        if isinstance(obj, Programme):
            return obj
        return getattr(obj, "programme", None)

    def _audit(self, request, obj, action, changes):
        from .services import audit_log

        programme = self.audit_programme(obj)
        if programme is None:
            return
        audit_log(
            programme=programme,
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.{action}",
            target=obj,
            changes=changes,
            via=AuditEvent.Via.ADMIN,
        )

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changed = {name: form.cleaned_data.get(name) for name in form.changed_data}
            self._audit(request, obj, "changed" if change else "added", _jsonable(changed))

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit(request, obj, "deleted", _jsonable(model_to_dict(obj)))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._audit(request, obj, "deleted", _jsonable(model_to_dict(obj)))
            super().delete_queryset(request, queryset)


class ProgrammeScopedAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Base for every tenant-owned model: querysets, choices, filters and saves are limited
    to the programmes where the user is staff."""

    list_select_related = ["programme"]
    # A web address typed without a scheme is taken as https (Django 6's default, stated now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    # --- permissions: staff membership stands in for Django's model permissions -----------
    def _is_operator(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._is_operator(request) or bool(staff_programme_ids(request))

    def _may_touch(self, request, obj) -> bool:
        if self._is_operator(request):
            return True
        if not staff_programme_ids(request):
            return False
        return obj is None or obj.programme_id in staff_programme_ids(request)

    def has_view_permission(self, request, obj=None):
        return self._may_touch(request, obj)

    def has_add_permission(self, request):
        return self._may_touch(request, None)

    def has_change_permission(self, request, obj=None):
        return self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_touch(request, obj)

    # --- what staff see --------------------------------------------------------------------
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self._is_operator(request):
            return qs
        return qs.filter(programme_id__in=staff_programme_ids(request))

    def get_list_filter(self, request):
        # Plain foreign-key filters would list every programme's rows; offer only values
        # present in the rows this person may see.
        filters = []
        for item in ["programme", *super().get_list_filter(request)]:
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not self._is_operator(request):
            allowed = staff_programme_ids(request)
            if related is Programme:
                kwargs["queryset"] = Programme.objects.filter(pk__in=allowed)
            elif any(f.name == "programme" for f in related._meta.get_fields()):
                kwargs["queryset"] = related.objects.filter(programme_id__in=allowed)
            elif related._meta.label == "accounts.User":
                kwargs["queryset"] = related.objects.filter(
                    memberships__programme_id__in=allowed
                ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The form's choices are limited already; this guards a forged POST.
        if not self._is_operator(request) and obj.programme_id not in staff_programme_ids(request):
            raise PermissionDenied
        super().save_model(request, obj, form, change)
