"""What the notifications app holds about a person (accounts.personal_data).

Called under scopes_disabled(): every query below filters to the one person it is given.
"""

from __future__ import annotations

from accounts.personal_data import Erasure, not_personal, register, row

from .models import Announcement, AnnouncementReceipt, Notification, OutboxMessage, Preference


def _programme(obj) -> str:
    return obj.programme.name


def export_notifications(user):
    qs = Notification.objects.filter(recipient=user).select_related("programme")
    return [
        row(
            n, [("programme", _programme), "kind", "title", "body", "link", "created_at", "read_at"]
        )
        for n in qs.order_by("created_at", "id")
    ]


def erase_notifications(erasure: Erasure):
    erasure.tally("notifications", Notification.objects.filter(recipient=erasure.user).delete()[0])


def export_emails(user):
    qs = OutboxMessage.objects.filter(recipient=user).select_related("programme")
    return [
        row(
            m,
            [
                ("programme", _programme),
                "to_email",
                "channel",
                "kind",
                "subject",
                "status",
                "created_at",
                "sent_at",
            ],
        )
        for m in qs.order_by("created_at", "id")
    ]


def erase_emails(erasure: Erasure):
    # Deleted rather than kept: a pending message must never go to the old address, and a
    # sent one is a copy of what the person already received.
    erasure.tally("emails", OutboxMessage.objects.filter(recipient=erasure.user).delete()[0])


def export_preferences(user):
    qs = Preference.objects.filter(user=user).select_related("programme")
    return [row(p, [("programme", _programme), "kind", "delivery"]) for p in qs.order_by("id")]


def erase_preferences(erasure: Erasure):
    erasure.tally(
        "notification preferences", Preference.objects.filter(user=erasure.user).delete()[0]
    )


def export_receipts(user):
    qs = AnnouncementReceipt.objects.filter(user=user).select_related("programme", "announcement")
    return [
        row(
            r,
            [
                ("programme", _programme),
                ("announcement", lambda r: r.announcement.title),
                "read_at",
                "dismissed_at",
            ],
        )
        for r in qs.order_by("id")
    ]


def erase_receipts(erasure: Erasure):
    erasure.tally(
        "announcement receipts",
        AnnouncementReceipt.objects.filter(user=erasure.user).delete()[0],
    )


def register_all():
    register(
        Notification,
        section="notifications",
        title="Your notifications",
        description="The messages in your notification centre, and when you read them.",
        export=export_notifications,
        erase=erase_notifications,
    )
    register(
        OutboxMessage,
        section="emails",
        title="Emails sent to you",
        description="The emails Pitwall sent or queued for you: subject, address and status.",
        export=export_emails,
        erase=erase_emails,
    )
    register(
        Preference,
        section="notification_preferences",
        title="Your notification settings",
        description="How you chose to hear about each kind of notification.",
        export=export_preferences,
        erase=erase_preferences,
    )
    register(
        AnnouncementReceipt,
        section="announcement_receipts",
        title="Announcements you read",
        description="Which announcements you read or dismissed, and when.",
        export=export_receipts,
        erase=erase_receipts,
    )
    not_personal(
        Announcement,
        reason="A staff announcement to a programme: it names staff only as its author.",
    )
