"""The daily meeting reminders, queued as beat queues them, run on a real Celery worker: the
reminders go out by email through the outbox, and a second run sends nothing new."""

import ast
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from mentoring.models import MeetingReminder
from mentoring.tasks import meeting_reminders_daily
from notifications.models import Kind, OutboxMessage
from tests.factories import CohortFactory, FellowFactory, MentorFactory, MentorshipFactory

from .conftest import sent_emails, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _task_result(worker, task_id: str, *, timeout=60) -> dict:
    """What the task returned, read from the worker's log (its results are not stored)."""
    pattern = re.compile(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (.*)")
    found = []

    def finished():
        found[:] = pattern.findall(worker.log())
        return bool(found)

    wait_for(finished, timeout=timeout, message=f"task {task_id} to finish on {worker.name}")
    return ast.literal_eval(found[0].strip())


def test_the_daily_reminders_run_on_a_real_worker_and_send_once(
    worker_factory, celery_producer, redis_url, programme_a, staff_a
):
    queue = f"pitwall-test-{uuid.uuid4().hex[:8]}"
    worker = worker_factory(queue=queue, redis_url=redis_url)
    celery_producer(queue=queue)
    # Eighty days into the year the first meeting (due in the first month) has no record: it
    # is overdue, and past the programme's 21 days, so staff are alerted too.
    starts = timezone.localdate() - timedelta(days=80)
    cohort = CohortFactory(
        programme=programme_a, starts_on=starts, ends_on=starts + timedelta(days=364)
    )
    mentorship = MentorshipFactory(
        fellow=FellowFactory(programme=programme_a, cohort=cohort),
        mentor=MentorFactory(programme=programme_a),
        started_on=starts,
    )
    people = sorted([mentorship.fellow.user.email, mentorship.mentor.user.email, staff_a.email])

    first = meeting_reminders_daily.delay()
    assert _task_result(worker, first.id) == {
        "due_soon": 0,
        "overdue": 1,
        "sign_off_waiting": 0,
        "staff_alert": 1,
    }

    def delivered():
        with scopes_disabled():
            return OutboxMessage.objects.filter(
                kind=Kind.REMINDER, status=OutboxMessage.Status.SENT
            ).count() == len(people)

    wait_for(delivered, message="the worker to email the three reminders from the outbox")
    emails = sent_emails(worker.mail_dir)
    assert sorted(e["To"] for e in emails) == people
    subjects = [" ".join(e["Subject"].split()) for e in emails]  # long subjects are folded
    assert sum("is overdue" in s for s in subjects) == 2, subjects
    assert sum("have no record of meeting 1" in s for s in subjects) == 1, subjects

    second = meeting_reminders_daily.delay()
    assert _task_result(worker, second.id) == dict.fromkeys(MeetingReminder.Kind.values, 0)
    with scopes_disabled():
        assert MeetingReminder.objects.count() == 2
        assert OutboxMessage.objects.filter(kind=Kind.REMINDER).count() == len(people)
    assert len(sent_emails(worker.mail_dir)) == len(people)
