"""Reads of the notifications app, each taking the programme and the person explicitly."""

from django.db.models import Count, Q

from .models import (
    Announcement,
    AnnouncementReceipt,
    Notification,
    OutboxMessage,
    WebhookDelivery,
)


def unread_count(*, programme, user) -> int:
    """The bell's number: one COUNT query on the partial unread index."""
    return Notification.objects.filter(
        programme=programme, recipient=user, read_at__isnull=True
    ).count()


def notification_list(*, programme, user, unread_only: bool = False):
    qs = Notification.objects.filter(programme=programme, recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def announcements_for_home(*, programme, user, limit: int = 5):
    """Announcements shown on a home page until the person dismisses them."""
    return list(
        AnnouncementReceipt.objects.filter(
            programme=programme, user=user, dismissed_at__isnull=True
        )
        .select_related("announcement")
        .order_by("-announcement__published_at")[:limit]
    )


def announcement_list(*, programme):
    return (
        Announcement.objects.filter(programme=programme)
        .select_related("author", "cohort")
        .annotate(
            recipient_count=Count("receipts"),
            read_count=Count("receipts", filter=Q(receipts__read_at__isnull=False)),
        )
        .order_by("-published_at", "-id")
    )


def announcement_receipts(*, announcement):
    return AnnouncementReceipt.objects.filter(
        programme=announcement.programme, announcement=announcement
    ).select_related("user")


def failed_messages(*, programme):
    return OutboxMessage.objects.filter(
        programme=programme, status=OutboxMessage.Status.FAILED
    ).select_related("recipient")


def outbox_counts(*, programme) -> dict[str, int]:
    rows = (
        OutboxMessage.objects.filter(programme=programme)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = dict(rows)
    return {status: counts.get(status, 0) for status in OutboxMessage.Status.values}


def webhook_deliveries(*, programme, status: str = ""):
    """The programme's partner webhook deliveries, newest first, optionally of one status."""
    qs = WebhookDelivery.objects.filter(programme=programme).select_related(
        "endpoint__organisation"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def webhook_counts(*, programme) -> dict[str, int]:
    rows = (
        WebhookDelivery.objects.filter(programme=programme)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = dict(rows)
    return {status: counts.get(status, 0) for status in WebhookDelivery.Status.values}
