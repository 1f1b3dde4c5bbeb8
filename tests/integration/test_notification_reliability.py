"""Nothing is lost and nothing is sent twice (DESIGN §10), shown with real processes: a Redis
that goes away and comes back, a worker killed in the middle of sending, and two senders
racing for one outbox row."""

import logging
import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Role
from notifications import services
from notifications.models import Announcement, Kind, OutboxMessage
from notifications.tasks import outbox_sweep
from tests.conftest import skip_or_fail
from tests.factories import MembershipFactory, OutboxMessageFactory, UserFactory

from .conftest import SLOW_FILE_BACKEND, sent_emails, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Short enough to keep the test quick, long enough that a worker restart fits inside the lease
# even on a slow CI machine (one took 15 s to start the second worker and run its first task).
VISIBILITY_TIMEOUT = 2
CLAIM_LEASE = 40


def _queue() -> str:
    return f"pitwall-test-{uuid.uuid4().hex[:8]}"


def _message_id(message: OutboxMessage) -> str:
    return f"<{message.uuid}@pitwall>"


def _task_result(worker, task_id: str, *, timeout=30) -> str:
    """What a task returned, read from the worker's log (the worker stores its results in a
    Redis the test process does not read from)."""
    pattern = re.compile(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (.*)")
    found = []

    def finished():
        found[:] = pattern.findall(worker.log())
        return bool(found)

    wait_for(finished, timeout=timeout, message=f"task {task_id} to finish on {worker.name}")
    return found[0].strip()


def _outbox(**filters) -> list[OutboxMessage]:
    with scopes_disabled():
        return list(OutboxMessage.objects.filter(**filters).order_by("pk"))


def test_an_announcement_made_while_redis_is_down_is_delivered_once_it_is_back(
    private_redis,
    worker_factory,
    celery_producer,
    client_for,
    programme_a,
    staff_a,
    fellow_a,
    mentor_a,
    caplog,
):
    others = [UserFactory(email=f"fellow{n}@alpha.example") for n in range(2)]
    for user in others:
        MembershipFactory(programme=programme_a, user=user, role=Role.FELLOW)
    recipients = sorted(u.email for u in [fellow_a, mentor_a, *others])  # not the author
    queue = _queue()
    celery_producer(queue=queue, broker_url=private_redis.url)
    private_redis.stop()
    assert not private_redis.answers()

    caplog.set_level(logging.WARNING, logger="notifications.services")
    started = time.monotonic()
    response = client_for(staff_a).post(
        f"/p/{programme_a.slug}/announcements/new/",
        {"title": "Track day moved", "body": "Now on Friday.", "audience": "programme"},
    )
    took = time.monotonic() - started
    # The change succeeded although the broker is down: a redirect to the announcement.
    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        announcement = Announcement.objects.get(title="Track day moved")
    assert response["Location"].endswith(f"/announcements/{announcement.uuid}/")
    assert "Broker unavailable" in caplog.text  # the enqueue was tried, failed, was logged
    messages = _outbox(kind=Kind.ANNOUNCEMENT)
    assert sorted(m.to_email for m in messages) == recipients
    assert {(m.status, m.attempts) for m in messages} == {(OutboxMessage.Status.PENDING, 0)}
    assert took < 30, f"publishing with the broker down took {took:.1f}s"

    # Redis comes back (empty: it kept nothing) and a worker starts; nothing was queued, so
    # only the sweep (beat sends it every minute) can deliver the messages.
    private_redis.start()
    worker = worker_factory(queue=queue, redis_url=private_redis.url)
    assert {m.status for m in _outbox(kind=Kind.ANNOUNCEMENT)} == {OutboxMessage.Status.PENDING}
    sweep = outbox_sweep.apply_async()
    assert _task_result(worker, sweep.id) == str(len(recipients))

    messages = _outbox(kind=Kind.ANNOUNCEMENT)
    assert {(m.status, m.attempts) for m in messages} == {(OutboxMessage.Status.SENT, 1)}
    emails = sent_emails(worker.mail_dir)
    assert sorted(e["Message-ID"] for e in emails) == sorted(_message_id(m) for m in messages)
    assert sorted(e["To"] for e in emails) == recipients
    assert all("Track day moved" in e["Subject"] for e in emails)

    # Another sweep finds nothing left to send.
    again = outbox_sweep.apply_async()
    assert _task_result(worker, again.id) == "0"
    assert len(sent_emails(worker.mail_dir)) == len(recipients)


def test_a_worker_killed_while_sending_is_recovered_and_the_email_goes_once(
    private_redis, worker_factory, celery_producer, programme_a, fellow_a, tmp_path
):
    queue = _queue()
    reliability = {
        "PITWALL_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "PITWALL_OUTBOX_CLAIM_LEASE_SECONDS": str(CLAIM_LEASE),
    }
    marker = tmp_path / "sending.marker"
    first = worker_factory(
        name="first",
        queue=queue,
        redis_url=private_redis.url,
        env={
            **reliability,
            "EMAIL_BACKEND": SLOW_FILE_BACKEND,
            "PITWALL_TEST_MAIL_MARKER": str(marker),
            "PITWALL_TEST_MAIL_DELAY": "60",
        },
    )
    celery_producer(queue=queue, broker_url=private_redis.url)
    with scope(programme=programme_a):
        services.notify(
            programme=programme_a,
            recipients=[fellow_a],
            kind=Kind.SIGN_OFF_REQUEST,
            title="Please sign off the logbook",
        )
    [message] = _outbox()

    wait_for(
        lambda: marker.exists() and _message_id(message) in marker.read_text(),
        timeout=30,
        message="the first worker to start sending",
    )
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.SENDING, 1)
    assert message.claimed_at is not None
    task_id = re.search(r"outbox_deliver\[([0-9a-f-]+)\] received", first.log()).group(1)
    broker = private_redis.client()
    assert broker.hlen("unacked") == 1  # acks_late: the task is not acknowledged yet

    first.kill()
    killed_at = time.monotonic()
    assert sent_emails(first.mail_dir) == []
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENDING  # the claim outlives the worker

    # The broker hands an unacknowledged task out again once it is older than the visibility
    # timeout; a worker looks for such tasks when it starts polling.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed_at)))
    second = worker_factory(
        name="second", queue=queue, redis_url=private_redis.url, env=reliability
    )
    assert _task_result(second, task_id) == "'not-claimed'"  # redelivered, and it did not send
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.SENDING, 1)
    assert sent_emails(first.mail_dir, second.mail_dir) == []

    # While the lease runs the sweep leaves the claim alone too.
    held_for = timezone.now() - message.claimed_at
    assert held_for < timedelta(seconds=CLAIM_LEASE - 3), f"too slow: claim {held_for} old"
    early = outbox_sweep.apply_async()
    assert _task_result(second, early.id) == "0"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENDING

    # After the lease the sweep releases the claim and sends.
    expires = message.claimed_at + timedelta(seconds=CLAIM_LEASE + 0.5)
    time.sleep(max(0.0, (expires - timezone.now()).total_seconds()))
    late = outbox_sweep.apply_async()
    assert _task_result(second, late.id) == "1"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.SENT, 2)
    assert message.sent_at is not None and message.last_error == ""
    emails = sent_emails(first.mail_dir, second.mail_dir)
    assert [e["Message-ID"] for e in emails] == [_message_id(message)]
    assert emails[0]["To"] == fellow_a.email
    assert broker.hlen("unacked") == 0  # the redelivered task was acknowledged


def test_two_senders_racing_for_one_message_send_it_once(
    transactional_db, programme_a, settings, monkeypatch, tmp_path
):
    if connection.vendor != "postgresql":
        skip_or_fail("the race needs PostgreSQL's row locks (set DATABASE_URL)")
    settings.EMAIL_BACKEND = SLOW_FILE_BACKEND
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    marker = tmp_path / "sending.marker"
    monkeypatch.setenv("PITWALL_TEST_MAIL_MARKER", str(marker))
    # The winner is still inside the send while the others try to claim.
    monkeypatch.setenv("PITWALL_TEST_MAIL_DELAY", "0.5")
    with scopes_disabled():
        messages = [OutboxMessageFactory(programme=programme_a) for _ in range(3)]
    senders = 4

    for message in messages:
        start = threading.Barrier(senders, timeout=10)
        results = []

        def send(message_id=message.pk, start=start, results=results):
            try:
                with scope(programme=programme_a):  # each thread has its own DB connection
                    start.wait()
                    results.append(services.outbox_send(message_id=message_id))
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(t.is_alive() for t in threads)
        assert sorted(results) == ["not-claimed"] * (senders - 1) + ["sent"]

    for message in messages:
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxMessage.Status.SENT, 1)
    assert len(marker.read_text().splitlines()) == len(messages)  # one send each
    emails = sent_emails(tmp_path / "mail")
    assert sorted(e["Message-ID"] for e in emails) == sorted(_message_id(m) for m in messages)
