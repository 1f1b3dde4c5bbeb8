"""Every write of the notifications app: notify(), delivery, preferences, announcements."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cohort.models import Fellow, Membership, Programme, Role
from cohort.services import audit_log

from .models import (
    CONFIGURABLE_KINDS,
    DEFAULT_DELIVERY,
    MANDATORY_KINDS,
    Announcement,
    AnnouncementReceipt,
    Delivery,
    Kind,
    Notification,
    OutboxMessage,
    Preference,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
UNSUBSCRIBE_SALT = "pitwall.notifications.unsubscribe"


# --- preferences ------------------------------------------------------------------------------


def delivery_for(*, programme: Programme, user, kind: str) -> str:
    return deliveries_for(programme=programme, users=[user], kind=kind)[user.pk]


def deliveries_for(*, programme: Programme, users: Iterable, kind: str) -> dict[int, str]:
    """How each person gets this kind (one query for everyone)."""
    users = list(users)
    if kind in MANDATORY_KINDS:
        return {u.pk: Delivery.IMMEDIATELY for u in users}
    chosen = dict(
        Preference.objects.filter(
            programme=programme, kind=kind, user__in=[u.pk for u in users]
        ).values_list("user_id", "delivery")
    )
    default = DEFAULT_DELIVERY.get(kind, Delivery.IMMEDIATELY)
    return {u.pk: chosen.get(u.pk, default) for u in users}


def deliveries_chosen(*, programme: Programme, user) -> dict[str, str]:
    """How this person gets each configurable kind (one query)."""
    chosen = dict(
        Preference.objects.filter(programme=programme, user=user).values_list("kind", "delivery")
    )
    return {
        kind: chosen.get(kind, DEFAULT_DELIVERY.get(kind, Delivery.IMMEDIATELY))
        for kind in CONFIGURABLE_KINDS
    }


def preference_set(*, programme: Programme, user, kind: str, delivery: str) -> Preference:
    if kind in MANDATORY_KINDS:
        raise ValidationError(
            f"“{Kind(kind).label}” cannot be switched off: they always arrive by email."
        )
    if kind not in Kind.values:
        raise ValidationError("That is not a kind of notification.")
    if delivery not in Delivery.values:
        raise ValidationError("Choose how you want to receive it.")
    with transaction.atomic():
        preference, _ = Preference.objects.update_or_create(
            programme=programme, user=user, kind=kind, defaults={"delivery": delivery}
        )
    return preference


def unsubscribe_token(*, programme: Programme, user, kind: str) -> str:
    return signing.dumps({"p": programme.pk, "u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, programme: Programme, user, kind: str) -> str:
    token = unsubscribe_token(programme=programme, user=user, kind=kind)
    return settings.SITE_URL + reverse("notifications_unsubscribe", kwargs={"token": token})


def unsubscribe_read(token: str) -> dict | None:
    """The (programme, user, kind) a link was made for, or None if it was altered."""
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=90))
    except signing.BadSignature:
        return None


# --- notify and the outbox --------------------------------------------------------------------


def _email_context(*, programme, title, body, link, unsubscribe=None):
    return {
        "programme": programme,
        "title": title,
        "body": body,
        "link_url": settings.SITE_URL + link if link else "",
        "unsubscribe_url": unsubscribe,
        "preferences_url": settings.SITE_URL
        + reverse("notifications:preferences", kwargs={"programme_slug": programme.slug}),
    }


def _outbox_for(*, programme, recipient, to_email, kind, title, body, link, notification=None):
    unsubscribe = None
    if recipient is not None and kind not in MANDATORY_KINDS and kind != Kind.DIGEST:
        unsubscribe = unsubscribe_url(programme=programme, user=recipient, kind=kind)
    context = _email_context(
        programme=programme, title=title, body=body, link=link, unsubscribe=unsubscribe
    )
    return OutboxMessage(
        programme=programme,
        recipient=recipient,
        to_email=to_email,
        kind=kind,
        notification=notification,
        subject=f"[{programme.display_short_name}] {title}"[:255],
        body_text=render_to_string("notifications/email/notification.txt", context),
        body_html=render_to_string("notifications/email/notification.html", context),
    )


def _dispatch_after_commit(messages: list[OutboxMessage]) -> None:
    """Queue delivery once the transaction commits. If the broker is down the change still
    succeeds: the rows are in the outbox and the sweep sends them when it can."""
    if not messages:
        return
    ids = [m.pk for m in messages]
    programme_id = messages[0].programme_id

    def enqueue():
        from .tasks import outbox_deliver

        for message_id in ids:
            try:
                outbox_deliver.apply_async(
                    kwargs={"message_id": message_id, "programme_id": programme_id},
                    retry=False,
                )
            except Exception:  # the broker is unreachable; the sweep will deliver
                logger.warning("Broker unavailable; message %s left for the sweep", message_id)
                return

    transaction.on_commit(enqueue, robust=True)


def notify(
    *,
    programme: Programme,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    actor=None,
) -> list[Notification]:
    """Tell people that something concerning them happened. Call it inside the transaction of
    the change: the notifications and their outbox rows commit or roll back with it."""
    recipients = [r for r in dict.fromkeys(recipients) if r is not None and r.is_active]
    if not recipients:
        return []
    deliveries = deliveries_for(programme=programme, users=recipients, kind=kind)
    now = timezone.now()
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    programme=programme,
                    recipient=user,
                    kind=kind,
                    title=title[:200],
                    body=body,
                    link=link,
                    actor_label=getattr(actor, "display_name", "") if actor else "",
                    created_at=now,
                    digest_state=Notification.DigestState.PENDING
                    if deliveries[user.pk] == Delivery.DIGEST
                    else Notification.DigestState.NONE,
                )
                for user in recipients
            ]
        )
        # bulk_create sets primary keys on PostgreSQL and SQLite; the outbox points at them.
        messages = OutboxMessage.objects.bulk_create(
            [
                _outbox_for(
                    programme=programme,
                    recipient=n.recipient,
                    to_email=n.recipient.email,
                    kind=kind,
                    title=title,
                    body=body,
                    link=reverse(
                        "notifications:open",
                        kwargs={"programme_slug": programme.slug, "notification_uuid": n.uuid},
                    ),
                    notification=n,
                )
                for n in notifications
                if deliveries[n.recipient_id] == Delivery.IMMEDIATELY
            ]
        )
        _dispatch_after_commit(messages)
    return notifications


def email_enqueue(
    *, programme: Programme, to_email: str, kind: str, title: str, body: str, link: str = ""
) -> OutboxMessage:
    """An email to an address with no account yet (invitations), through the same outbox."""
    with transaction.atomic():
        message = _outbox_for(
            programme=programme,
            recipient=None,
            to_email=to_email,
            kind=kind,
            title=title,
            body=body,
            link=link,
        )
        message.save()
        _dispatch_after_commit([message])
    return message


def _claim(message_id: int) -> bool:
    """Take the message for sending. The conditional UPDATE lets exactly one worker win, so two
    workers (or a redelivered task) never send the same message twice."""
    now = timezone.now()
    won = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now
    ).update(status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return won == 1


def outbox_send(*, message_id: int) -> str:
    """Claim and send one outbox message; on failure schedule a retry or give up and report."""
    if not _claim(message_id):
        return "not-claimed"
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to_email],
            headers={"Message-ID": f"<{message.uuid}@pitwall>", "X-Pitwall-Kind": message.kind},
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        email.send(fail_silently=False)
    except Exception as error:  # any transport failure: retry later, never lose the row
        _record_failure(message, error)
        return "failed"
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _record_failure(message: OutboxMessage, error: Exception) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.FAILED, last_error=text
        )
        logger.error("Outbox message %s failed after every try: %s", message.pk, text)
        return
    # Exponential backoff: 1, 2, 4, 8, 16 minutes.
    delay = timedelta(minutes=2 ** (message.attempts - 1))
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.PENDING,
        next_attempt_at=timezone.now() + delay,
        last_error=text,
    )


def outbox_due_ids(*, limit: int = 500) -> list[tuple[int, int]]:
    """(message id, programme id) of messages due now, after releasing stale claims whose
    worker died mid-delivery. Called by the sweep with scopes disabled."""
    now = timezone.now()
    OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.PITWALL_OUTBOX_CLAIM_LEASE_SECONDS),
    ).update(status=OutboxMessage.Status.PENDING)
    return list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "programme_id")[:limit]
    )


def outbox_retry(*, message: OutboxMessage, actor) -> OutboxMessage:
    """Staff send a failed message again (after fixing the mail server, say)."""
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxMessage.Status.FAILED
        ).update(status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
        if not updated:
            raise ValidationError("Only a message that failed can be sent again.")
        audit_log(
            programme=message.programme,
            actor=actor,
            action="outbox.retried",
            target=message,
            changes={"to": message.to_email},
        )
        message.refresh_from_db()
        _dispatch_after_commit([message])
    return message


# --- the in-app centre ------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )


def notifications_mark_all_read(*, programme: Programme, user) -> int:
    return Notification.objects.filter(
        programme=programme, recipient=user, read_at__isnull=True
    ).update(read_at=timezone.now())


# --- the daily digest -------------------------------------------------------------------------


def digest_build(*, programme: Programme, user) -> OutboxMessage | None:
    """One email listing what is waiting for this person's digest; nothing if nothing is."""
    with transaction.atomic():
        items = list(
            Notification.objects.select_for_update()
            .filter(
                programme=programme,
                recipient=user,
                digest_state=Notification.DigestState.PENDING,
            )
            .order_by("created_at")
        )
        if not items:
            return None
        context = {
            "programme": programme,
            "user": user,
            "items": [
                {
                    "title": n.title,
                    "body": n.body,
                    "created_at": n.created_at,
                    "url": settings.SITE_URL
                    + reverse(
                        "notifications:open",
                        kwargs={"programme_slug": programme.slug, "notification_uuid": n.uuid},
                    ),
                }
                for n in items
            ],
            "preferences_url": settings.SITE_URL
            + reverse("notifications:preferences", kwargs={"programme_slug": programme.slug}),
        }
        count = len(items)
        message = OutboxMessage.objects.create(
            programme=programme,
            recipient=user,
            to_email=user.email,
            kind=Kind.DIGEST,
            subject=f"[{programme.display_short_name}] Your daily digest: "
            f"{count} update{'s' if count != 1 else ''}",
            body_text=render_to_string("notifications/email/digest.txt", context),
            body_html=render_to_string("notifications/email/digest.html", context),
        )
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(
            digest_state=Notification.DigestState.SENT
        )
        _dispatch_after_commit([message])
    return message


def digest_recipients(*, programme: Programme) -> list[int]:
    return list(
        Notification.objects.filter(
            programme=programme, digest_state=Notification.DigestState.PENDING
        )
        .values_list("recipient_id", flat=True)
        .distinct()
    )


# --- announcements ----------------------------------------------------------------------------


def announcement_audience(*, announcement: Announcement) -> list:
    """The people an announcement goes to (active accounts only)."""
    from django.contrib.auth import get_user_model

    programme = announcement.programme
    if announcement.audience == Announcement.Audience.COHORT:
        user_ids = Fellow.objects.filter(
            programme=programme, cohort=announcement.cohort
        ).values_list("user_id", flat=True)
    else:
        members = Membership.objects.filter(programme=programme)
        if announcement.audience == Announcement.Audience.ROLE:
            members = members.filter(role=announcement.role)
        user_ids = members.values_list("user_id", flat=True)
    return list(
        get_user_model().objects.filter(pk__in=list(user_ids), is_active=True).order_by("pk")
    )


def announcement_publish(
    *,
    programme: Programme,
    author,
    title: str,
    body: str,
    audience: str,
    cohort=None,
    role: str = "",
) -> Announcement:
    """Publish an announcement: receipts for each recipient and a notification to each."""
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Enter a title."
    if not body:
        errors["body"] = "Enter the text of the announcement."
    if audience not in Announcement.Audience.values:
        errors["audience"] = "Choose who the announcement is for."
    elif audience == Announcement.Audience.COHORT and cohort is None:
        errors["cohort"] = "Choose the cohort."
    elif audience == Announcement.Audience.ROLE and role not in Role.values:
        errors["role"] = "Choose the role."
    if cohort is not None and cohort.programme_id != programme.pk:
        errors["cohort"] = "Choose a cohort of this programme."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        announcement = Announcement.objects.create(
            programme=programme,
            author=author,
            title=title,
            body=body,
            audience=audience,
            cohort=cohort if audience == Announcement.Audience.COHORT else None,
            role=role if audience == Announcement.Audience.ROLE else "",
        )
        recipients = announcement_audience(announcement=announcement)
        if not recipients:
            raise ValidationError({"audience": "Nobody is in that audience yet."})
        author_id = getattr(author, "pk", None)
        AnnouncementReceipt.objects.bulk_create(
            [
                AnnouncementReceipt(
                    programme=programme,
                    announcement=announcement,
                    user=u,
                    # The author has read what they wrote.
                    read_at=announcement.published_at if u.pk == author_id else None,
                )
                for u in recipients
            ]
        )
        notify(
            programme=programme,
            recipients=[u for u in recipients if u.pk != author_id],
            kind=Kind.ANNOUNCEMENT,
            title=title,
            body=body,
            link=reverse(
                "notifications:announcement",
                kwargs={"programme_slug": programme.slug, "announcement_uuid": announcement.uuid},
            ),
            actor=author,
        )
        audit_log(
            programme=programme,
            actor=author,
            action="announcement.published",
            target=announcement,
            changes={"audience": announcement.audience_label, "recipients": len(recipients)},
        )
    return announcement


def announcement_mark_read(*, announcement: Announcement, user) -> None:
    AnnouncementReceipt.objects.filter(
        announcement=announcement, user=user, read_at__isnull=True
    ).update(read_at=timezone.now())


def announcement_dismiss(*, announcement: Announcement, user) -> bool:
    now = timezone.now()
    receipts = AnnouncementReceipt.objects.filter(announcement=announcement, user=user)
    receipts.filter(read_at__isnull=True).update(read_at=now)
    return bool(receipts.filter(dismissed_at__isnull=True).update(dismissed_at=now))
