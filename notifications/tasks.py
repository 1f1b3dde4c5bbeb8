"""Delivery jobs: thin wrappers around the services, safe to run twice."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django_scopes import scope, scopes_disabled

from cohort.models import Programme
from cohort.tasking import ProgrammeTask

from . import services, webhooks


@shared_task(base=ProgrammeTask, bind=True, time_limit=120, soft_time_limit=100)
def outbox_deliver(self, *, message_id: int, programme_id: int) -> str:
    """Send one outbox message. A second run finds it claimed or sent and does nothing."""
    return services.outbox_send(message_id=message_id)


@shared_task(time_limit=300, soft_time_limit=280, acks_late=True)
def outbox_sweep() -> int:
    """Every minute: send what is still pending (the broker was down, a retry is due, or a
    worker died holding a claim). Each message is claimed before sending, so overlapping
    sweeps and deliveries never send one twice."""
    with scopes_disabled():
        due = services.outbox_due_ids()
        programmes = {p.pk: p for p in Programme.objects.filter(pk__in={p for _, p in due})}
    sent = 0
    for message_id, programme_id in due:
        with scope(programme=programmes[programme_id]):
            if services.outbox_send(message_id=message_id) == "sent":
                sent += 1
    return sent


@shared_task(base=ProgrammeTask, bind=True, time_limit=60, soft_time_limit=50)
def webhook_deliver_task(self, *, delivery_id: int, programme_id: int) -> str:
    """POST one partner webhook. A second run finds it claimed, sent or not yet due."""
    return webhooks.webhook_deliver(delivery_id=delivery_id)


@shared_task(time_limit=300, soft_time_limit=280, acks_late=True)
def webhook_sweep() -> int:
    """Every minute: send the partner webhooks that are due (the broker was down, a retry's
    pause is over, or a worker died holding a claim). Each is claimed before it is sent."""
    with scopes_disabled():
        # Each POST may take the whole timeout: a batch that fits in the time limit, the next
        # sweep takes the rest.
        due = webhooks.webhook_due_ids(limit=40)
        programmes = {p.pk: p for p in Programme.objects.filter(pk__in={p for _, p in due})}
    sent = 0
    for delivery_id, programme_id in due:
        with scope(programme=programmes[programme_id]):
            if webhooks.webhook_deliver(delivery_id=delivery_id) == "sent":
                sent += 1
    return sent


@shared_task(time_limit=1800, soft_time_limit=1700, acks_late=True)
def digest_send_daily() -> int:
    """Once a day: one digest email per person with digest items, none for the others."""
    User = get_user_model()
    built = 0
    with scopes_disabled():
        programmes = list(Programme.objects.all())
    for programme in programmes:
        with scope(programme=programme):
            for user in User.objects.filter(
                pk__in=services.digest_recipients(programme=programme), is_active=True
            ):
                if services.digest_build(programme=programme, user=user) is not None:
                    built += 1
    return built
