"""The hourly event reminders, queued as beat queues them, run on a real Celery worker: the
reminder goes out by email through the outbox once, and a second run sends nothing."""

import ast
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from cohort.models import Role
from events.models import Registration
from events.tasks import event_reminders_hourly
from notifications.models import Kind, OutboxMessage
from tests.factories import EventFactory, MembershipFactory, RegistrationFactory

from .conftest import sent_emails, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _task_result(worker, task_id: str, *, timeout=60):
    """What the task returned, read from the worker's log (its results are not stored)."""
    pattern = re.compile(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (.*)")
    found = []

    def finished():
        found[:] = pattern.findall(worker.log())
        return bool(found)

    wait_for(finished, timeout=timeout, message=f"task {task_id} to finish on {worker.name}")
    return ast.literal_eval(found[0].strip())


def test_the_hourly_reminders_run_on_a_real_worker_and_send_once(
    worker_factory, celery_producer, redis_url, programme_a
):
    queue = f"pitwall-test-{uuid.uuid4().hex[:8]}"
    worker = worker_factory(queue=queue, redis_url=redis_url)
    celery_producer(queue=queue)
    starts = (timezone.now() + timedelta(hours=6)).replace(second=0, microsecond=0)
    event = EventFactory(
        programme=programme_a,
        title="Pit Stop: pitching to the NHS",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
    )
    person = MembershipFactory(programme=programme_a, role=Role.FELLOW).user
    waiting = MembershipFactory(programme=programme_a, role=Role.FELLOW).user
    with scopes_disabled():
        registration = RegistrationFactory(event=event, user=person)
        RegistrationFactory(event=event, user=waiting, status="waitlisted")

    first = event_reminders_hourly.delay()
    assert _task_result(worker, first.id) == 1

    def delivered():
        with scopes_disabled():
            return OutboxMessage.objects.filter(
                kind=Kind.REMINDER, status=OutboxMessage.Status.SENT
            ).exists()

    wait_for(delivered, message="the worker to email the reminder from the outbox")
    (message,) = sent_emails(worker.mail_dir)
    assert message["To"] == person.email
    subject = " ".join(message["Subject"].split())  # long subjects are folded
    assert "Reminder: Pit Stop: pitching to the NHS, " in subject
    with scopes_disabled():
        assert Registration.objects.get(pk=registration.pk).reminded_for == starts

    second = event_reminders_hourly.delay()
    assert _task_result(worker, second.id) == 0
    with scopes_disabled():
        assert OutboxMessage.objects.filter(kind=Kind.REMINDER).count() == 1
    assert len(sent_emails(worker.mail_dir)) == 1
