"""notify() and the outbox: written with the change, delivered once, never lost."""

import itertools
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications import services
from notifications.models import Delivery, Kind, Notification, OutboxMessage, Preference
from notifications.tasks import outbox_sweep

from ..factories import OutboxMessageFactory, UserFactory

pytestmark = pytest.mark.django_db


def _notify(programme, recipients, kind=Kind.ANNOUNCEMENT, title="Pit Stop moved to Leeds"):
    with scope(programme=programme):
        return services.notify(
            programme=programme,
            recipients=recipients,
            kind=kind,
            title=title,
            body="The venue has changed.",
            link=f"/p/{programme.slug}/",
        )


def test_notify_writes_the_notification_and_an_outbox_row_and_sends_after_commit(
    programme_a, fellow_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify(programme_a, [fellow_a])
    assert len(callbacks) == 1
    with scopes_disabled():
        notification = Notification.objects.get()
        message = OutboxMessage.objects.get()
    assert notification.recipient == fellow_a and notification.read_at is None
    assert message.notification == notification
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.subject == f"[{programme_a.name}] Pit Stop moved to Leeds"
    assert f"/p/{programme_a.slug}/notifications/{notification.uuid}/" in email.body
    assert "Stop these emails" in email.body  # announcements are optional
    assert email.alternatives and "Open in Pitwall" in email.alternatives[0][0]


def test_a_rolled_back_change_sends_nothing(programme_a, fellow_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify(programme_a, [fellow_a])
        raise RuntimeError("the change failed")
    with scopes_disabled():
        assert not Notification.objects.exists()
        assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_preferences_decide_the_channel(programme_a, fellow_a, mentor_a, staff_a):
    with scopes_disabled():
        Preference.objects.create(
            programme=programme_a, user=mentor_a, kind=Kind.ANNOUNCEMENT, delivery=Delivery.DIGEST
        )
        Preference.objects.create(
            programme=programme_a, user=staff_a, kind=Kind.ANNOUNCEMENT, delivery=Delivery.IN_APP
        )
    _notify(programme_a, [fellow_a, mentor_a, staff_a])
    with scopes_disabled():
        assert Notification.objects.count() == 3
        assert list(OutboxMessage.objects.values_list("to_email", flat=True)) == [fellow_a.email]
        pending_digest = Notification.objects.get(recipient=mentor_a)
    assert pending_digest.digest_state == Notification.DigestState.PENDING


def test_mandatory_kinds_ignore_preferences(
    programme_a, fellow_a, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        Preference.objects.create(
            programme=programme_a,
            user=fellow_a,
            kind=Kind.SIGN_OFF_REQUEST,
            delivery=Delivery.IN_APP,
        )
    with django_capture_on_commit_callbacks(execute=True):
        _notify(programme_a, [fellow_a], kind=Kind.SIGN_OFF_REQUEST, title="Please sign off")
    assert len(mail.outbox) == 1
    assert "Stop these emails" not in mail.outbox[0].body


def test_inactive_people_and_duplicates_are_skipped(programme_a, fellow_a):
    gone = UserFactory(is_active=False)
    notifications = _notify(programme_a, [fellow_a, fellow_a, gone, None])
    assert [n.recipient for n in notifications] == [fellow_a]


def test_a_claimed_message_is_sent_once(programme_a):
    with scopes_disabled():
        message = OutboxMessageFactory(programme=programme_a)
    with scope(programme=programme_a):
        assert services.outbox_send(message_id=message.pk) == "sent"
        # A redelivered task, or a second worker, finds nothing to claim.
        assert services.outbox_send(message_id=message.pk) == "not-claimed"
    assert len(mail.outbox) == 1


def test_failures_back_off_then_fail_and_are_reported(programme_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with scopes_disabled():
        message = OutboxMessageFactory(programme=programme_a)
    delays = []
    with scope(programme=programme_a):
        for _ in range(services.MAX_ATTEMPTS):
            assert services.outbox_send(message_id=message.pk) == "failed"
            message.refresh_from_db()
            if message.status == OutboxMessage.Status.PENDING:
                delays.append(message.next_attempt_at - timezone.now())
                OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == services.MAX_ATTEMPTS
    assert "Connection refused" in message.last_error or "Errno" in message.last_error
    assert all(later > earlier for earlier, later in itertools.pairwise(delays))


def test_the_sweep_sends_what_is_pending_and_releases_stale_claims(programme_a, settings):
    with scopes_disabled():
        waiting = OutboxMessageFactory(programme=programme_a)
        not_yet = OutboxMessageFactory(
            programme=programme_a, next_attempt_at=timezone.now() + timedelta(hours=1)
        )
        stale = OutboxMessageFactory(
            programme=programme_a,
            status=OutboxMessage.Status.SENDING,
            claimed_at=timezone.now()
            - timedelta(seconds=settings.PITWALL_OUTBOX_CLAIM_LEASE_SECONDS + 5),
            attempts=1,
        )
        fresh_claim = OutboxMessageFactory(
            programme=programme_a, status=OutboxMessage.Status.SENDING, claimed_at=timezone.now()
        )
    assert outbox_sweep() == 2
    with scopes_disabled():
        statuses = {
            m.pk: m.status
            for m in OutboxMessage.objects.filter(
                pk__in=[waiting.pk, not_yet.pk, stale.pk, fresh_claim.pk]
            )
        }
    assert statuses == {
        waiting.pk: "sent",
        not_yet.pk: "pending",
        stale.pk: "sent",
        fresh_claim.pk: "sending",  # its worker may still be sending: left alone
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted([waiting.to_email, stale.to_email])
    assert outbox_sweep() == 0


def test_a_broker_outage_does_not_fail_the_change(
    programme_a, fellow_a, settings, django_capture_on_commit_callbacks
):
    from config.celery import app

    # A real broker address where nothing listens: publishing fails at once.
    app.conf.task_always_eager = False
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _notify(programme_a, [fellow_a])
    finally:
        app.conf.broker_url = previous
        app.conf.task_always_eager = True
    with scopes_disabled():
        message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.PENDING  # kept for the sweep
    assert outbox_sweep() == 1
    assert len(mail.outbox) == 1
