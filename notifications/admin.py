from django.contrib import admin

from cohort.admin_site import ProgrammeScopedAdmin

from .models import (
    Announcement,
    AnnouncementReceipt,
    Notification,
    OutboxMessage,
    Preference,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(Notification)
class NotificationAdmin(ProgrammeScopedAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at", "programme"]
    list_filter = ["kind", "digest_state"]
    search_fields = ["title", "recipient__email"]
    readonly_fields = ["uuid", "created_at"]
    list_select_related = ["programme", "recipient"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ProgrammeScopedAdmin):
    """What was emailed, and what failed. Messages are evidence: read-only here; staff resend
    a failed one from the Email deliveries page."""

    list_display = ["subject", "to_email", "kind", "status", "attempts", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "to_email"]
    list_select_related = ["programme"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Preference)
class PreferenceAdmin(ProgrammeScopedAdmin):
    list_display = ["user", "kind", "delivery", "programme"]
    list_filter = ["kind", "delivery"]
    search_fields = ["user__email"]
    list_select_related = ["programme", "user"]


class ReceiptInline(admin.TabularInline):
    model = AnnouncementReceipt
    fields = ["user", "read_at", "dismissed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(ProgrammeScopedAdmin):
    list_display = ["title", "audience", "published_at", "author", "programme"]
    list_filter = ["audience"]
    search_fields = ["title", "body"]
    readonly_fields = ["uuid", "author", "published_at"]
    inlines = [ReceiptInline]


@admin.register(AnnouncementReceipt)
class AnnouncementReceiptAdmin(ProgrammeScopedAdmin):
    """Read receipts record what people did; nobody edits them."""

    list_display = ["announcement", "user", "read_at", "dismissed_at"]
    search_fields = ["user__email", "announcement__title"]
    list_select_related = ["programme", "announcement", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ProgrammeScopedAdmin):
    """Partners register, and delete, their endpoints through the API; read-only here, and
    the signing secret is never shown."""

    list_display = ["url", "organisation", "key", "active", "created_at", "programme"]
    list_filter = ["active"]
    search_fields = ["url", "organisation__name"]
    list_select_related = ["programme", "organisation", "key"]
    fields = ["uuid", "programme", "organisation", "key", "url", "events", "active", "disabled_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ProgrammeScopedAdmin):
    """What was sent to partners: evidence, read-only here; staff send one again from the
    Webhook deliveries page."""

    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["endpoint__url"]
    list_select_related = ["programme", "endpoint"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
