"""When the mail server refuses: growing pauses between tries, then `failed` after the last
one, listed for staff, who can send it again (DESIGN §10)."""

import itertools
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications import services
from notifications.models import Kind, OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusing_mail_server(settings):
    """Real SMTP to a port where nothing listens: every connection is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    return port


def _notify_fellow(programme, fellow) -> OutboxMessage:
    with scope(programme=programme):
        services.notify(
            programme=programme,
            recipients=[fellow],
            kind=Kind.SIGN_OFF_REQUEST,
            title="Please sign off the logbook",
        )
    with scopes_disabled():
        return OutboxMessage.objects.get(to_email=fellow.email)


def _make_due(message):
    with scopes_disabled():
        OutboxMessage.objects.filter(pk=message.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )


def _try_every_time(programme, message) -> list[timedelta]:
    """Send until the outbox gives up; returns the pause it chose after each failed try."""
    pauses = []
    with scope(programme=programme):
        for attempt in range(1, services.MAX_ATTEMPTS + 1):
            _make_due(message)
            before = timezone.now()
            assert services.outbox_send(message_id=message.pk) == "failed"
            after = timezone.now()
            message.refresh_from_db()
            assert message.attempts == attempt
            assert "ConnectionRefusedError" in message.last_error
            assert "Connection refused" in message.last_error
            if attempt == services.MAX_ATTEMPTS:
                break
            assert message.status == OutboxMessage.Status.PENDING
            expected = timedelta(minutes=2 ** (attempt - 1))
            assert before + expected <= message.next_attempt_at <= after + expected
            pauses.append(message.next_attempt_at - after)
            # Not due yet: nobody may claim it before its next try.
            assert services.outbox_send(message_id=message.pk) == "not-claimed"
            message.refresh_from_db()
            assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, attempt)
    return pauses


def test_a_refused_email_is_retried_with_growing_pauses_then_fails(
    refusing_mail_server, programme_a, fellow_a
):
    message = _notify_fellow(programme_a, fellow_a)
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)

    pauses = _try_every_time(programme_a, message)

    assert len(pauses) == services.MAX_ATTEMPTS - 1
    assert all(later > earlier for earlier, later in itertools.pairwise(pauses))
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == services.MAX_ATTEMPTS
    assert message.sent_at is None
    # Failed is final: neither a late task nor the sweep picks it up again.
    _make_due(message)
    with scope(programme=programme_a):
        assert services.outbox_send(message_id=message.pk) == "not-claimed"
    with scopes_disabled():
        assert message.pk not in [pk for pk, _ in services.outbox_due_ids()]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 6)


def test_staff_see_the_failed_email_and_send_it_again(
    refusing_mail_server,
    programme_a,
    staff_a,
    fellow_a,
    staff_b,
    client_for,
    django_capture_on_commit_callbacks,
):
    message = _notify_fellow(programme_a, fellow_a)
    _try_every_time(programme_a, message)
    assert message.status == OutboxMessage.Status.FAILED
    deliveries = f"/p/{programme_a.slug}/notifications/deliveries/"
    retry = f"{deliveries}{message.uuid}/retry/"

    # Only the programme's staff see the page or may retry.
    assert client_for(fellow_a).get(deliveries).status_code == 403
    assert client_for(fellow_a).post(retry).status_code == 403
    assert client_for(staff_b).post(retry).status_code in (403, 404)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED

    client = client_for(staff_a)
    page = client.get(deliveries)
    assert page.status_code == 200
    html = page.content.decode()
    assert fellow_a.email in html
    assert message.subject in html
    assert "Connection refused" in html
    assert f'action="{retry}"' in html
    assert page.context["counts"]["failed"] == 1

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(retry)
    assert response.status_code == 302
    assert response["Location"] == deliveries
    assert len(callbacks) == 1  # delivery is queued again once the retry commits
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)
    assert message.next_attempt_at <= timezone.now()
    assert "No email has failed." in client.get(deliveries).content.decode()

    # A fresh round of tries: the mail server still refuses, so it waits a minute again.
    with scope(programme=programme_a):
        assert services.outbox_send(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 1)
