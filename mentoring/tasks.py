"""Mentoring jobs: thin wrappers around the services, safe to run twice."""

from celery import shared_task
from django_scopes import scope, scopes_disabled

from cohort.models import Programme

from . import services


@shared_task(time_limit=1800, soft_time_limit=1700, acks_late=True)
def meeting_reminders_daily() -> dict[str, int]:
    """Once a day: each programme's meeting reminders and staff alerts. Each reminder is
    recorded as it is sent, so a second run (or a redelivered task) sends nothing new."""
    with scopes_disabled():
        programmes = list(Programme.objects.order_by("pk"))
    sent: dict[str, int] = {}
    for programme in programmes:
        with scope(programme=programme):
            counts = services.meeting_reminders_send(programme=programme)
        for kind, count in counts.items():
            sent[kind] = sent.get(kind, 0) + count
    return sent
