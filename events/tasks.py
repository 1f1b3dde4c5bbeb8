"""Events jobs: thin wrappers around the services, safe to run twice."""

# --- reminders -----------------------------------------------------------------------------------

from celery import shared_task
from django_scopes import scope, scopes_disabled

from cohort.models import Programme


@shared_task(time_limit=1800, soft_time_limit=1700, acks_late=True)
def event_reminders_hourly() -> int:
    """Every hour: each programme's reminders of events starting within the next day. Each
    registration's reminder is claimed as it is sent, so a second run (or a redelivered task)
    sends nothing new. Returns how many reminders were sent."""
    from . import services

    with scopes_disabled():
        programmes = list(Programme.objects.order_by("pk"))
    sent = 0
    for programme in programmes:
        with scope(programme=programme):
            sent += services.event_reminders_send(programme=programme)
    return sent
